/**
 * The agent as it will idle once `sluice run` connects (the agent's loop is being written in
 * agent/reboot): the whole CLI bundle runs `sluice run` from argv exactly as the executable does,
 * and beside it this probe opens what the agent keeps open — a list and a watch (with bookmarks)
 * of the group's Leases, and a watch of its own Node — through the real Kube client. It prints
 * "kube watches open" once both watches stream. Bundled by footprint.bench.ts with the main
 * bundle's options; the executable's own `run` is measured beside it (rss.run).
 */
import "../../agent/cli/main";
import { kubeClients, rebootSignals } from "../../agent/cli/clients";
import { loadConfig } from "../../agent/config";
import { nodeFs } from "../../agent/host";
import { nullLogger } from "../../agent/log";

async function keepWatching(open: () => Promise<{ done: Promise<void> }>, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const w = await open();
    await w.done.catch(() => new Promise((r) => setTimeout(r, 1000)));
  }
}

async function probe(): Promise<void> {
  const configPath = process.env.SLUICE_PROBE_CONFIG;
  if (!configPath) return;
  const s = (await loadConfig({ fs: nodeFs, env: process.env, flags: {}, configPath })).settings;
  const node = s.nodeName;
  const kube = (await kubeClients(s, process.env)).leases;
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  // For a breakdown by hand: kill -USR2 <pid> prints where the memory is.
  process.on("SIGUSR2", () => {
    const m = process.memoryUsage();
    process.stdout.write(`${Object.entries(m).map(([k, v]) => `${k}=${(v / 1048576).toFixed(1)}MiB`).join(" ")}\n`);
  });
  if (process.env.SLUICE_PROBE_SIGNALS !== "0") await (await rebootSignals(s, process.env, nullLogger)).start(stop.signal);
  const list = await kube.listLeases("sluice", "sluice.dev/group=default");
  let rv = list.resourceVersion;
  let opened = 0;
  const ready = () => ++opened === 2 && process.stdout.write("kube watches open\n");
  void keepWatching(async () => {
    const w = await kube.watchLeases("sluice", { resourceVersion: rv, labelSelector: "sluice.dev/group=default", allowBookmarks: true, timeoutSeconds: 300, signal: stop.signal }, (_t, l) => {
      rv = l.metadata?.resourceVersion ?? rv;
    });
    ready();
    return w;
  }, stop.signal);
  void keepWatching(async () => {
    const w = await kube.watchNode(node, { allowBookmarks: true, timeoutSeconds: 300, signal: stop.signal }, () => {});
    ready();
    return w;
  }, stop.signal);
}

probe().catch((err: unknown) => {
  process.stderr.write(`kube probe: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
