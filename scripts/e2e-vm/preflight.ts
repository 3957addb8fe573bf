/**
 * Whether this machine can run the VM end-to-end test at all: QEMU's system emulator and
 * debootstrap must run (debootstrap only as root). Anything else missing is a failure, not a skip:
 * scripts/deb-packages.txt installs it.
 */
import { spawnSync } from "node:child_process";

/** debootstrap, mkfs.ext4 and chroot live in sbin, which a CI's PATH may not name. */
export const TOOL_ENV = { ...process.env, PATH: `${process.env.PATH ?? "/usr/bin:/bin"}:/usr/sbin:/sbin` };

export function preflight(): { ok: true } | { ok: false; reason: string } {
  for (const [cmd, arg] of [["qemu-system-x86_64", "--version"], ["debootstrap", "--version"]] as const) {
    const r = spawnSync(cmd, [arg], { encoding: "utf8", timeout: 20_000, env: TOOL_ENV });
    if (r.error || r.status !== 0) return { ok: false, reason: `${cmd} cannot run here (${r.error?.message ?? `exit ${r.status}`}); install it with scripts/setup.sh (scripts/deb-packages.txt)` };
  }
  if (process.getuid?.() !== 0) return { ok: false, reason: "debootstrap needs root to build the guest image" };
  return { ok: true };
}
