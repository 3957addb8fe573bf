import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Fs } from "../ports";

export const nodeFs: Fs = {
  /**
   * Only regular files: a FIFO would block the read (and open) forever, /dev/zero would never
   * end. O_NONBLOCK lets open() return for a FIFO so that fstat can refuse it.
   */
  async readFile(path) {
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (!st.isFile()) {
        const kind = st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : st.isCharacterDevice() || st.isBlockDevice() ? "a device" : st.isSocket() ? "a socket" : "not a regular file";
        throw Object.assign(new Error(`${path} is ${kind}, not a regular file`), { code: st.isDirectory() ? "EISDIR" : "EINVAL" });
      }
      return await fh.readFile("utf8");
    } finally {
      await fh.close();
    }
  },

  async writeFileAtomic(path, data, mode = 0o600) {
    const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
    const fh = await open(tmp, "wx", mode);
    try {
      await fh.writeFile(data, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    // The rename is durable only once the directory entry is on disk.
    const dir = await open(dirname(path), "r");
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },

  exists: (path) =>
    access(path).then(
      () => true,
      () => false,
    ),

  async list(dir) {
    try {
      return await readdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  },

  mode: async (path) => (await stat(path)).mode & 0o777,
};
