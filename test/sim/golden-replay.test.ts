/**
 * Conformance: every step of every shared/k8s-golden transcript, replayed in order against one
 * SimServer (as they were recorded against one cluster), compared on status and every
 * non-volatile body field. Deviations are listed, with reasons, in golden/exceptions.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimServer } from "../../agent/sim";
import { exceptions } from "./golden/exceptions";
import { Replayer, type StepResult, loadGolden } from "./golden/replay";

const files = loadGolden();
let server: SimServer;
let replayer: Replayer;
const results = new Map<string, StepResult[]>();

beforeAll(async () => {
  server = await new SimServer({ adminToken: "golden-admin" }).start();
  const node1 = server.addUser({ token: "golden-node-1", node: "node-1" });
  const dev = server.addUser({ token: "golden-dev", name: "dev", groups: ["devs"] });
  replayer = new Replayer(server, files, { admin: "golden-admin", "node-1": node1, dev });
  // Files depend on each other (README "Dependencies between files"): replay all, in order, once.
  for (const f of files) results.set(f.id, await replayer.replayFile(f));
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe("golden replay (kube-apiserver v1.20.2 transcripts)", () => {
  it("covers every file 00–16", () => {
    expect(files.map((f) => f.id)).toEqual(["00", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16"]);
  });

  for (const f of files) {
    it(`${f.file}: every step answers as recorded`, () => {
      const r = results.get(f.id)!;
      expect(r).toHaveLength(f.steps.length);
      const failures = r.filter((s) => s.problems.length).map((s) => `${s.key}: ${s.problems.join("; ")}`);
      expect(failures).toEqual([]);
    });
  }

  it("lists each deviation with a reason, and only for steps that exist", () => {
    for (const [key, exc] of Object.entries(exceptions)) {
      const [file, step] = key.split("#");
      expect(files.find((f) => f.id === file)?.steps[Number(step) - 1], key).toBeDefined();
      expect(exc.reason.length, key).toBeGreaterThan(10);
    }
  });
});
