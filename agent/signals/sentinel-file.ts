import { watch, type FSWatcher } from "chokidar";
import { basename, join } from "node:path";
import type { Logger } from "../log";
import type { Clock } from "../ports";
import { errorMessage } from "../ports";
import type { ReportListener, Source, SourceReport, SourceStatus } from "./types";
import { findWatchPoint, sentinelExists, type WatchPoint } from "./watch-point";

export interface SentinelFileDeps {
  clock: Clock;
  log: Logger;
  onReport: ReportListener;
}

/**
 * The sentinel file, watched with chokidar over inotify (never polling). The watch sits on the
 * nearest existing real directory and admits only the one entry on the way to the sentinel, so a
 * busy /run costs one inotify watch. Every event only triggers a fresh look (re-arm, then stat):
 * the answer never depends on which event chokidar chose to emit.
 */
export class SentinelFileSource implements Source {
  readonly name = "sentinel-file" as const;
  private watcher: FSWatcher | null = null;
  private point: WatchPoint | null = null;
  private report: SourceReport | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopping: Promise<void> | null = null;
  private signal: AbortSignal | null = null;
  private lastError: string | null = null;

  constructor(
    private readonly path: string,
    private readonly deps: SentinelFileDeps,
  ) {}

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    signal.addEventListener("abort", () => void this.stopped(), { once: true });
    await this.look();
  }

  resync(): Promise<void> {
    return this.look();
  }

  /** Serialises looks: a burst of events costs one look in progress and at most one after it. */
  private look(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.lookOnce();
      } while (this.again && !this.signal?.aborted);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async lookOnce(): Promise<void> {
    if (this.signal?.aborted) return;
    try {
      await this.arm();
      // arm() also returns when the new watch failed at once (its error handler cleared point).
      if (this.point) this.lastError = null;
    } catch (err) {
      const message = errorMessage(err);
      if (message !== this.lastError) this.deps.log.warning("cannot watch the sentinel file; will look again at the next resync", { path: this.path, err });
      this.lastError = message;
    }
    // Stat after the watch is in place: anything created before it was armed is seen here, anything after by the watch.
    const exists = await sentinelExists(this.path);
    this.publish(exists);
  }

  private async arm(): Promise<void> {
    const point = await findWatchPoint(this.path);
    const same = this.point && this.point.dir === point.dir && this.point.child === point.child && this.point.identity === point.identity;
    if (this.watcher && same) return;
    const old = this.watcher;
    this.watcher = null;
    await old?.close();
    if (this.signal?.aborted) return;
    this.point = point;
    const wanted = join(point.dir, point.child);
    const watcher = watch(point.dir, {
      depth: 0,
      ignoreInitial: true,
      // atomic would hold an unlink back 100 ms to merge it with a re-add; every event is only a hint here.
      atomic: false,
      followSymlinks: true,
      usePolling: false,
      ignored: (p: string) => p !== point.dir && p !== wanted,
    });
    this.watcher = watcher;
    watcher.on("all", (event, p) => {
      this.deps.log.debug("sentinel watch event", { event, path: p });
      void this.look();
    });
    // chokidar's own events are deduplicated: create/remove cycles a few tens of ms apart lose
    // their second unlink (seen with chokidar 5.0.0). The raw inotify events of the directory
    // watch are not, so they trigger a look as well; the entry name filters out the neighbours.
    watcher.on("raw", (event, name) => {
      if (name !== point.child && name !== basename(point.dir)) return;
      this.deps.log.debug("sentinel watch event", { event, path: name, raw: true });
      void this.look();
    });
    // A watch that fails (a symlink loop at the sentinel's name: ELOOP on every attempt) is re-armed
    // at the next look (an event in the directory, or the periodic resync), not at once: at once
    // it failed again at once, ~780 warnings a second. The same error is logged once.
    watcher.on("error", (err) => {
      const message = errorMessage(err);
      if (message !== this.lastError) this.deps.log.warning("sentinel watch error; will re-arm at the next change or resync", { dir: point.dir, err });
      this.lastError = message;
      this.point = null;
    });
    await new Promise<void>((resolve) => {
      watcher.once("ready", () => resolve());
      watcher.once("error", () => resolve());
    });
    this.deps.log.debug("watching for the sentinel file", { path: this.path, dir: point.dir, entry: point.child });
  }

  private publish(exists: boolean): void {
    const prev = this.report;
    if (prev && prev.needed === exists) return;
    this.report = {
      source: this.name,
      needed: exists,
      health: "ok",
      detail: exists ? `${this.path} exists` : `${this.path} does not exist`,
      since: this.deps.clock.now(),
    };
    this.deps.onReport(this.report);
  }

  stopped(): Promise<void> {
    this.stopping ??= (async () => {
      await this.running?.catch(() => {});
      const w = this.watcher;
      this.watcher = null;
      await w?.close();
    })();
    return this.stopping;
  }

  status(): SourceStatus {
    return {
      source: this.name,
      enabled: true,
      report: this.report,
      facts: { path: this.path, watchedDir: this.point?.dir ?? null, watchedEntry: this.point?.child ?? null, watchError: this.lastError },
    };
  }
}
