import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, open, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Fs } from "../ports";

/** What is read at most from a device (a config file is a few kilobytes). */
const MAX_SPECIAL_READ = 4 << 20;

export const nodeFs: Fs = {
  /**
   * A FIFO or socket would block the read (and the open) forever, and /dev/zero would never end:
   * FIFOs, sockets and directories are refused, and what is not a regular file (`--config
   * /dev/null` is fine) is read only up to MAX_SPECIAL_READ. O_NONBLOCK lets open() return for a
   * FIFO so that fstat can refuse it.
   */
  async readFile(path) {
    const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = await fh.stat();
      if (st.isFile()) return await fh.readFile("utf8");
      if (st.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: "EISDIR" });
      if (st.isFIFO() || st.isSocket()) throw Object.assign(new Error(`${path} is ${st.isFIFO() ? "a FIFO" : "a socket"}, not a regular file`), { code: "EINVAL" });
      const buf = Buffer.alloc(MAX_SPECIAL_READ);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n === buf.length) throw Object.assign(new Error(`${path} is a device that does not end (read ${n} bytes)`), { code: "EFBIG" });
      }
      return buf.subarray(0, n).toString("utf8");
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

  async kind(path) {
    try {
      const st = await stat(path);
      return st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "other";
    }
  },
};
