/**
 * Conformance: every step of both shared/k8s-golden sets, replayed in order against one SimServer
 * per set (as each was recorded against one cluster): the top-level v1.20.2 transcripts against
 * the sim's "1.20" mode, v1.28/ (kube-apiserver v1.28.7) against the default mode. Compared: the
 * status code, Content-Type, Retry-After and Warning headers, and every non-volatile body field.
 * Deviations are listed, with reasons, in golden/exceptions.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimServer } from "../../agent/sim";
import type { KubeVersion } from "../../agent/sim/version";
import { type StepException, exceptions120, exceptions128 } from "./golden/exceptions";
import { GOLDEN_DIR, GOLDEN_DIR_V128, type GoldenFile, Replayer, type StepResult, loadGolden } from "./golden/replay";

interface GoldenSet {
  name: string;
  version: KubeVersion;
  files: GoldenFile[];
  ids: string[];
  exceptions: Record<string, StepException>;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i).padStart(2, "0"));
const sets: GoldenSet[] = [
  { name: "kube-apiserver v1.20.2 (sim version 1.20)", version: "1.20", files: loadGolden(GOLDEN_DIR), ids: ids(17), exceptions: exceptions120 },
  { name: "kube-apiserver v1.28.7 (sim default)", version: "1.28", files: loadGolden(GOLDEN_DIR_V128), ids: ids(25), exceptions: exceptions128 },
];

for (const set of sets) {
  describe(`golden replay: ${set.name}`, () => {
    let server: SimServer;
    const results = new Map<string, StepResult[]>();

    beforeAll(async () => {
      server = await new SimServer({ adminToken: "golden-admin", version: set.version }).start();
      const tokens = {
        admin: "golden-admin",
        "node-1": server.addUser({ token: "golden-node-1", node: "node-1" }),
        "node-a": server.addUser({ token: "golden-node-a", node: "node-a" }),
        dev: server.addUser({ token: "golden-dev", name: "dev", groups: ["devs"] }),
      };
      const replayer = new Replayer(server, set.files, tokens, set.exceptions);
      // Files depend on each other (README "Dependencies between files"): replay all, in order, once.
      for (const f of set.files) results.set(f.id, await replayer.replayFile(f));
    }, 120_000);

    afterAll(async () => {
      await server?.stop();
    });

    it(`covers every file ${set.ids[0]}–${set.ids.at(-1)}`, () => {
      expect(set.files.map((f) => f.id)).toEqual(set.ids);
    });

    it("answers as the recorded server version", async () => {
      const v = (await (await fetch(`${server.url}/version`, { headers: { Authorization: "Bearer golden-admin" } })).json()) as { minor: string };
      expect(`1.${v.minor}`).toBe(set.version);
    });

    for (const f of set.files) {
      it(`${f.file}: every step answers as recorded`, () => {
        const r = results.get(f.id)!;
        expect(r).toHaveLength(f.steps.length);
        const failures = r.filter((s) => s.problems.length).map((s) => `${s.key}: ${s.problems.join("; ")}`);
        expect(failures).toEqual([]);
      });
    }

    it("lists each deviation with a reason, and only for steps that exist", () => {
      for (const [key, exc] of Object.entries(set.exceptions)) {
        const [file, step] = key.split("#");
        expect(set.files.find((f) => f.id === file)?.steps[Number(step) - 1], key).toBeDefined();
        expect(exc.reason.length, key).toBeGreaterThan(10);
      }
    });
  });
}
