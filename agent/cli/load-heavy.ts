/** Loads agent/cli/heavy.ts on first use (a separate chunk in the bundle). */
export function loadHeavy(): Promise<typeof import("./heavy")> {
  return import("./heavy");
}
