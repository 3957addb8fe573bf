/**
 * The unit as systemd reads it, and the sd_notify path it relies on (Type=notify with
 * NotifyAccess=all, READY sent by systemd-notify as a child of sluice).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LinuxHost } from "../../agent/host";
import { renderUnit } from "../../agent/render";
import { tempDir } from "../helpers/tmp";
import { render, run, scratchRoot } from "./harness";

describe("the unit", () => {
  it.each(["/opt/bin/sluice", "/usr/bin/sluice"])("with ExecStart=%s passes systemd-analyze verify with no output at all", async (execPath) => {
    const dir = tempDir();
    const { root } = scratchRoot(dir);
    const unitDir = execPath.startsWith("/usr") ? "usr/lib/systemd/system" : "etc/systemd/system";
    mkdirSync(join(root, unitDir), { recursive: true });
    writeFileSync(join(root, unitDir, "sluice.service"), renderUnit({ execPath }));
    mkdirSync(join(root, execPath, ".."), { recursive: true });
    writeFileSync(join(root, execPath), "#!/bin/sh\n");
    chmodSync(join(root, execPath), 0o755);
    const r = await run(["systemd-analyze", "verify", `--root=${root}`, "sluice.service"]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("says what the job needs and nothing more", () => {
    const unit = renderUnit({ execPath: "/opt/bin/sluice" });
    const values = (key: string) => unit.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
    expect(values("Type")).toEqual(["notify"]);
    expect(values("NotifyAccess")).toEqual(["all"]);
    expect(values("Restart")).toEqual(["on-failure"]);
    expect(values("RestartPreventExitStatus")).toEqual(["78 64"]);
    expect(values("StateDirectory")).toEqual(["sluice"]);
    expect(values("Wants")).toEqual(["network-online.target"]);
    expect(values("After")[0]!.split(" ")).toEqual(expect.arrayContaining(["network-online.target", "kubelet.service"]));
    // Requires= on the kubelet would fail the unit where there is none (a control-plane-less test host).
    expect(values("Requires")).toEqual([]);
    expect(values("CapabilityBoundingSet")).toEqual(["CAP_SYS_BOOT"]);
    expect(values("ProtectSystem")).toEqual(["strict"]);
  });

  it("refuses an ExecStart path systemd would split or resolve elsewhere", () => {
    expect(() => renderUnit({ execPath: "opt/bin/sluice" })).toThrow(/absolute/);
    expect(() => renderUnit({ execPath: "/opt/my bin/sluice" })).toThrow(/spaces/);
  });

  it("`sluice render unit` prints it", async () => {
    const r = await render(["unit", "--exec-path", "/usr/bin/sluice"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderUnit({ execPath: "/usr/bin/sluice" }));
    expect((await render(["unit", "--exec-path", "relative"])).code).toBe(64);
  });
});

/**
 * A stand-in for PID 1's notify socket: a unix datagram socket with SO_PASSCRED that reports
 * each message with the sender PID the kernel vouches for, and closes the fd of a BARRIER=1 the
 * way PID 1 does once it has processed everything before it.
 */
const RECEIVER = `
import socket, sys, json, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print("listening", flush=True)
s.settimeout(20)
while True:
    data, anc, flags, addr = s.recvmsg(4096, 1024)
    pid, fds = None, []
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = int.from_bytes(payload[0:4], "little")
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            a = array.array("i"); a.frombytes(payload[: len(payload) - len(payload) % 4]); fds = list(a)
    text = data.decode()
    print(json.dumps({"pid": pid, "text": text, "fds": len(fds)}), flush=True)
    for fd in fds:
        os.close(fd)
    if "BARRIER=1" in text:
        break
`;

async function receive(dir: string, send: (sock: string) => Promise<void>): Promise<Array<{ pid: number; text: string; fds: number }>> {
  const sock = join(dir, "notify");
  writeFileSync(join(dir, "receiver.py"), RECEIVER);
  const receiver = spawn("python3", [join(dir, "receiver.py"), sock], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  receiver.stdout.on("data", (d) => (out += d));
  try {
    await expect.poll(() => out, { timeout: 10_000 }).toContain("listening");
    await send(sock);
    // send() returned only after the barrier was answered: every message is already in.
    return out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { pid: number; text: string; fds: number });
  } finally {
    receiver.kill();
  }
}

describe("sd_notify through systemd-notify", () => {
  it("LinuxHost.notifyReady delivers READY=1 and returns only once the manager has read it", async () => {
    const messages = await receive(tempDir(), async (sock) => {
      const saved = process.env.NOTIFY_SOCKET;
      process.env.NOTIFY_SOCKET = sock;
      try {
        await new LinuxHost({ rebootCommand: ["true"], env: { NOTIFY_SOCKET: sock } }).notifyReady();
      } finally {
        if (saved === undefined) delete process.env.NOTIFY_SOCKET;
        else process.env.NOTIFY_SOCKET = saved;
      }
    });
    expect(messages[0]!.text).toContain("READY=1");
    expect(messages.at(-1)).toMatchObject({ text: "BARRIER=1", fds: 1 });
    // With CAP_SYS_ADMIN (root outside the unit) systemd-notify even speaks for its parent.
    if (process.getuid?.() === 0) expect(messages[0]!.pid).toBe(process.pid);
  });

  it("without CAP_SYS_ADMIN (as under the unit's CapabilityBoundingSet) READY comes from the child, which still waits for the barrier", async () => {
    const messages = await receive(tempDir(), async (sock) => {
      const r = await run(["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-all", "--", "systemd-notify", "--ready"], { env: { ...process.env, NOTIFY_SOCKET: sock }, timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(0);
    });
    expect(messages[0]!.text).toContain("READY=1");
    // Not our PID: PID 1 accepts it only because of NotifyAccess=all, and finds the sender's
    // cgroup because systemd-notify is still alive, blocked on the barrier.
    expect(messages[0]!.pid).not.toBe(process.pid);
    expect(messages.at(-1)).toMatchObject({ text: "BARRIER=1", fds: 1, pid: messages[0]!.pid });
  });

  it("is a no-op outside systemd", async () => {
    await expect(new LinuxHost({ rebootCommand: ["true"], env: {} }).notifyReady()).resolves.toBeUndefined();
  });
});
