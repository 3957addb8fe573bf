/**
 * `sluice render …`: the install artefacts, all from agent/render's one model. Reads the inputs
 * (configuration, kubeconfig), validates them as `sluice run` would, and prints to stdout.
 */
import { Command, Option } from "commander";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { loadConfig, parseGoDuration } from "../../config";
import { nodeFs } from "../../host";
import { ExitCode, ExitError } from "../../ports";
import {
  DEFAULT_STATE_DIR,
  SYSEXT_EXEC_PATH,
  extensionRelease,
  hostEntries,
  ignitionText,
  mergeFragment,
  renderButane,
  renderKopsUserData,
  renderLogindDropin,
  renderUnit,
  sysextUpholdsDropin,
  type Contents,
  type InstallSpec,
  type SysextArch,
} from "../../render";
import type { CliContext } from "../context";
import { VERSION } from "../version";

interface InstallOpts {
  config: string;
  kubeconfig?: string;
  kubeconfigUrl?: string;
  kubeconfigSha512?: string;
  binaryUrl?: string;
  binarySha512?: string;
  binaryGzip?: boolean;
  sysext?: boolean;
  sysextUrl?: string;
  sysextSha512?: string;
  sysextVersion: string;
  sysextUpdateUrl?: string;
  arch: SysextArch;
  shutdownGracePeriod: string;
}

function usage(message: string): never {
  throw new ExitError(ExitCode.usage, "render-usage", message);
}

function hash(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const hex = value.replace(/^sha512-/, "").toLowerCase();
  if (!/^[0-9a-f]{128}$/.test(hex)) usage(`${flag}: expected a sha512 as 128 hex digits (the first field of the .sha512 file the build writes), not ${JSON.stringify(value)}`);
  return hex;
}

export function graceSeconds(text: string): number {
  const ms = parseGoDuration(text);
  if (ms === null || ms < 1000 || ms > 86_400_000 || ms % 1000 !== 0) usage(`--shutdown-grace-period: expected whole seconds from 1s to 24h in Go syntax (the kubelet's shutdownGracePeriod, e.g. 30s or 5m), not ${JSON.stringify(text)}`);
  return ms / 1000;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await nodeFs.readFile(path);
  } catch (e) {
    return usage(`${what}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** The model's input from the flags, every file read and checked. */
export async function installSpec(o: InstallOpts, ctx: CliContext): Promise<InstallSpec> {
  // The configuration is validated exactly as the agent will load it (exit 78 on a bad value),
  // without the drop-ins and environment of the machine that renders.
  const loaded = await loadConfig({ fs: nodeFs, env: {}, configPath: o.config, dropinDir: join(dirname(o.config), ".sluice-render-no-dropins") });
  for (const w of loaded.warnings) ctx.log.warning(w);
  if (loaded.settings.stateDir !== DEFAULT_STATE_DIR) usage(`${o.config}: stateDir must be ${DEFAULT_STATE_DIR} for the rendered unit (StateDirectory=sluice; every other path is read-only to sluice), not ${loaded.settings.stateDir}`);
  const config = await readText(o.config, "--config");

  let kubeconfig: Contents;
  if (o.kubeconfig !== undefined && o.kubeconfigUrl !== undefined) usage("give either --kubeconfig (a file to embed) or --kubeconfig-url (fetched by the host), not both");
  if (o.kubeconfig !== undefined) {
    const text = await readText(o.kubeconfig, "--kubeconfig");
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      usage(`--kubeconfig: ${o.kubeconfig} is not YAML: ${(e as Error).message.split("\n")[0]}`);
    }
    if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { clusters?: unknown }).clusters)) usage(`--kubeconfig: ${o.kubeconfig} is not a kubeconfig (no clusters: list)`);
    kubeconfig = { inline: text };
  } else if (o.kubeconfigUrl !== undefined) {
    kubeconfig = { remote: { url: o.kubeconfigUrl, sha512: hash(o.kubeconfigSha512, "--kubeconfig-sha512") } };
  } else return usage("the kubeconfig is required: --kubeconfig FILE or --kubeconfig-url URL");

  const shutdownGracePeriodSec = graceSeconds(o.shutdownGracePeriod);
  let payload: InstallSpec["payload"];
  if (o.sysext) {
    if (o.binaryGzip) usage("--binary-gzip: a sysext image is a squashfs, already compressed; gzip is not supported");
    if (o.binaryUrl !== undefined) usage("--sysext installs the image from --sysext-url; --binary-url does not apply");
    if (o.sysextUrl === undefined) usage("--sysext needs --sysext-url (the .raw image) and --sysext-sha512");
    payload = { kind: "sysext", source: { url: o.sysextUrl, sha512: hash(o.sysextSha512, "--sysext-sha512") ?? usage("--sysext-sha512 is required") }, version: o.sysextVersion, arch: o.arch, updateUrl: o.sysextUpdateUrl };
  } else {
    if (o.binaryUrl === undefined) usage("--binary-url is required (or --sysext with --sysext-url)");
    payload = { kind: "binary", source: { url: o.binaryUrl, sha512: hash(o.binarySha512, "--binary-sha512") ?? usage("--binary-sha512 is required: the host verifies what it runs as root"), gzip: Boolean(o.binaryGzip) } };
  }
  return { payload, config, kubeconfig, kubeconfigPath: loaded.settings.kubeconfig, shutdownGracePeriodSec };
}

function withInstallOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-c, --config <file>", "the sluice configuration to install (validated)")
    .option("--kubeconfig <file>", "kubeconfig to embed (written with mode 0600)")
    .option("--kubeconfig-url <url>", "or: where the host fetches its kubeconfig")
    .option("--kubeconfig-sha512 <hex>", "sha512 of the fetched kubeconfig (optional)")
    .option("--binary-url <url>", "where the host downloads the sluice executable")
    .option("--binary-sha512 <hex>", "its sha512 (of the uncompressed executable)")
    .option("--binary-gzip", "the URL serves the executable gzip-compressed")
    .option("--sysext", "install as a systemd-sysext image instead of /opt/bin/sluice")
    .option("--sysext-url <url>", "where the host downloads the .raw image")
    .option("--sysext-sha512 <hex>", "its sha512")
    .option("--sysext-version <version>", "the image's version", VERSION)
    .option("--sysext-update-url <url>", "directory with newer images and SHA256SUMS, for systemd-sysupdate (optional)")
    .addOption(new Option("--arch <arch>", "the image's architecture").choices(["x86-64", "arm64"]).default("x86-64"))
    .option("--shutdown-grace-period <duration>", "the kubelet's shutdownGracePeriod: logind's InhibitDelayMaxSec is raised to it", "30s");
}

export function renderCommand(ctx: CliContext): Command {
  const render = new Command("render").description("print install artefacts: Ignition, Butane, kOps user data, the unit (all from one model)");
  const out = (text: string): void => void ctx.stdout.write(text);
  const install = (name: string, description: string, emit: (spec: InstallSpec, opts: InstallOpts) => string) => {
    const cmd = withInstallOptions(new Command(name).description(description));
    cmd.action(async (opts: InstallOpts) => {
      const spec = await installSpec(opts, ctx);
      out(emit(spec, opts));
    });
    render.addCommand(cmd);
  };
  install("ignition", "an Ignition config (spec 3.3.0) that installs sluice", (spec) => ignitionText(hostEntries(spec)));
  install("butane", "the same as a Butane config (variant flatcar, version 1.0.0)", (spec) => renderButane(hostEntries(spec), "# sluice: generated by `sluice render butane`; edit freely.\n"));
  install("kops", "the InstanceGroup additionalUserData that installs sluice on kOps Flatcar nodes", (spec) => renderKopsUserData(hostEntries(spec)));
  const merge = withInstallOptions(new Command("merge").description("a Butane fragment merging the hosted Ignition config into your own (ignition.config.merge)"));
  merge.requiredOption("--ignition-url <url>", "where you host the output of `sluice render ignition` with the same options");
  merge.action(async (opts: InstallOpts & { ignitionUrl: string }) => {
    const text = ignitionText(hostEntries(await installSpec(opts, ctx)));
    try {
      new URL(opts.ignitionUrl);
    } catch {
      usage(`--ignition-url: ${JSON.stringify(opts.ignitionUrl)} is not a URL`);
    }
    out(mergeFragment(opts.ignitionUrl, createHash("sha512").update(text).digest("hex")));
  });
  render.addCommand(merge);

  render.addCommand(
    new Command("unit")
      .description("the systemd unit")
      .option("--exec-path <path>", "the executable", "/opt/bin/sluice")
      .action((opts: { execPath: string }) => out(renderUnit({ execPath: opts.execPath }))),
  );
  render.addCommand(
    new Command("logind")
      .description("the logind drop-in that lets the kubelet's graceful shutdown finish")
      .option("--shutdown-grace-period <duration>", "the kubelet's shutdownGracePeriod", "30s")
      .action((opts: { shutdownGracePeriod: string }) => out(renderLogindDropin(graceSeconds(opts.shutdownGracePeriod)))),
  );
  render.addCommand(
    new Command("sysext-tree")
      .description("write the sysext image's files except the executable into DIR (scripts/build-sysext.sh)")
      .argument("<dir>")
      .addOption(new Option("--arch <arch>").choices(["x86-64", "arm64"]).default("x86-64"))
      .action((dir: string, opts: { arch: SysextArch }) => {
        const files: Array<[string, string]> = [
          ["usr/lib/systemd/system/sluice.service", renderUnit({ execPath: SYSEXT_EXEC_PATH })],
          [sysextUpholdsDropin().path, sysextUpholdsDropin().contents],
          ["usr/lib/extension-release.d/extension-release.sluice", extensionRelease(opts.arch)],
        ];
        for (const [path, text] of files) {
          mkdirSync(dirname(join(dir, path)), { recursive: true });
          writeFileSync(join(dir, path), text, { mode: 0o644 });
        }
      }),
  );
  return render;
}
