/**
 * butane/ and ignition/ hold rendered examples: they must be exactly what the renderer makes
 * from butane/example/'s inputs (SLUICE_UPDATE_EXAMPLES=1 rewrites them), every Ignition config
 * must pass the real ignition-validate, and each Butane file must say what its Ignition twin says.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fromDataUrl } from "../../agent/render";
import { tempDir } from "../helpers/tmp";
import { ROOT, render, run, sha512 } from "./harness";

const examples = JSON.parse(readFileSync(join(ROOT, "butane/example/examples.json"), "utf8")) as Record<string, string[]>;
const outputs = Object.keys(examples).filter((k) => k !== "//");

async function rendered(args: string[]): Promise<string> {
  const abs = args.map((a, i) => (["--config", "--kubeconfig"].includes(args[i - 1] ?? "") ? join(ROOT, a) : a));
  const r = await render(abs);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

/** Butane's translation for the fields the renderer uses: inline → data URL contents, compared decoded. */
function butaneToIgnition(bu: Record<string, any>): Record<string, any> {
  const contents = (c: Record<string, any>) => ("inline" in c ? { source: `inline:${c.inline}` } : c);
  const files = (bu.storage.files as any[]).map((f) => {
    const out: Record<string, any> = { ...f };
    if (f.contents) out.contents = contents(f.contents);
    if (f.append) out.append = f.append.map(contents);
    return out;
  });
  return { ignition: { version: "3.3.0" }, storage: { ...bu.storage, files }, systemd: bu.systemd };
}

function decodeIgnition(ign: Record<string, any>): Record<string, any> {
  const dec = (c: Record<string, any>) => (c.source.startsWith("data:") ? { ...c, source: `inline:${fromDataUrl(c.source).toString("utf8")}` } : c);
  return { ...ign, storage: { ...ign.storage, files: ign.storage.files.map((f: any) => ({ ...f, ...(f.contents ? { contents: dec(f.contents) } : {}), ...(f.append ? { append: f.append.map(dec) } : {}) })) } };
}

describe("examples in butane/ and ignition/", () => {
  it.each(outputs)("%s is what the renderer makes from butane/example", async (file) => {
    const text = await rendered(examples[file]!);
    if (process.env.SLUICE_UPDATE_EXAMPLES) writeFileSync(join(ROOT, file), text);
    expect(readFileSync(join(ROOT, file), "utf8")).toBe(text);
  });

  it.each(outputs.filter((f) => f.endsWith(".ign")))("%s passes ignition-validate", async (file) => {
    const r = await run(["ignition-validate", join(ROOT, file)]);
    expect(r.stdout + r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it.each(outputs.filter((f) => f.endsWith(".ign")))("%s says the same as its Butane twin", (file) => {
    const twin = file.replace("ignition/", "butane/").replace(/\.ign$/, ".bu");
    const bu = parse(readFileSync(join(ROOT, twin), "utf8"), { version: "1.1" });
    expect(bu).toMatchObject({ variant: "flatcar", version: "1.0.0" });
    expect(butaneToIgnition(bu)).toEqual(decodeIgnition(JSON.parse(readFileSync(join(ROOT, file), "utf8"))));
  });

  it("the merge fragment points at the hosted Ignition config with its sha512", async () => {
    const bu = parse(readFileSync(join(ROOT, "butane/merge.bu"), "utf8"));
    const merge = bu.ignition.config.merge[0];
    expect(merge.source).toBe("https://downloads.example.com/provisioning/sluice.ign");
    expect(merge.verification.hash).toBe(`sha512-${sha512(readFileSync(join(ROOT, "ignition/sluice.ign")))}`);
  });
});

describe("render refuses what cannot make a working host", () => {
  const base = ["--config", join(ROOT, "butane/example/config.yaml"), "--kubeconfig", join(ROOT, "butane/example/kubeconfig")];
  const url = ["--binary-url", "https://x.example/sluice"];
  const hash = ["--binary-sha512", "a".repeat(128)];
  it.each([
    ["no sha512", [...base, ...url], 64, "--binary-sha512 is required"],
    ["a short sha512", [...base, ...url, "--binary-sha512", "abc"], 64, "128 hex digits"],
    ["a file URL", [...base, "--binary-url", "file:///etc/passwd", ...hash], 64, "must be an http"],
    ["not a URL", [...base, "--binary-url", "", ...hash], 64, "is not a URL"],
    ["no kubeconfig", ["--config", join(ROOT, "butane/example/config.yaml"), ...url, ...hash], 64, "kubeconfig is required"],
    ["the config given as kubeconfig", ["--config", join(ROOT, "butane/example/config.yaml"), "--kubeconfig", join(ROOT, "butane/example/config.yaml"), ...url, ...hash], 64, "is not a kubeconfig"],
    ["a grace of 0", [...base, ...url, ...hash, "--shutdown-grace-period", "0s"], 64, "whole seconds"],
    ["a grace of a year", [...base, ...url, ...hash, "--shutdown-grace-period", "8760h"], 64, "whole seconds"],
    ["gzip on a sysext", [...base, "--sysext", "--sysext-url", "https://x.example/s.raw", "--sysext-sha512", "a".repeat(128), "--sysext-version", "1.0", "--binary-gzip"], 64, "gzip is not supported"],
    ["a sysext version with a dash", [...base, "--sysext", "--sysext-url", "https://x.example/s.raw", "--sysext-sha512", "a".repeat(128), "--sysext-version", "1.0-rc1"], 64, "version"],
  ])("%s", async (_name, args, code, message) => {
    const r = await render(["ignition", ...(args as string[])]);
    expect(r.code).toBe(code);
    expect(r.stderr).toContain(message);
  });

  it("a bad configuration exits 78 naming the key, as sluice run would", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.yaml"), "concurrency: lots\n");
    const r = await render(["butane", "--config", join(dir, "c.yaml"), "--kubeconfig", join(ROOT, "butane/example/kubeconfig"), "--binary-url", "https://x.example/s", "--binary-sha512", "a".repeat(128)]);
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("c.yaml:1: concurrency");
  });

  it("a stateDir the unit cannot write is refused", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.yaml"), "stateDir: /srv/sluice\n");
    const r = await render(["butane", "--config", join(dir, "c.yaml"), "--kubeconfig", join(ROOT, "butane/example/kubeconfig"), "--binary-url", "https://x.example/s", "--binary-sha512", "a".repeat(128)]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("stateDir must be /var/lib/sluice");
  });

  it("the kubeconfig goes where the configuration's kubeconfig key says", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "c.yaml"), "kubeconfig: /etc/sluice/sa.kubeconfig\n");
    const r = await render(["ignition", "--config", join(dir, "c.yaml"), "--kubeconfig", join(ROOT, "butane/example/kubeconfig"), "--binary-url", "https://x.example/s", "--binary-sha512", "a".repeat(128)]);
    expect(r.code).toBe(0);
    const files = JSON.parse(r.stdout).storage.files as Array<{ path: string; mode: number }>;
    expect(files.find((f) => f.path === "/etc/sluice/sa.kubeconfig")?.mode).toBe(0o600);
  });
});
