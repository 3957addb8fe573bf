/**
 * The watch fan-out (watch-hub.ts): watches sharing a selector share one group, an index by
 * namespace and pinned name, one write per loop turn. What must not change for clients: each
 * stream gets exactly its own events, selector transitions included, in resourceVersion order,
 * also around bookmarks and server-side closes, and a watch joining mid-turn gets nothing twice.
 */
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { SimServer } from "../../agent/sim";
import { Store } from "../../agent/sim/store";
import { WatchHub } from "../../agent/sim/watch-hub";
import { FakeClock } from "../../agent/ports/fake-clock";
import { pinnedName } from "../../agent/sim/watch";

let server: SimServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

/** A watch stream read line by line; `take(n)` waits for n more events. */
async function watch(path: string) {
  const res = await fetch(`${server!.url}${path}`, { headers: { Authorization: `Bearer ${server!.adminToken}` } });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const lines: { type: string; object: any }[] = [];
  let ended = false;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return void (ended = true);
      buf += value;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) lines.push(JSON.parse(p));
    }
  })().catch(() => {});
  let seen = 0;
  return {
    async take(n: number, waitMs = 2000) {
      const limit = Date.now() + waitMs;
      while (lines.length < seen + n && Date.now() < limit && !ended) await new Promise((r) => setTimeout(r, 2));
      const got = lines.slice(seen, seen + n);
      seen += got.length;
      return got.map((l) => `${l.type} ${l.object.metadata?.name ?? ""}`.trim());
    },
    /** Everything after what was taken, once the stream has ended. */
    async rest() {
      await pump;
      return lines.slice(seen).map((l) => `${l.type} ${l.object.metadata?.name ?? ""}`.trim());
    },
    get ended() {
      return ended;
    },
    raw: lines,
    cancel: () => reader.cancel(),
  };
}

const lease = (name: string, labels: Record<string, string>, namespace = "sluice") =>
  ({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace, labels }, spec: {} }) as const;

function relabel(namespace: string, name: string, labels: Record<string, string>): void {
  const cur = server!.store.get("coordination.k8s.io/leases", `${namespace}/${name}`)!;
  server!.registry.writeInternal("coordination.k8s.io/leases", { ...cur, metadata: { ...cur.metadata, labels } });
}

describe("watch fan-out over HTTP", () => {
  it("gives each watch exactly its events, with shared and distinct selectors, namespaces and pinned names", async () => {
    server = await new SimServer({ namespaces: ["sluice", "other"] }).start();
    server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
    server.apply({ apiVersion: "v1", kind: "Node", metadata: { name: "node-b" } });
    const rv = server.store.currentRv();
    const base = "/apis/coordination.k8s.io/v1";
    const groupA1 = await watch(`${base}/namespaces/sluice/leases?watch=true&resourceVersion=${rv}&labelSelector=g%3Da`);
    const groupA2 = await watch(`${base}/namespaces/sluice/leases?watch=true&resourceVersion=${rv}&labelSelector=g%3Da`);
    const groupB = await watch(`${base}/namespaces/sluice/leases?watch=true&resourceVersion=${rv}&labelSelector=g%3Db`);
    const all = await watch(`${base}/leases?watch=true&resourceVersion=${rv}`);
    const nodeA = await watch(`/api/v1/nodes?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name%3Dnode-a`);
    const notA = await watch(`/api/v1/nodes?watch=true&resourceVersion=${rv}&fieldSelector=metadata.name!%3Dnode-a`);

    server.apply(lease("a1", { g: "a" }));
    server.apply(lease("b1", { g: "b" }));
    server.apply(lease("a2", { g: "a" }, "other"));
    relabel("sluice", "a1", { g: "b" });
    relabel("sluice", "a1", { g: "a" });
    server.registry.writeInternal("/nodes", { ...server.store.get("/nodes", "node-b")!, spec: { unschedulable: true } });
    server.registry.writeInternal("/nodes", { ...server.store.get("/nodes", "node-a")!, spec: { unschedulable: true } });

    for (const w of [groupA1, groupA2]) expect(await w.take(3)).toEqual(["ADDED a1", "DELETED a1", "ADDED a1"]);
    expect(await groupB.take(3)).toEqual(["ADDED b1", "ADDED a1", "DELETED a1"]);
    expect(await all.take(5)).toEqual(["ADDED a1", "ADDED b1", "ADDED a2", "MODIFIED a1", "MODIFIED a1"]);
    expect(await nodeA.take(1)).toEqual(["MODIFIED node-a"]);
    expect(await notA.take(1)).toEqual(["MODIFIED node-b"]);
    const rvs = all.raw.map((l) => Number(l.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((a, b) => a - b));
    // The group's DELETED carries the previous object stamped with the new version.
    expect(groupA1.raw[1]!.object.metadata).toMatchObject({ labels: { g: "a" }, resourceVersion: groupB.raw[1]!.object.metadata.resourceVersion });
    for (const w of [groupA1, groupA2, groupB, all, nodeA, notA]) expect(await w.take(1, 50)).toEqual([]);
    for (const w of [groupA1, groupA2, groupB, all, nodeA, notA]) await w.cancel();
  });

  it("writes events due before a bookmark or a timeout first, so streams stay in resourceVersion order", async () => {
    // Sleeps woken by hand, synchronously after a write: the bookmark and the timeout then run
    // before the hub's end-of-turn flush, which FakeClock.advance would let run first.
    const sleeps: { ms: number; wake: () => void }[] = [];
    const clock = { now: () => Date.UTC(2026, 0, 5), monotonic: () => 0, sleep: (ms: number) => new Promise<void>((wake) => void sleeps.push({ ms, wake })) };
    const wake = (ms: number) => sleeps.find((s) => s.ms === ms)!.wake();
    server = await new SimServer({ clock, namespaces: ["sluice"], bookmarkIntervalMs: 10_000 }).start();
    const rv = server.store.currentRv();
    const w = await watch(`/apis/coordination.k8s.io/v1/namespaces/sluice/leases?watch=true&allowWatchBookmarks=true&timeoutSeconds=60&resourceVersion=${rv}`);
    for (let i = 0; i < 100 && sleeps.length < 3; i++) await new Promise((r) => setTimeout(r, 2));
    server.apply(lease("x", {}));
    wake(10_000);
    expect(await w.take(2)).toEqual(["ADDED x", "BOOKMARK"]);
    expect(Number(w.raw[1]!.object.metadata.resourceVersion)).toBe(Number(w.raw[0]!.object.metadata.resourceVersion));
    server.apply(lease("y", {}));
    wake(60_000);
    expect(await w.rest()).toEqual(["ADDED y"]);
    expect(w.ended).toBe(true);
    expect(server.openWatches).toBe(0);
  });
});

describe("WatchHub", () => {
  const fakeRes = () => {
    const writes: string[] = [];
    return { res: { destroyed: false, writableEnded: false, socket: null, write: (b: Buffer) => writes.push(b.toString()) } as unknown as ServerResponse, writes };
  };
  const spec = (store: string) => ({ storage: store, key: "k", namespace: "ns", name: "", line: (ev: { obj: { metadata: { name?: string } } }) => `${ev.obj.metadata.name}\n`, bookmark: () => `BOOKMARK ${store}\n` });

  it("sends periodic bookmarks on a shared grid with one clock sleep for every watch, only to members that asked, after their pending events", async () => {
    const store = new Store();
    const clock = new FakeClock(Date.UTC(2026, 0, 5));
    const hub = new WatchHub(store, { clock, everyMs: 60_000 });
    const [a, b, c] = [fakeRes(), fakeRes(), fakeRes()];
    await clock.advance(25_000);
    const ma = hub.join(spec("/x"), { ...a, bookmarks: true });
    hub.join(spec("/x"), b); // did not ask
    hub.join(spec("/y"), { ...c, bookmarks: true });
    expect(clock.pending).toBe(1);
    store.write("/x", "ADDED", { metadata: { name: "one", namespace: "ns" } });
    // The grid instant (60 s), not 60 s after each join; the event still pending goes first.
    await clock.advance(34_999);
    expect(a.writes).toEqual(["one\n"]);
    await clock.advance(1);
    expect(a.writes).toEqual(["one\n", "BOOKMARK /x\n"]);
    expect(b.writes).toEqual(["one\n"]);
    expect(c.writes).toEqual(["BOOKMARK /y\n"]);
    await clock.advance(60_000);
    expect(a.writes.filter((w) => w.startsWith("BOOKMARK"))).toHaveLength(2);
    // Nobody left asking: the hub stops sleeping.
    ma.leave();
    await clock.advance(60_000);
    expect(a.writes.filter((w) => w.startsWith("BOOKMARK"))).toHaveLength(2);
    expect(c.writes).toHaveLength(3);
    hub.stop();
    await clock.advance(60_000);
    expect(c.writes).toHaveLength(3);
    expect(clock.pending).toBe(0);
  });

  it("writes a turn's events once per member as one buffer, and nothing twice to a member joining mid-turn", async () => {
    const store = new Store();
    const hub = new WatchHub(store);
    const a = fakeRes();
    const b = fakeRes();
    hub.join(spec("/x"), a);
    store.write("/x", "ADDED", { metadata: { name: "one", namespace: "ns" } });
    store.write("/x", "ADDED", { metadata: { name: "two", namespace: "ns" } });
    hub.join(spec("/x"), b);
    expect(a.writes).toEqual(["one\ntwo\n"]);
    store.write("/x", "ADDED", { metadata: { name: "three", namespace: "ns" } });
    store.write("/x", "ADDED", { metadata: { name: "elsewhere", namespace: "other" } });
    await new Promise((r) => setImmediate(r));
    expect(a.writes).toEqual(["one\ntwo\n", "three\n"]);
    expect(b.writes).toEqual(["three\n"]);
  });

  it("stops writing to a member that left, and forgets an empty group", async () => {
    const store = new Store();
    const hub = new WatchHub(store);
    const a = fakeRes();
    const m = hub.join(spec("/x"), a);
    m.leave();
    store.write("/x", "ADDED", { metadata: { name: "one", namespace: "ns" } });
    await new Promise((r) => setImmediate(r));
    expect(a.writes).toEqual([]);
  });

  it.each([
    ["metadata.name=node-a", "node-a"],
    ["metadata.name==node-a,spec.unschedulable=true", "node-a"],
    ["spec.unschedulable=true, metadata.name = x", "x"],
    ["metadata.name!=node-a", ""],
    ["metadata.namespace=x", ""],
    [null, ""],
  ])("pinnedName(%s) = %j", (sel, want) => {
    expect(pinnedName(sel)).toBe(want);
  });
});
