/**
 * Replays shared/k8s-golden transcripts against a SimServer over HTTP: substitutes values the
 * recorder copied from earlier responses, runs streaming watches in the background while later
 * steps run, and performs the out-of-band actions of 07 (compaction, restart) through test hooks.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { SimServer } from "../../../agent/sim";
import { Mapping, compareBodies } from "./compare";
import type { Recorded, StepException } from "./exceptions";

/**
 * shared/k8s-golden sits beside the repository: next to the main checkout (`/work/main` →
 * `/work/shared`) or two levels up from a worktree (`/work/wt/x` → `/work/shared`).
 * SLUICE_GOLDEN_DIR overrides.
 */
function findGoldenDir(): string {
  if (process.env.SLUICE_GOLDEN_DIR) return process.env.SLUICE_GOLDEN_DIR;
  let dir = join(import.meta.dirname, "../../..");
  for (let i = 0; i < 3; i++) {
    dir = dirname(dir);
    if (existsSync(join(dir, "shared/k8s-golden"))) return join(dir, "shared/k8s-golden");
  }
  throw new Error("shared/k8s-golden not found beside the repository; set SLUICE_GOLDEN_DIR");
}

export const GOLDEN_DIR = findGoldenDir();
export const GOLDEN_DIR_V128 = join(GOLDEN_DIR, "v1.28");

export interface GoldenStep {
  request: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; identity: string; body?: unknown };
  response: { status: number; headers: Record<string, string | string[]>; body: any };
  note?: string;
  timing?: { event_arrival_s: number[]; stream_closed_s: number };
}

export interface GoldenFile {
  file: string;
  id: string;
  steps: GoldenStep[];
  notes?: string[];
}

export function loadGolden(dir = GOLDEN_DIR): GoldenFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d\d-.*\.json$/.test(f))
    .sort()
    .map((f) => ({ file: f, id: f.slice(0, 2), ...(JSON.parse(readFileSync(join(dir, f), "utf8")) as { steps: GoldenStep[]; notes?: string[] }) }));
}

export interface StepResult {
  key: string;
  status: number;
  problems: string[];
}

export class Replayer {
  readonly map = new Mapping();
  private readonly tokens: Record<string, string>;
  private readonly all: GoldenFile[];
  /** The sim's resourceVersion when 07 restarted its watch cache: the oldest a watch may resume from. */
  private restartRv = "";
  /** Every string any request of the set carried (see compareBodies). */
  private readonly sent = new Set<string>();

  constructor(
    private readonly server: SimServer,
    files: GoldenFile[],
    tokens: Record<string, string>,
    private readonly exceptions: Record<string, StepException> = {},
  ) {
    this.all = files;
    this.tokens = { ...tokens };
    const collect = (v: unknown): void => {
      if (typeof v === "string") this.sent.add(v);
      else if (v && typeof v === "object") for (const x of Object.values(v)) collect(x);
    };
    for (const f of files) for (const s of f.steps) collect(s.request.body);
  }

  golden = (file: string, step: number): Recorded => {
    const s = this.all.find((f) => f.id === file)!.steps[step - 1];
    return { status: s.response.status, body: s.response.body };
  };

  /** Replays one file; background watches are awaited before it returns. */
  async replayFile(f: GoldenFile): Promise<StepResult[]> {
    const results: StepResult[] = [];
    const background: Promise<StepResult>[] = [];
    for (let i = 0; i < f.steps.length; i++) {
      const step = f.steps[i];
      const key = `${f.id}#${i + 1}`;
      // 07: the recorder compacted etcd after step 4 and restarted the apiserver after step 7.
      if (f.id === "07" && i + 1 === 5) this.server.compact();
      if (f.id === "07" && i + 1 === 8) {
        this.server.restartWatchCache();
        this.restartRv = String(this.server.store.currentRv());
      }
      const isWatch = step.request.query?.watch === "true";
      const streamsWhileLaterStepsRun = isWatch && (step.timing?.event_arrival_s ?? []).some((t) => t > 0.5) && i + 1 < f.steps.length;
      if (streamsWhileLaterStepsRun) {
        background.push(this.runStep(key, step));
        // Give the watch time to register before the steps that produce its events.
        await new Promise((r) => setTimeout(r, 200));
      } else {
        results.push(await this.runStep(key, step));
      }
    }
    results.push(...(await Promise.all(background)));
    return results;
  }

  private substitute(kind: string, value: string | undefined, where: string, problems: string[]): string | undefined {
    if (value === undefined) return undefined;
    const v = this.map.get(kind, value);
    if (v === undefined) problems.push(`${where}: no earlier response gave ${kind} ${value}`);
    return v ?? value;
  }

  private async runStep(key: string, step: GoldenStep): Promise<StepResult> {
    const problems: string[] = [];
    const req = step.request;
    const query = { ...(req.query ?? {}) };
    if (query.resourceVersion) query.resourceVersion = this.substitute("rv", query.resourceVersion, "query.resourceVersion", problems)!;
    if (query.continue) query.continue = this.substitute("continue", query.continue, "query.continue", problems)!;
    const body = req.body === undefined ? undefined : structuredClone(req.body) as any;
    if (body?.metadata?.resourceVersion) body.metadata.resourceVersion = this.substitute("rv", body.metadata.resourceVersion, "body.metadata.resourceVersion", problems);
    for (const ref of [body?.involvedObject, body?.regarding]) if (ref?.uid) ref.uid = this.substitute("uid", ref.uid, "body uid", problems);
    // Preconditions copy a uid or resourceVersion from an earlier answer, or name a made-up uid
    // (README: "the non-matching uid is a fixed made-up value"), which is sent as it is.
    for (const pre of [body?.preconditions, body?.deleteOptions?.preconditions]) {
      if (pre?.uid) pre.uid = this.map.get("uid", pre.uid) ?? pre.uid;
      if (pre?.resourceVersion) pre.resourceVersion = this.substitute("rv", pre.resourceVersion, "body preconditions.resourceVersion", problems);
    }
    const url = new URL(this.server.url + req.path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: "application/json", "User-Agent": "k8s-golden-replay/1.0" };
    if (req.headers["Content-Type"]) headers["Content-Type"] = req.headers["Content-Type"];
    const token = req.identity === "invalid-token" ? "not-a-valid-token" : this.tokens[req.identity];
    if (!token) problems.push(`no token for identity ${req.identity}`);
    headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url, { method: req.method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    const isWatch = query.watch === "true";
    const actual = isWatch && res.status === 200 ? text.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(text);
    if (actual?.kind === "TokenRequest" && actual.status?.token) this.tokens["sa:sluice/agent"] = actual.status.token;

    const exc = this.exceptions[key];
    const expected = exc?.expect ? exc.expect({ status: step.response.status, body: step.response.body }, this.golden) : { status: step.response.status, body: step.response.body };
    if (res.status !== expected.status) problems.push(`status: expected ${expected.status}, got ${res.status}: ${text.slice(0, 300)}`);
    if (res.headers.get("content-type") !== step.response.headers["Content-Type"]) problems.push(`Content-Type: ${res.headers.get("content-type")}`);
    problems.push(...compareHeaders(step.response.headers, res.headers));
    if (key.startsWith("07#") && isWatch && expected.body[0]?.type === "ERROR") {
      // The ERROR message names both resourceVersions: map them rather than ignore them.
      const m = /^too old resource version: (\d+) \((\d+)\)$/.exec(actual[0]?.object?.message ?? "");
      const [, want, oldest] = /^too old resource version: (\d+) \((\d+)\)$/.exec(expected.body[0].object.message)!;
      if (!m) problems.push(`ERROR message: ${actual[0]?.object?.message}`);
      else {
        if (this.map.get("rv", want) !== m[1]) problems.push(`ERROR names ${m[1]}, expected the mapping of ${want}`);
        // The oldest is the revision at the restart. On 1.28 it is not one of the replayed
        // writes (the apiserver renews its own identity Lease in kube-system, 1.26+): compare
        // with the sim's revision at its restart, and with the mapping where there is one.
        const mapped = this.map.get("rv", oldest);
        if (m[2] !== this.restartRv || (mapped !== undefined && mapped !== m[2])) problems.push(`ERROR names oldest ${m[2]}, expected ${this.restartRv} (revision at the restart; recorded ${oldest})`);
      }
      const strip = (evs: any[]) => evs.map((e) => ({ ...e, object: { ...e.object, message: undefined } }));
      problems.push(...compareBodies(strip(expected.body), strip(actual), this.map, exc?.loosen, this.sent));
    } else {
      problems.push(...compareBodies(expected.body, actual, this.map, exc?.loosen, this.sent));
    }
    return { key, status: res.status, problems };
  }
}

/** The headers a client acts on: Retry-After (when to retry) and Warning (one per dropped field). */
function compareHeaders(want: Record<string, string | string[]>, actual: Headers): string[] {
  const problems: string[] = [];
  const retryAfter = want["Retry-After"] as string | undefined;
  if ((actual.get("retry-after") ?? undefined) !== retryAfter) problems.push(`Retry-After: expected ${retryAfter ?? "none"}, got ${actual.get("retry-after") ?? "none"}`);
  const w = want.Warning;
  const wantWarnings = w === undefined ? [] : Array.isArray(w) ? w : [w];
  const gotWarnings = splitWarnings(actual.get("warning"));
  if (JSON.stringify(gotWarnings) !== JSON.stringify(wantWarnings)) problems.push(`Warning: expected ${JSON.stringify(wantWarnings)}, got ${JSON.stringify(gotWarnings)}`);
  return problems;
}

/** fetch joins repeated headers with ", "; a Warning value is `299 - "quoted text"`, so split between them. */
export function splitWarnings(joined: string | null): string[] {
  if (!joined) return [];
  return joined.split(/, (?=\d{3} )/);
}
