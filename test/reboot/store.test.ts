import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeFs } from "../../agent/host";
import { initialState, StateStore, stateProblem, type PersistedState } from "../../agent/reboot";
import { tempDir } from "../helpers/tmp";

describe("state.json", () => {
  it("round-trips, with a version and mode 0600", async () => {
    const dir = tempDir();
    const store = new StateStore(nodeFs, dir);
    expect(await store.load()).toBeUndefined();
    const s: PersistedState = { ...initialState(1000), state: "draining", reason: "draining for update 4459.2.1", slot: "sluice-default-0", bootId: "b1", wasUnschedulable: false };
    await store.save(s);
    expect(await store.load()).toEqual(s);
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).version).toBe(1);
    expect(await nodeFs.mode(join(dir, "state.json"))).toBe(0o600);
  });

  it.each([
    ["not JSON", "{", /is not JSON/],
    ["another version", '{"version":2,"state":"idle","since":1,"reason":""}', /has version 2; this sluice reads version 1/],
    ["no version", '{"state":"idle"}', /has version undefined/],
    ["unknown state", '{"version":1,"state":"sleeping","since":1,"reason":""}', /state: expected one of idle, pending/],
    ["bad since", '{"version":1,"state":"idle","since":"now","reason":""}', /since: expected a number/],
    ["bad held pod", '{"version":1,"state":"idle","since":1,"reason":"","lastDrain":{"outcome":"timed-out","at":1,"durationMs":1,"evicted":0,"summary":"","pdbs":[],"held":[{"name":"x"}]}}', /lastDrain.held\[0\]/],
  ])("reports a damaged file (%s) with a stable code", async (_name, text, msg) => {
    const dir = tempDir();
    writeFileSync(join(dir, "state.json"), text);
    const err = await new StateStore(nodeFs, dir).load().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "state-unreadable" });
    expect((err as Error).message).toMatch(msg);
  });

  it("refuses to write a state it could not read back", async () => {
    const bad = { ...initialState(1), state: "napping" } as unknown as PersistedState;
    expect(stateProblem(bad)).toMatch(/^state:/);
    await expect(new StateStore(nodeFs, tempDir()).save(bad)).rejects.toMatchObject({ code: "state-invalid" });
  });
});
