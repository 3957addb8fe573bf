/**
 * A private dbus-daemon on a socket in a temp directory, and a fake Flatcar update_engine written
 * with dbus-next: the same name, path, interface, method and signal as the real one.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as dbus from "dbus-next";

export const hasDbusDaemon = spawnSync("dbus-daemon", ["--version"]).status === 0;

/** Like the system bus policy where it matters: anyone may own names and send signals; root is who emits on Flatcar. */
function busConfig(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
`;
}

export class PrivateBus {
  readonly socket: string;
  readonly address: string;
  private proc: ChildProcess | null = null;

  constructor(dir: string) {
    this.socket = join(dir, "system_bus_socket");
    this.address = `unix:path=${this.socket}`;
    writeFileSync(join(dir, "bus.conf"), busConfig(this.socket));
  }

  async start(): Promise<void> {
    const conf = join(this.socket, "..", "bus.conf");
    const proc = spawn("dbus-daemon", ["--config-file", conf, "--nofork", "--nopidfile", "--nosyslog", "--print-address"], { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    // Kept for failures only: in a container without CAP_SYS_RESOURCE it complains about its fd limit at every start.
    let stderr = "";
    proc.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.once("error", reject);
      proc.once("exit", (code) => reject(new Error(`dbus-daemon exited with ${code}: ${stderr}`)));
      proc.stdout!.once("data", () => resolve());
    });
    if (!existsSync(this.socket)) throw new Error("dbus-daemon did not create its socket");
  }

  /** Kills the daemon: every connection ends, as when dbus.service restarts. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  }
}

export const NEED_REBOOT = "UPDATE_STATUS_UPDATED_NEED_REBOOT";
/** What update_engine says while it finds, fetches and installs an update. */
export const UPDATE_SEQUENCE = [
  "UPDATE_STATUS_CHECKING_FOR_UPDATE",
  "UPDATE_STATUS_UPDATE_AVAILABLE",
  "UPDATE_STATUS_DOWNLOADING",
  "UPDATE_STATUS_DOWNLOADING",
  "UPDATE_STATUS_FINALIZING",
  NEED_REBOOT,
] as const;

type Body = [bigint, number, string, string, bigint];

class Manager extends dbus.interface.Interface {
  status: Body = [0n, 0, "UPDATE_STATUS_IDLE", "", 0n];
  GetStatus(): Body {
    return this.status;
  }
  StatusUpdate(...body: Body): Body {
    return body;
  }
}
Manager.configureMembers({
  methods: { GetStatus: { inSignature: "", outSignature: "xdssx" } },
  signals: { StatusUpdate: { signature: "xdssx" } },
});

/** The fake update_engine: owns com.coreos.update1 and answers GetStatus, emits StatusUpdate. */
export class FakeUpdateEngine {
  readonly bus: dbus.MessageBus;
  private readonly manager = new Manager("com.coreos.update1.Manager");

  private constructor(address: string) {
    this.bus = dbus.sessionBus({ busAddress: address, authMethods: ["EXTERNAL"] });
    this.bus.on("error", () => {});
  }

  static async start(address: string, initial = "UPDATE_STATUS_IDLE", newVersion = ""): Promise<FakeUpdateEngine> {
    const engine = new FakeUpdateEngine(address);
    engine.manager.status = [1700000000n, 0, initial, newVersion, 0n];
    engine.bus.export("/com/coreos/update1", engine.manager);
    await engine.bus.requestName("com.coreos.update1", dbus.NameFlag.DO_NOT_QUEUE);
    return engine;
  }

  /** The unique name the bus gave this connection. */
  get uniqueName(): string {
    return (this.bus as unknown as { name: string }).name;
  }

  /** Sets the status and emits StatusUpdate, as update_engine does on every change. */
  emit(operation: string, newVersion = "", progress = 0): void {
    const body: Body = [BigInt(Math.floor(Date.now() / 1000)), progress, operation, newVersion, 461373440n];
    this.manager.status = body;
    this.manager.StatusUpdate(...body);
  }

  /** Walks through a whole update, ending in UPDATED_NEED_REBOOT with `newVersion`. */
  async walkUpdate(newVersion: string, gapMs = 5): Promise<void> {
    for (const [i, op] of UPDATE_SEQUENCE.entries()) {
      const staged = op === "UPDATE_STATUS_CHECKING_FOR_UPDATE" ? "" : newVersion;
      this.emit(op, staged, op === "UPDATE_STATUS_DOWNLOADING" ? (i - 1) / 3 : op === NEED_REBOOT ? 1 : 0);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  stop(): void {
    this.bus.disconnect();
  }
}

/** Another connection (any root process) emitting a look-alike StatusUpdate. */
export async function spoofStatusUpdate(address: string, operation = NEED_REBOOT, newVersion = "6666.6.6"): Promise<string> {
  const bus = dbus.sessionBus({ busAddress: address, authMethods: ["EXTERNAL"] });
  bus.on("error", () => {});
  await new Promise<void>((r) => bus.once("connect", () => r()));
  const name = (bus as unknown as { name: string }).name;
  bus.send(dbus.Message.newSignal("/com/coreos/update1", "com.coreos.update1.Manager", "StatusUpdate", "xdssx", [0n, 1, operation, newVersion, 0n]));
  // A round trip to the bus guarantees the signal left before we hang up.
  await bus.call(new dbus.Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "GetId" }));
  bus.disconnect();
  return name;
}
