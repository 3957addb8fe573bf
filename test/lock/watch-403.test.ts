/**
 * After an apiserver restart the first watches can answer 403 until its authorizer's caches fill
 * (k8s-golden v1.28): the cache keeps the server's words, retries with backoff, says a streak
 * that does not clear once at warning, and recovers without a person.
 */
import { expect, it } from "vitest";
import { KubeError, type Kube, type V1Lease, type WatchHandler } from "../../agent/kube";
import { LeaseCache } from "../../agent/lock";
import { FakeClock } from "../../agent/ports";
import { Lines } from "./harness";

it("retries a watch refused with 403, keeping the server's message, and warns once when it persists", async () => {
  const clock = new FakeClock();
  const lines = new Lines();
  let refusals = 4;
  let watches = 0;
  const kube = {
    listLeases: async () => ({ items: [] as V1Lease[], resourceVersion: "1" }),
    watchLeases: async (_ns: string, _o: unknown, _h: WatchHandler<V1Lease>) => {
      watches += 1;
      if (refusals-- > 0) throw new KubeError("forbidden", 'leases.coordination.k8s.io is forbidden: User "system:serviceaccount:sluice:sluice-agent" cannot watch resource "leases": RBAC: role.rbac.authorization.k8s.io "sluice-agent" not found', { status: 403 });
      return { done: new Promise<void>(() => {}), stop: () => {} };
    },
  } as unknown as Kube;
  const cache = new LeaseCache(kube, clock, lines.logger, { namespace: "sluice", labelSelector: "sluice.dev/group=default", random: () => 0.5 });
  await cache.start();
  for (let i = 0; i < 12 && watches < 5; i++) await clock.advance(10_000);
  expect(watches).toBe(5);
  const warnings = lines.lines.filter((l) => l.includes("WARNING"));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain("the Lease watch keeps failing");
  expect(warnings[0]).toContain('role.rbac.authorization.k8s.io \\"sluice-agent\\" not found');
  cache.close();
});
