import { readlink, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";

/** Where to put an inotify watch so that `target` appearing is seen: an existing directory and the child to look for. */
export interface WatchPoint {
  /** A real (symlink-free) directory that exists now. */
  dir: string;
  /** The entry in `dir` that is the next step towards the target (the target itself when dir is its parent). */
  child: string;
  /**
   * "dev:ino" of `dir`: when a file system is mounted over it or taken away (/run remounted), the
   * path stays the same but the directory is another one, and a watch on the old one sees nothing.
   */
  identity: string;
}

const MAX_LINKS = 40; // as the kernel's ELOOP limit

/**
 * chokidar (like inotify) cannot watch a path whose directory does not exist yet, so we watch the
 * nearest directory that does and move down as the path appears. Symlinks are resolved so the watch
 * sits on the real directory (/var/run -> /run); a dangling link is followed to where its target
 * will appear.
 */
export async function findWatchPoint(target: string): Promise<WatchPoint> {
  let path = resolve(target);
  for (let hops = 0; ; hops++) {
    const parent = dirname(path);
    try {
      const dir = await realpath(parent);
      const st = await stat(dir);
      if (st.isDirectory()) return { dir, child: basename(path), identity: `${st.dev}:${st.ino}` };
    } catch {
      // The parent is missing (or not a directory): look one level up, or through a dangling link.
    }
    if (parent === path) return { dir: parent, child: "", identity: "" };
    let link: string | null = null;
    if (hops < MAX_LINKS) {
      try {
        link = await readlink(parent);
      } catch {
        link = null;
      }
    }
    path = link !== null ? join(isAbsolute(link) ? link : resolve(dirname(parent), link), basename(path)) : parent;
  }
}

/** Whether the sentinel is there. kured tests existence only (any file type); a dangling link is absent. */
export async function sentinelExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
