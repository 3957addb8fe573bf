import { summarize, type DrainResult } from "../drain";
import type { DrainReport } from "./store";

/** What of a drain is kept in state.json for `sluice status`: the outcome and who held it. */
export function drainReport(result: DrainResult, at: number): DrainReport {
  return {
    outcome: result.outcome,
    at,
    durationMs: result.durationMs,
    evicted: result.evicted,
    held: result.held.map((p) => ({ ...p, pdbs: [...p.pdbs] })),
    pdbs: [...result.pdbs],
    summary: summarize(result),
    ...(result.error ? { error: result.error } : {}),
  };
}
