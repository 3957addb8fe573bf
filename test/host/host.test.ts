import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HostError, LinuxHost, nodeFs, parseOsRelease, runCommand } from "../../agent/host";
import { tempDir } from "../helpers/tmp";

describe("running commands", () => {
  it("returns exit code and output", async () => {
    const r = await runCommand(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    expect(r).toEqual({ exitCode: 3, signal: null, stdout: "out\n", stderr: "err\n", timedOut: false });
  });

  it("kills a command that outlives its timeout", async () => {
    const started = performance.now();
    const r = await runCommand(["sleep", "30"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe("SIGTERM");
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("rejects with a clear error when the command cannot start", async () => {
    const err = await runCommand(["/nonexistent/reboot-check"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostError);
    expect((err as HostError).code).toBe("spawn-failed");
    expect((err as HostError).message).toBe("cannot run /nonexistent/reboot-check: ENOENT");
  });
});

describe("LinuxHost", () => {
  it("reads the boot id and os-release from the files it is pointed at", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "boot_id"), "0f6b7c9e-1111-2222-3333-444455556666\n");
    writeFileSync(join(dir, "os-release"), 'NAME="Flatcar Container Linux by Kinvolk"\nID=flatcar\nVERSION=4459.2.1\nVERSION_ID=4459.2.1\nPRETTY_NAME="Flatcar Container Linux by Kinvolk 4459.2.1 (Oklo)"\n');
    const host = new LinuxHost({ rebootCommand: ["true"], env: {}, bootIdPath: join(dir, "boot_id"), osReleasePath: join(dir, "os-release") });
    expect(await host.bootId()).toBe("0f6b7c9e-1111-2222-3333-444455556666");
    const os = await host.osRelease();
    expect(os.id).toBe("flatcar");
    expect(os.version).toBe("4459.2.1");
    expect(os.fields.PRETTY_NAME).toBe("Flatcar Container Linux by Kinvolk 4459.2.1 (Oklo)");
  });

  it("reads this machine's real boot id", async () => {
    const id = await new LinuxHost({ rebootCommand: ["true"], env: {} }).bootId();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reboots by running rebootCommand, and reports its failure", async () => {
    const dir = tempDir();
    const marker = join(dir, "rebooted");
    await new LinuxHost({ rebootCommand: ["sh", "-c", `echo now > ${marker}`], env: {} }).reboot();
    expect(readFileSync(marker, "utf8")).toBe("now\n");
    const err = await new LinuxHost({ rebootCommand: ["sh", "-c", "echo denied >&2; exit 1"], env: {} }).reboot().catch((e: unknown) => e);
    expect((err as HostError).code).toBe("reboot-failed");
    expect((err as HostError).message).toBe("sh -c echo denied >&2; exit 1 failed (exit code 1): denied");
  });

  it("does not talk to systemd outside a unit", async () => {
    const host = new LinuxHost({ rebootCommand: ["true"], env: {} });
    await expect(host.notifyReady()).resolves.toBeUndefined();
  });
});

describe("os-release parsing", () => {
  it("unquotes and unescapes", () => {
    const os = parseOsRelease("ID='debian'\nVERSION=\"12 (\\\"bookworm\\\")\"\n# comment\nBAD LINE\n");
    expect(os).toEqual({ id: "debian", version: '12 ("bookworm")', fields: { ID: "debian", VERSION: '12 ("bookworm")' } });
  });
});

describe("atomic writes", () => {
  it("replaces the file whole, with the mode asked for", async () => {
    const dir = tempDir();
    const p = join(dir, "state.json");
    await nodeFs.writeFileAtomic(p, '{"version":1}');
    await nodeFs.writeFileAtomic(p, '{"version":2}');
    expect(readFileSync(p, "utf8")).toBe('{"version":2}');
    expect(await nodeFs.mode(p)).toBe(0o600);
    expect((await nodeFs.list(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(await nodeFs.list(join(dir, "missing"))).toEqual([]);
  });
});
