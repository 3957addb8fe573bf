/** What a reboot blocker reports. A gate that cannot be evaluated blocks, and says why. */
export type GateName = "pods" | "alerts";

export interface GateResult {
  gate: GateName;
  blocked: boolean;
  /** One line each for the log, `sluice status` and the Event. */
  reasons: string[];
  /** The gate could not be evaluated (API or Prometheus unreachable, bad answer): it blocks. */
  error?: boolean;
}

export interface BlockersResult {
  blocked: boolean;
  reasons: string[];
  gates: GateResult[];
}
