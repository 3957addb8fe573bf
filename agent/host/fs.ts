import { randomBytes } from "node:crypto";
import { access, open, readFile, readdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import type { Fs } from "../ports";

export const nodeFs: Fs = {
  readFile: (path) => readFile(path, "utf8"),

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
