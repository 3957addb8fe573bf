// Replaced at bundle time by esbuild `define`; the fallbacks serve `tsx` and the tests.
declare const __SLUICE_VERSION__: string | undefined;
declare const __SLUICE_COMMIT__: string | undefined;

export const VERSION = typeof __SLUICE_VERSION__ === "string" ? __SLUICE_VERSION__ : "0.0.0-dev";
export const COMMIT = typeof __SLUICE_COMMIT__ === "string" ? __SLUICE_COMMIT__ : "unknown";

export function versionInfo(): { version: string; commit: string; node: string; arch: string; platform: string } {
  return { version: VERSION, commit: COMMIT, node: process.version, arch: process.arch, platform: process.platform };
}
