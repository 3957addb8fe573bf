/**
 * `sluice sim serve` from the built executable, on the host's loopback: the API server the guest
 * reaches through QEMU's guest forward, with the cluster's RBAC from deploy/rbac.yaml and a token
 * for the sluice-agent ServiceAccount (what a host's /etc/sluice/kubeconfig carries).
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse, parseAllDocuments } from "yaml";
import { Api } from "./api";
import { spawnGuarded, stopGuarded } from "./guard";

export interface Sim {
  port: number;
  admin: Api;
  /** The sluice-agent ServiceAccount's token. */
  agentToken: string;
  stop(): Promise<void>;
}

export async function startSim(o: { exe: string; repo: string; dir: string; nodes: string[]; podsPerNode: number }): Promise<Sim> {
  const agentToken = randomBytes(24).toString("hex");
  const auth = join(o.dir, "sim-auth.yaml");
  // deploy/rbac.yaml as an operator applies it, less its Namespace: sim serve creates `sluice`
  // itself, and creating it again is refused (409).
  const rbac = parseAllDocuments(readFileSync(join(o.repo, "deploy/rbac.yaml"), "utf8")).filter((d) => d.get("kind") !== "Namespace").map(String);
  writeFileSync(auth, [...rbac, `users:\n  - token: ${agentToken}\n    serviceAccount: sluice/sluice-agent\n`].join("---\n"));
  const kubeconfig = join(o.dir, "sim-admin.kubeconfig");
  const log = createWriteStream(join(o.dir, "sim.log"));
  const child: ChildProcess = spawnGuarded([o.exe, "sim", "serve", "--port", "0", "--nodes", o.nodes.join(","), "--pods-per-node", String(o.podsPerNode), "--kubeconfig-out", kubeconfig, "--auth", auth]);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: number | null | undefined;
  child.on("exit", (code) => (exited = code));
  const stop = () => stopGuarded(child);
  // The kubeconfig is written once the server listens.
  for (let i = 0; i < 300; i++) {
    if (exited !== undefined) throw new Error(`sluice sim serve exited with ${exited}: see ${join(o.dir, "sim.log")}`);
    let text = "";
    try {
      text = readFileSync(kubeconfig, "utf8");
    } catch {}
    if (text) {
      const kc = parse(text);
      const url: string = kc.clusters[0].cluster.server;
      return { port: Number(new URL(url).port), admin: new Api(url, kc.users[0].user.token), agentToken, stop };
    }
    await sleep(100);
  }
  await stop();
  throw new Error("sluice sim serve wrote no kubeconfig within 30 s");
}
