import { Command, InvalidArgumentError } from "commander";
import { readFile } from "node:fs/promises";
import { ExitCode, ExitError, errorMessage } from "../../ports/errors";
import type { CliContext } from "../context";
import { loadHeavy } from "../load-heavy";

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError("expected a port from 0 to 65535");
  return n;
}

function count(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 1000) throw new InvalidArgumentError("expected a whole number from 0 to 1000");
  return Number(value);
}

function names(value: string): string[] {
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.find((n) => !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(n));
  if (bad !== undefined || list.length === 0) throw new InvalidArgumentError(`expected comma-separated node names (lower-case DNS names)${bad ? `; "${bad}" is not one` : ""}`);
  const dup = list.find((n, i) => list.indexOf(n) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`expected each node name once; "${dup}" is given twice`);
  if (list.length > 1000) throw new InvalidArgumentError("expected at most 1000 node names");
  return list;
}

// Kept in step with agent/sim/version.ts (KUBE_VERSIONS); not imported, as that module is in the heavy chunk.
export const KUBE_VERSIONS = ["1.28", "1.20"] as const;
type KubeVersion = (typeof KUBE_VERSIONS)[number];

function kubeVersion(value: string): KubeVersion {
  if (!(KUBE_VERSIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${KUBE_VERSIONS.join(", ")}`);
  return value as KubeVersion;
}

/** `sluice sim serve`: the in-memory API server on its own, for kubectl or a real `sluice run`. */
export function simCommand(ctx: CliContext): Command {
  const sim = new Command("sim").description("the in-memory Kubernetes API server used by the tests and the demo");
  sim
    .command("serve")
    .description("serve it on loopback with Node objects and workload pods until stopped, and write a kubeconfig for it")
    .option("--port <port>", "port on 127.0.0.1 (0: a free one)", port, 0)
    .option("--nodes <names>", "comma-separated Node names", names, ["node-1", "node-2", "node-3"])
    .option("--pods-per-node <n>", "workload pods per node (a ReplicaSet-like workload apps/web)", count, 2)
    .option("--kubeconfig-out <file>", "write an admin kubeconfig for it here (mode 0600)")
    .option("--auth <file>", "YAML with extra users (tokens) and RBAC rules")
    // Not --version: the program-wide -V/--version would answer first.
    .option("--kube-version <version>", `the kube-apiserver to answer as: ${KUBE_VERSIONS.join(" or ")} (1.20: policy/v1beta1 only)`, kubeVersion, "1.28")
    .action(async (opts: { port: number; nodes: string[]; podsPerNode: number; kubeconfigOut?: string; auth?: string; kubeVersion: KubeVersion }) => {
      if (opts.kubeconfigOut === "") throw new ExitError(ExitCode.usage, "sim-kubeconfig-empty", "--kubeconfig-out needs a file name");
      let authYaml: string | undefined;
      if (opts.auth !== undefined) {
        authYaml = await readFile(opts.auth, "utf8").catch((err: NodeJS.ErrnoException) => {
          throw new ExitError(ExitCode.usage, "sim-auth-unreadable", `cannot read the auth file ${opts.auth}: ${err.code ?? errorMessage(err)}`, { cause: err });
        });
      }
      // Loaded on use: the server and client-node are heavy, and `sluice run` needs neither.
      const { serveSim } = await loadHeavy();
      await serveSim(
        { port: opts.port, nodes: opts.nodes, podsPerNode: opts.podsPerNode, kubeconfigOut: opts.kubeconfigOut, authYaml, version: opts.kubeVersion },
        { signal: ctx.signal, log: ctx.log },
      );
    });
  return sim;
}
