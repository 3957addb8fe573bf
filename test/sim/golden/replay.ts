/**
 * Replays shared/k8s-golden transcripts against a SimServer over HTTP: substitutes values the
 * recorder copied from earlier responses, runs streaming watches in the background while later
 * steps run, and performs the out-of-band actions of 07 (compaction, restart) through test hooks.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { SimServer } from "../../../agent/sim";
import { Mapping, compareBodies } from "./compare";
import { type Recorded, exceptions } from "./exceptions";

export const GOLDEN_DIR = join(import.meta.dirname, "../../../../shared/k8s-golden");

export interface GoldenStep {
  request: { method: string; path: string; query?: Record<string, string>; headers: Record<string, string>; identity: string; body?: unknown };
  response: { status: number; headers: Record<string, string>; body: any };
  note?: string;
  timing?: { event_arrival_s: number[]; stream_closed_s: number };
}

export interface GoldenFile {
  file: string;
  id: string;
  steps: GoldenStep[];
  notes?: string[];
}

export function loadGolden(): GoldenFile[] {
  return readdirSync(GOLDEN_DIR)
    .filter((f) => /^\d\d-.*\.json$/.test(f))
    .sort()
    .map((f) => ({ file: f, id: f.slice(0, 2), ...(JSON.parse(readFileSync(join(GOLDEN_DIR, f), "utf8")) as { steps: GoldenStep[]; notes?: string[] }) }));
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

  constructor(
    private readonly server: SimServer,
    files: GoldenFile[],
    tokens: Record<string, string>,
  ) {
    this.all = files;
    this.tokens = { ...tokens };
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
      if (f.id === "07" && i + 1 === 8) this.server.restartWatchCache();
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

    const exc = exceptions[key];
    const expected = exc?.expect ? exc.expect({ status: step.response.status, body: step.response.body }, this.golden) : { status: step.response.status, body: step.response.body };
    if (res.status !== expected.status) problems.push(`status: expected ${expected.status}, got ${res.status}: ${text.slice(0, 300)}`);
    if (res.headers.get("content-type") !== step.response.headers["Content-Type"]) problems.push(`Content-Type: ${res.headers.get("content-type")}`);
    if (res.headers.get("retry-after") !== null) problems.push("unexpected Retry-After header");
    if (key.startsWith("07#") && isWatch && expected.body[0]?.type === "ERROR") {
      // The ERROR message names both resourceVersions: map them rather than ignore them.
      const m = /^too old resource version: (\d+) \((\d+)\)$/.exec(actual[0]?.object?.message ?? "");
      const [, want, oldest] = /^too old resource version: (\d+) \((\d+)\)$/.exec(expected.body[0].object.message)!;
      if (!m) problems.push(`ERROR message: ${actual[0]?.object?.message}`);
      else {
        if (this.map.get("rv", want) !== m[1]) problems.push(`ERROR names ${m[1]}, expected the mapping of ${want}`);
        if (this.map.get("rv", oldest) !== m[2]) problems.push(`ERROR names oldest ${m[2]}, expected the mapping of ${oldest}`);
      }
      const strip = (evs: any[]) => evs.map((e) => ({ ...e, object: { ...e.object, message: undefined } }));
      problems.push(...compareBodies(strip(expected.body), strip(actual), this.map, exc?.loosen));
    } else {
      problems.push(...compareBodies(expected.body, actual, this.map, exc?.loosen));
    }
    return { key, status: res.status, problems };
  }
}
