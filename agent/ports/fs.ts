/** File-system access for state and configuration, so tests can point it anywhere. */
export interface Fs {
  readFile(path: string): Promise<string>;
  /** Writes via a temporary file, fsync and rename: a reader sees the old or the new content. */
  writeFileAtomic(path: string, data: string, mode?: number): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** File names (not paths) in a directory; [] when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** Permission bits of a file (e.g. 0o600). */
  mode(path: string): Promise<number>;
  /** What is at `path`, following symlinks ("missing" also for a dangling one). Never throws for a path that cannot be looked at: "other". */
  kind(path: string): Promise<"file" | "directory" | "missing" | "other">;
}
