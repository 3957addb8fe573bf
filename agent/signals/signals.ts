import type { Logger } from "../log";
import type { Clock, Host } from "../ports";
import { SluiceError } from "../ports";
import { DEFAULT_SYSTEM_BUS_ADDRESS, type BusConnector } from "./dbus";
import { combineNeed, enabledSources, needChanged } from "./decide";
import { SentinelCommandSource } from "./sentinel-command";
import { SentinelFileSource } from "./sentinel-file";
import type { RebootNeed, SignalsOptions, SignalsStatus, Source, SourceName, SourceReport } from "./types";
import { UpdateEngineSource } from "./update-engine";

export interface SignalsDeps {
  clock: Clock;
  log: Logger;
  /** Needed only when a sentinel command is configured. */
  host?: Pick<Host, "run">;
  /** Default: the system bus socket; cli/ passes systemBusAddress(env) to honour DBUS_SYSTEM_BUS_ADDRESS. */
  busAddress?: string;
  connectBus?: BusConnector;
  /** update_engine reconnect backoff (default 1 s doubling to 60 s). */
  dbusRetry?: { initialMs: number; maxMs: number };
  dbusCallTimeoutMs?: number;
}

export type NeedListener = (need: RebootNeed) => void;

/** One stream of "reboot needed or not, and why" for the state machine. */
export interface RebootSignals {
  /** Starts every source; resolves with the first combined answer once each source has looked once. Runs until `signal` aborts. */
  start(signal: AbortSignal): Promise<RebootNeed>;
  /** The latest combined answer (not needed, no reasons, before start). */
  current(): RebootNeed;
  /** For `sluice status`: the answer plus each source's health and facts. */
  status(): SignalsStatus;
  /** Called on every change of the answer, of which sources say "needed", or of the staged version. Returns an unsubscribe. */
  onChange(listener: NeedListener): () => void;
  /** The current answer, then every change, until `signal` aborts. */
  changes(signal: AbortSignal): AsyncIterable<RebootNeed>;
  /** Resolves once watchers, timers and connections are released after the start signal aborted. */
  stopped(): Promise<void>;
}

export function createRebootSignals(options: SignalsOptions, deps: SignalsDeps): RebootSignals {
  if (!(options.periodMs > 0)) throw new SluiceError("signals.bad-period", `period must be positive, got ${options.periodMs} ms`);
  const log = deps.log.child({ component: "signals" });
  const reports = new Map<SourceName, SourceReport>();
  const listeners = new Set<NeedListener>();
  let need: RebootNeed = { needed: false, reasons: [] };
  let started = false;

  const onReport = (report: SourceReport) => {
    reports.set(report.source, report);
    if (started) recompute();
  };
  const recompute = () => {
    const next = combineNeed([...reports.values()], need, deps.clock.now());
    const changed = needChanged(need, next);
    const flipped = next.needed !== need.needed;
    need = next;
    if (!changed) return;
    const why = next.reasons.filter((r) => r.needed).map((r) => `${r.source}: ${r.detail}`);
    if (flipped) log.notice(next.needed ? "reboot needed" : "reboot no longer needed", { reasons: why, newVersion: next.newVersion });
    else log.info("reboot need changed", { reasons: why, newVersion: next.newVersion });
    for (const l of listeners) {
      try {
        l(next);
      } catch (err) {
        log.error("a reboot-need listener failed", { err });
      }
    }
  };

  const sources: Source[] = [];
  const names = enabledSources(options);
  const argv = options.rebootSentinelCommand?.length ? options.rebootSentinelCommand : null;
  const sub = (name: SourceName) => ({ clock: deps.clock, log: log.child({ source: name }), onReport });
  for (const name of names) {
    if (name === "sentinel-file") sources.push(new SentinelFileSource(options.rebootSentinel, sub(name)));
    if (name === "sentinel-command" && argv) {
      if (!deps.host) throw new SluiceError("signals.no-host", "a reboot sentinel command is configured but no host runner was provided");
      sources.push(new SentinelCommandSource(argv, options.periodMs, options.sentinelCommandTimeoutMs, { ...sub(name), host: deps.host }));
    }
    if (name === "update-engine" && options.updateEngine !== "off") {
      sources.push(
        new UpdateEngineSource(options.updateEngine, {
          ...sub(name),
          busAddress: deps.busAddress ?? DEFAULT_SYSTEM_BUS_ADDRESS,
          connect: deps.connectBus,
          retryInitialMs: deps.dbusRetry?.initialMs,
          retryMaxMs: deps.dbusRetry?.maxMs,
          callTimeoutMs: deps.dbusCallTimeoutMs,
        }),
      );
    }
  }

  let resyncLoop: Promise<void> = Promise.resolve();

  return {
    async start(signal) {
      if (started) throw new SluiceError("signals.already-started", "reboot signals were already started");
      await Promise.all(sources.map((s) => s.start(signal)));
      started = true;
      recompute();
      // The resync DESIGN.md asks for: every period, each source looks again, in case an event was missed.
      resyncLoop = (async () => {
        while (!signal.aborted) {
          try {
            await deps.clock.sleep(options.periodMs, signal);
          } catch {
            break;
          }
          await Promise.all(sources.map((s) => s.resync()));
        }
      })();
      return need;
    },
    current: () => need,
    status: () => ({ need, sources: sources.map((s) => s.status()) }),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    changes(signal) {
      return changeStream(this, signal);
    },
    async stopped() {
      await resyncLoop;
      await Promise.all(sources.map((s) => s.stopped()));
    },
  };
}

async function* changeStream(signals: RebootSignals, signal: AbortSignal): AsyncGenerator<RebootNeed> {
  const queue: RebootNeed[] = [signals.current()];
  let wake: (() => void) | null = null;
  const off = signals.onChange((n) => {
    queue.push(n);
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    off();
    signal.removeEventListener("abort", onAbort);
  }
}
