import type { Message, MessageBus } from "dbus-next";
import type { Logger } from "../log";
import type { Clock } from "../ports";
import { errorMessage } from "../ports";
import * as bus from "./dbus";
import { backoffDelay, engineAbsence, engineNeedsReboot, judgeStatusSignal, parseEngineStatus, spendLogBudget, type EngineStatus, type LogBudget } from "./decide";
import type { ReportListener, Source, SourceHealth, SourceReport, SourceStatus } from "./types";

/** Spoofed or malformed StatusUpdates: one warning a minute at most. */
const IGNORED_LOG_INTERVAL_MS = 60_000;

export interface UpdateEngineDeps {
  clock: Clock;
  log: Logger;
  onReport: ReportListener;
  busAddress: string;
  connect?: bus.BusConnector;
  /** Reconnect backoff; tests shorten it. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  callTimeoutMs?: number;
  random?: () => number;
}

/**
 * Flatcar's update_engine over the system bus: GetStatus once per owner, then StatusUpdate
 * signals, accepted only from the connection that owns com.coreos.update1 right now. Survives
 * update_engine restarting (NameOwnerChanged: ask the new owner) and the bus restarting
 * (reconnect with backoff, subscribe again).
 */
export class UpdateEngineSource implements Source {
  readonly name = "update-engine" as const;
  private report: SourceReport | null = null;
  private status_: EngineStatus | null = null;
  /** undefined: not asked yet on this connection; null: nobody owns the name. */
  private owner: string | null | undefined = undefined;
  private conn: MessageBus | null = null;
  private loop: Promise<void> | null = null;
  private signal: AbortSignal | null = null;
  private wake: AbortController | null = null;
  private saidAbsent = false;
  private attempt = 0;
  private nextRetryAt: number | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly mode: "on" | "auto",
    private readonly deps: UpdateEngineDeps,
  ) {}

  private get timeoutMs(): number {
    return this.deps.callTimeoutMs ?? 5_000;
  }

  start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    return new Promise<void>((firstAnswer) => {
      this.loop = this.run(signal, firstAnswer);
    });
  }

  private async run(signal: AbortSignal, firstAnswer: () => void): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.session(signal, firstAnswer);
      } catch (err) {
        this.unavailable(err);
      }
      firstAnswer();
      if (signal.aborted) break;
      const delay = backoffDelay(this.attempt++, this.deps.retryInitialMs ?? 1_000, this.deps.retryMaxMs ?? 60_000, this.deps.random);
      this.nextRetryAt = this.deps.clock.now() + delay;
      this.wake = new AbortController();
      await this.deps.clock.sleep(delay, AbortSignal.any([signal, this.wake.signal])).catch(() => {});
      this.wake = null;
      this.nextRetryAt = null;
    }
  }

  /** One connection's life: subscribe, ask, then follow signals until the connection ends. */
  private async session(signal: AbortSignal, firstAnswer: () => void): Promise<void> {
    const { clock } = this.deps;
    await bus.loadDbus();
    const conn = (this.deps.connect ?? bus.connectBus)(this.deps.busAddress);
    conn.on("error", () => {}); // reported through whenConnected/whenClosed; an unheard 'error' would crash the process
    const closed = bus.whenClosed(conn);
    // Removed in finally: a host without a bus reconnects forever, and listeners left on the
    // long-lived signal would pile up (and trip Node's MaxListeners warning).
    let onAbort = () => {};
    const aborted = new Promise<string>((resolve) => {
      onAbort = () => resolve("stopping");
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await bus.whenConnected(conn, clock, this.timeoutMs);
      this.conn = conn;
      this.owner = undefined;
      conn.on("message", (msg: Message) => this.onMessage(msg));
      // Subscribe before asking, so no change between the answer and the subscription is lost.
      await bus.addMatch(conn, bus.NAME_OWNER_CHANGED_RULE, clock, this.timeoutMs);
      await bus.addMatch(conn, bus.STATUS_UPDATE_RULE, clock, this.timeoutMs);
      this.attempt = 0;
      this.lastError = null;
      await this.ownerChanged(await bus.getNameOwner(conn, bus.ENGINE_NAME, clock, this.timeoutMs));
      firstAnswer();
      const why = await Promise.race([closed, aborted]);
      if (!signal.aborted) {
        this.deps.log.warning("lost the system bus; reconnecting", { reason: why });
        this.unavailable(new Error(`lost the system bus: ${why}`));
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.conn = null;
      this.owner = undefined;
      conn.disconnect();
    }
  }

  private onMessage(msg: Message): void {
    if (msg.type !== bus.signalType()) return;
    if (msg.interface === bus.BUS_NAME && msg.member === "NameOwnerChanged" && msg.sender === bus.BUS_NAME && msg.body[0] === bus.ENGINE_NAME) {
      const newOwner = typeof msg.body[2] === "string" && msg.body[2] !== "" ? msg.body[2] : null;
      void this.ownerChanged(newOwner).catch((err) => this.deps.log.warning("cannot read update_engine status", { err }));
      return;
    }
    if (msg.path !== bus.ENGINE_PATH || msg.interface !== bus.ENGINE_INTERFACE || msg.member !== "StatusUpdate") return;
    const verdict = judgeStatusSignal(msg.sender, this.owner);
    if (verdict === "owner-unknown") {
      // Before the first GetNameOwner answer: GetStatus follows and supersedes it.
      this.deps.log.debug("StatusUpdate before the owner is known; waiting for GetStatus", { sender: msg.sender });
      return;
    }
    if (verdict === "spoofed") {
      this.ignored("ignoring a StatusUpdate not sent by the owner of com.coreos.update1", {
        sender: msg.sender,
        owner: this.owner ?? "(none)",
        operation: typeof msg.body[2] === "string" ? msg.body[2] : undefined,
      });
      return;
    }
    const status = parseEngineStatus(msg.signature, msg.body);
    if (!status) {
      this.ignored("ignoring a StatusUpdate with an unexpected body", { signature: msg.signature });
      return;
    }
    this.accept(status);
  }

  private ignoredBudget: LogBudget = { lastAt: -Infinity, suppressed: 0 };

  /** A warning for a signal anyone on the bus can send, at most once a minute (spendLogBudget). */
  private ignored(message: string, fields: Record<string, unknown>): void {
    const spent = spendLogBudget(this.ignoredBudget, this.deps.clock.monotonic(), IGNORED_LOG_INTERVAL_MS);
    this.ignoredBudget = spent.next;
    if (spent.log) this.deps.log.warning(message, { ...fields, ...(spent.suppressed > 0 ? { alsoIgnoredSinceLastWarning: spent.suppressed } : {}) });
    else this.deps.log.debug(message, fields);
  }

  private async ownerChanged(owner: string | null): Promise<void> {
    const previous = this.owner;
    this.owner = owner;
    if (owner === null) {
      if (previous) this.deps.log.warning("update_engine left the bus; keeping its last answer until it returns", { previousOwner: previous });
      this.absent(previous ? "update_engine left the bus" : "com.coreos.update1 is not on the system bus");
      return;
    }
    if (previous !== owner) this.deps.log.info("update_engine found on the system bus", { owner });
    await this.fetchStatus();
  }

  private async fetchStatus(): Promise<void> {
    const conn = this.conn;
    const owner = this.owner;
    if (!conn || !owner) return;
    // Addressed to the unique name, so the answer comes from the owner we trust and no other.
    const call = bus.methodCall(owner, bus.ENGINE_PATH, bus.ENGINE_INTERFACE, "GetStatus");
    const reply = await bus.callWithTimeout(conn, call, this.deps.clock, this.timeoutMs);
    if (this.owner !== owner) return; // a newer owner's answer is on its way
    const status = parseEngineStatus(reply.signature, reply.body);
    if (!status) throw new Error(`GetStatus answered an unexpected body (signature ${reply.signature})`);
    this.accept(status);
  }

  private accept(status: EngineStatus): void {
    const before = this.status_?.currentOperation;
    this.status_ = status;
    if (before !== status.currentOperation) {
      this.deps.log.info("update_engine status", { operation: status.currentOperation, newVersion: status.newVersion || undefined });
    }
    const needed = engineNeedsReboot(status);
    this.publish(needed, "ok", status.currentOperation + (needed && status.newVersion ? ` (${status.newVersion})` : ""), needed ? status.newVersion : undefined);
  }

  /** The bus answered, but nobody owns the name (update_engine absent or restarting). */
  private absent(detail: string): void {
    const rule = engineAbsence(this.mode);
    if (rule.log === "warning") this.deps.log.warning("update_engine is not available (updateEngine: on); waiting for it", { detail });
    else if (!this.saidAbsent) this.deps.log.info("update_engine not found; not watching it (updateEngine: auto)", { detail });
    this.saidAbsent = true;
    this.keepLast(rule.health, detail, "signals.update-engine-absent");
  }

  /** The bus itself is unreachable or dropped. */
  private unavailable(err: unknown): void {
    const message = errorMessage(err);
    const rule = engineAbsence(this.mode);
    if (rule.log === "warning") {
      if (message !== this.lastError) this.deps.log.warning("cannot reach update_engine over the system bus; retrying with backoff", { address: this.deps.busAddress, err });
    } else if (!this.saidAbsent) {
      this.deps.log.info("no system bus; not watching update_engine (updateEngine: auto)", { address: this.deps.busAddress, err });
    }
    this.saidAbsent = true;
    this.lastError = message;
    this.keepLast(rule.health, message, "signals.dbus-unavailable");
  }

  /** A need already reported stays until update_engine says otherwise: its going away does not undo an installed update. */
  private keepLast(health: SourceHealth, detail: string, errorCode: string): void {
    const prev = this.report;
    const needed = prev?.needed ?? false;
    const text = needed ? `${detail}; last answer: ${prev?.detail}` : detail;
    this.publish(needed, health, text, needed ? prev?.newVersion : undefined, health === "error" ? errorCode : undefined);
  }

  private publish(needed: boolean, health: SourceHealth, detail: string, newVersion?: string, errorCode?: string): void {
    const prev = this.report;
    if (prev && prev.needed === needed && prev.health === health && prev.detail === detail && prev.newVersion === newVersion) return;
    this.report = {
      source: this.name,
      needed,
      health,
      detail,
      since: prev && prev.needed === needed ? prev.since : this.deps.clock.now(),
      ...(newVersion ? { newVersion } : {}),
      ...(errorCode ? { errorCode } : {}),
    };
    this.deps.onReport(this.report);
  }

  /** Periodic safety net: ask again, or reconnect now instead of at the end of the backoff. */
  async resync(): Promise<void> {
    if (this.signal?.aborted) return;
    if (!this.conn) {
      this.wake?.abort();
      return;
    }
    try {
      if (this.owner === null) await this.ownerChanged(await bus.getNameOwner(this.conn, bus.ENGINE_NAME, this.deps.clock, this.timeoutMs));
      else await this.fetchStatus();
    } catch (err) {
      this.deps.log.warning("cannot read update_engine status", { err });
    }
  }

  async stopped(): Promise<void> {
    await this.loop;
  }

  status(): SourceStatus {
    return {
      source: this.name,
      enabled: true,
      report: this.report,
      facts: {
        mode: this.mode,
        busAddress: this.deps.busAddress,
        connected: this.conn !== null,
        owner: this.owner ?? null,
        operation: this.status_?.currentOperation ?? null,
        newVersion: this.status_?.newVersion || null,
        lastCheckedTime: this.status_ ? Number(this.status_.lastCheckedTime) : null,
        nextRetryAt: this.nextRetryAt,
        lastError: this.lastError,
      },
    };
  }
}
