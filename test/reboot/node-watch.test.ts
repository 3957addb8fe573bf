/**
 * The agent's watch on its own Node against the sim server, whose watch window (like the real
 * watch cache) holds a bounded number of events: a Node that has not changed for a while has a
 * resourceVersion older than the window, so a watch resumed from it is answered 410.
 */
import { afterEach, describe, expect, it } from "vitest";
import { NodeWatch } from "../../agent/reboot/node-watch";
import { nullLogger } from "../../agent/log";
import { type LockSim, addNode, runUntil, startSim } from "../lock/harness";

let env: LockSim | undefined;
afterEach(async () => {
  await env?.server.stop();
  env = undefined;
});

describe("the Node watch", () => {
  it("after a 410 starts over from the Node as it is, instead of GET and 410 forever", async () => {
    env = await startSim();
    const { server, kube, clock } = env;
    addNode(server, "me");
    for (let i = 0; i < 20; i++) addNode(server, `other-${i}`);
    // Other Nodes change far more often than the window holds, while "me" stays as it was.
    for (let i = 0; i < 20; i++) for (let k = 0; k < 60; k++) {
      const n = server.store.get("/nodes", `other-${i}`)!;
      server.registry.writeInternal("/nodes", { ...n, metadata: { ...n.metadata, labels: { ...n.metadata.labels, k: String(k) } } });
    }
    server.faults.resetCounters();
    const stop = new AbortController();
    const w = new NodeWatch(kube, "me", clock, nullLogger, { watchTimeoutSeconds: 60 });
    w.start(stop.signal);
    await runUntil(env, () => w.current() !== undefined, "the Node read");
    // Watch timeouts come and go for ten minutes; then the Node changes, and the agent sees it.
    await runUntil(env, () => false, "ten minutes", 600_000).catch(() => {});
    const me = server.store.get("/nodes", "me")!;
    server.registry.writeInternal("/nodes", { ...me, spec: { ...me.spec, unschedulable: true } });
    await runUntil(env, () => w.current()?.spec?.unschedulable === true, "the change seen");
    const c = server.faults.counters();
    // One GET (its version is past the window), one 410, then watches renewed once per timeout.
    expect(c["get nodes"]).toBe(1);
    expect(c["watch nodes"]).toBeLessThanOrEqual(13);
    stop.abort();
    await w.stopped();
  });
});
