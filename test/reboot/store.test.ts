import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeFs } from "../../agent/host";
import { initialState, StateStore, stateProblem, type PersistedState } from "../../agent/reboot";
import { tempDir } from "../helpers/tmp";

const draining: PersistedState = { ...initialState("node-a", 1000), state: { phase: "draining", since: 1000, slot: "sluice-default-0", wasUnschedulable: false, needSince: 900, newVersion: "4459.2.1" } };

describe("state.json", () => {
  it("round-trips, with a version, the node, and mode 0600", async () => {
    const dir = tempDir();
    const store = new StateStore(nodeFs, dir);
    expect(await store.load()).toBeUndefined();
    await store.save(draining);
    expect(await store.load()).toEqual(draining);
    const raw = JSON.parse(readFileSync(join(dir, "state.json"), "utf8"));
    expect(raw).toMatchObject({ version: 2, node: "node-a", state: { phase: "draining" } });
    expect(await nodeFs.mode(join(dir, "state.json"))).toBe(0o600);
  });

  it.each([
    ["empty", "", /is empty/],
    ["whitespace", "  \n", /is empty/],
    ["truncated", JSON.stringify(draining).slice(0, 40), /is not JSON \(truncated\?\)/],
    ["a future version", '{"version":3,"node":"a","state":{"phase":"idle","since":1}}', /has version 3; this sluice reads version 2/],
    ["the first version", '{"version":1,"state":"idle","since":1,"reason":""}', /has version 1/],
    ["no version", '{"state":"idle"}', /has version undefined/],
    ["no node", '{"version":2,"state":{"phase":"idle","since":1}}', /node: expected a node name/],
    ["unknown phase", '{"version":2,"node":"a","state":{"phase":"sleeping","since":1}}', /state.phase: expected one of idle, pending/],
    ["draining without its cordon record", '{"version":2,"node":"a","state":{"phase":"draining","since":1,"slot":"s","needSince":1}}', /state.wasUnschedulable/],
    ["rebooting without attempts", '{"version":2,"node":"a","state":{"phase":"rebooting","since":1,"slot":"s","needSince":1,"wasUnschedulable":false,"bootIdBefore":"b","requestedAt":1}}', /state.attempts/],
    ["an array", "[]", /has version undefined/],
    ["bad held pod", '{"version":2,"node":"a","state":{"phase":"idle","since":1},"lastDrain":{"outcome":"timed-out","at":1,"durationMs":1,"evicted":0,"summary":"","pdbs":[],"held":[{"name":"x"}]}}', /lastDrain.held\[0\]/],
  ])("reports a damaged file (%s) with a stable code", async (_name, text, msg) => {
    const dir = tempDir();
    writeFileSync(join(dir, "state.json"), text);
    const err = await new StateStore(nodeFs, dir).load().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "state-unreadable" });
    expect((err as Error).message).toMatch(msg);
  });

  it("reports a FIFO, a directory and a huge file without blocking or reading it all; a dangling symlink is no state", async () => {
    const dir = tempDir();
    execFileSync("mkfifo", [join(dir, "state.json")]);
    await expect(new StateStore(nodeFs, dir).load()).rejects.toMatchObject({ code: "state-unreadable", message: expect.stringMatching(/not a regular file/) });
    const d2 = tempDir();
    mkdirSync(join(d2, "state.json"));
    await expect(new StateStore(nodeFs, d2).load()).rejects.toMatchObject({ code: "state-unreadable" });
    const d3 = tempDir();
    writeFileSync(join(d3, "state.json"), " ".repeat(2 << 20));
    await expect(new StateStore(nodeFs, d3).load()).rejects.toMatchObject({ message: expect.stringMatching(/far more than a state file/) });
    const d4 = tempDir();
    symlinkSync(join(d4, "nowhere"), join(d4, "state.json"));
    const store = new StateStore(nodeFs, d4);
    expect(await store.load()).toBeUndefined();
    // Writing replaces the link itself (rename), never a file it points to.
    await store.save(draining);
    expect(await store.load()).toEqual(draining);
  });

  it("refuses to write a state it could not read back", async () => {
    const bad = { ...initialState("a", 1), state: { phase: "napping", since: 1 } } as unknown as PersistedState;
    expect(stateProblem(bad)).toMatch(/^state.phase:/);
    await expect(new StateStore(nodeFs, tempDir()).save(bad)).rejects.toMatchObject({ code: "state-invalid" });
  });
});
