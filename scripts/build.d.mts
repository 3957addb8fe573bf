// Types of what scripts/build.mjs exports to the benchmarks.
import type { BuildOptions, Metafile, Plugin } from "esbuild";
export function commonOptions(): BuildOptions;
export function mainPlugins(): Plugin[];
export function bundledPackages(metafile: Metafile): Record<string, number>;
export const SEA_EXEC_ARGV: string[];
export const LAZY_BUILTINS: string[];
