/**
 * One QEMU guest under TCG (KVM is not usable on our machines): the kernel and initrd on the
 * command line, the console (with the journal forwarded to it) in console.log, user-mode
 * networking with restrict=on whose only way out is a guest forward of 10.0.2.100:6443 to the API
 * server on the host's loopback, and a virtio-serial control channel (guest/e2e-control) through
 * which the test runs commands in the guest and learns each boot's id. QEMU restarts the guest in
 * the same process when it reboots, so one Vm lives through every reboot of a run.
 */
import type { ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { spawnGuarded, stopGuarded } from "./guard";
import { setTimeout as sleep } from "node:timers/promises";

/** Where the guest finds the API server; fixed, so the rendered kubeconfig never changes. */
export const GUEST_API = "http://10.0.2.100:6443";

export interface VmOptions {
  dir: string;
  base: string;
  disk: string;
  /** The host loopback port the guest forward leads to. */
  apiPort: number;
  cpus?: number;
  memoryMiB?: number;
}

export class Vm {
  readonly console: string;
  /** Boot ids in the order the guest greeted with them (one per boot). */
  readonly boots: { id: string; at: number }[] = [];
  private child?: ChildProcess;
  private exited?: number | null;
  private ctl?: Socket;
  private buf = "";
  private pending?: { out: string[]; resolve(v: { rc: number; out: string }): void; reject(e: Error): void };
  private queue: Promise<unknown> = Promise.resolve();
  private sockDir?: string;

  constructor(private readonly o: VmOptions) {
    this.console = join(o.dir, "console.log");
  }

  async start(): Promise<void> {
    // A unix socket's path must fit in 108 bytes; the run directory's may not.
    this.sockDir = mkdtempSync(join(tmpdir(), "sluice-e2e-"));
    const sock = join(this.sockDir, "ctl.sock");
    const args = [
      "-accel", "tcg,thread=multi", "-smp", String(this.o.cpus ?? 2), "-m", String(this.o.memoryMiB ?? 1024),
      "-nographic", "-nodefaults", "-no-user-config", "-rtc", "base=utc",
      "-kernel", join(this.o.base, "vmlinuz"), "-initrd", join(this.o.base, "initrd.img"),
      // The journal goes to the console too: console.log is the guest's whole story, kept on failure.
      "-append", "console=ttyS0 root=/dev/vda rw systemd.journald.forward_to_console=1 systemd.log_color=0",
      "-drive", `file=${this.o.disk},if=virtio,format=raw`,
      "-netdev", `user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:6443-cmd:socat - TCP:127.0.0.1:${this.o.apiPort}`,
      "-device", "virtio-net-pci,netdev=n0,romfile=",
      "-chardev", `file,id=con,path=${this.console}`, "-serial", "chardev:con",
      "-chardev", `socket,id=ctl,path=${sock},server=on,wait=off`, "-device", "virtio-serial-pci", "-device", "virtserialport,chardev=ctl,name=org.sluice.e2e",
    ];
    const log = createWriteStream(join(this.o.dir, "qemu.log"));
    this.child = spawnGuarded(["qemu-system-x86_64", ...args]);
    this.child.stdout!.pipe(log);
    this.child.stderr!.pipe(log);
    this.child.on("exit", (code) => {
      this.exited = code;
      this.pending?.reject(new Error(`qemu exited (${code})`));
    });
    for (let i = 0; !existsSync(sock); i++) {
      if (this.exited !== undefined || i > 100) throw new Error(`qemu did not start: ${readFileSync(join(this.o.dir, "qemu.log"), "utf8").slice(-2000)}`);
      await sleep(100);
    }
    this.ctl = connect(sock);
    this.ctl.setEncoding("utf8");
    this.ctl.on("data", (d: string) => this.onData(d));
    this.ctl.on("error", () => {});
    await new Promise<void>((r, j) => this.ctl!.once("connect", r).once("error", j));
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const hello = /^hello boot=([0-9a-f-]{36})$/.exec(line);
      if (hello) {
        this.boots.push({ id: hello[1]!, at: Date.now() });
        // A command cannot outlive the boot it ran in.
        this.pending?.reject(new Error("the guest rebooted while a command ran"));
        this.pending = undefined;
      } else if (this.pending && line.startsWith("| ")) this.pending.out.push(line.slice(2));
      else if (this.pending && /^rc \d+$/.test(line)) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve({ rc: Number(line.slice(3)), out: p.out.join("\n") });
      }
    }
  }

  /** Runs one shell command in the guest (one at a time); its output and exit code. */
  exec(cmd: string, timeoutMs = 60_000): Promise<{ rc: number; out: string }> {
    if (cmd.includes("\n")) throw new Error("one line per command");
    const next = this.queue.then(
      () =>
        new Promise<{ rc: number; out: string }>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.pending = undefined;
            reject(new Error(`guest command timed out after ${timeoutMs} ms: ${cmd}`));
          }, timeoutMs);
          this.pending = {
            out: [],
            resolve: (v) => (clearTimeout(timer), resolve(v)),
            reject: (e) => (clearTimeout(timer), reject(e)),
          };
          this.ctl!.write(`${cmd}\n`);
        }),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  async mustExec(cmd: string, timeoutMs?: number): Promise<string> {
    const r = await this.exec(cmd, timeoutMs);
    if (r.rc !== 0) throw new Error(`guest: ${cmd}: exit ${r.rc}: ${r.out}`);
    return r.out;
  }

  consoleText(): string {
    try {
      return readFileSync(this.console, "utf8");
    } catch {
      return "";
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  async stop(): Promise<void> {
    this.ctl?.destroy();
    if (this.child) await stopGuarded(this.child);
    if (this.sockDir) rmSync(this.sockDir, { recursive: true, force: true });
  }
}
