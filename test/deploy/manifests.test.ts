/**
 * Everything under deploy/ is what `kubectl apply -f deploy/` and `kubectl apply -k deploy/`
 * read: every YAML document a Kubernetes object (apiVersion, kind, metadata.name) or a
 * kustomization whose resources exist; each directory a user applies creates its objects in
 * the in-memory API server, and -k names the same objects as -f. Examples live in docs/examples.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { loadConfig } from "../../agent/config/load";
import { nodeFs } from "../../agent/host";
import { type KObj, SimServer } from "../../agent/sim";

const DEPLOY = new URL("../../deploy", import.meta.url).pathname;

/**
 * deploy/monitoring/files/ holds what Prometheus and Grafana read themselves (a plain rules file,
 * a dashboard), not Kubernetes objects; `kubectl apply -f deploy/monitoring/` does not recurse
 * into it.
 */
const NOT_MANIFESTS = new Set([join("monitoring", "files")]);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((f) => {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) return NOT_MANIFESTS.has(relative(DEPLOY, p)) ? [] : yamlFiles(p);
      return /\.ya?ml$/.test(f) ? [p] : [];
    })
    .sort();
}

function documents(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
    expect(d.errors, relative(DEPLOY, file)).toEqual([]);
    return d.toJS() as unknown;
  }).filter((d) => d !== null && d !== undefined);
}

const isKustomization = (f: string) => /(^|\/)kustomization\.ya?ml$/.test(f);

/** What `kubectl apply -f DIR` reads: the directory's own files, not its subdirectories. */
function applyDashF(dir: string): KObj[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !isKustomization(f))
    .sort()
    .flatMap((f) => documents(join(dir, f)) as KObj[]);
}

/** What `kubectl apply -k DIR` reads: its kustomization's resources (files, or directories with their own). */
function applyDashK(dir: string): KObj[] {
  const k = documents(join(dir, "kustomization.yaml"))[0] as { resources?: string[] };
  return (k.resources ?? []).flatMap((r) => {
    const p = join(dir, r);
    expect(existsSync(p), `${relative(DEPLOY, dir)}/kustomization.yaml names ${r}`).toBe(true);
    return statSync(p).isDirectory() ? applyDashK(p) : (documents(p) as KObj[]);
  });
}

const id = (o: KObj) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

/** Kinds of groups the sim does not serve but that deploy/ may hold (CRDs of the Prometheus operator). */
const foreignGroups = new Set(["monitoring.coreos.com"]);

let server: SimServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe("deploy/", () => {
  const files = yamlFiles(DEPLOY);

  it("holds only Kubernetes objects and kustomizations, no example configuration", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      for (const doc of documents(f)) {
        const o = doc as Record<string, any>;
        const where = relative(DEPLOY, f);
        if (isKustomization(f)) {
          expect({ where, apiVersion: o.apiVersion, kind: o.kind }).toEqual({ where, apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization" });
          continue;
        }
        expect(typeof o.apiVersion, `${where}: apiVersion`).toBe("string");
        expect(o.apiVersion, where).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
        expect(typeof o.kind, `${where}: kind`).toBe("string");
        expect(o.kind, where).toMatch(/^[A-Z][A-Za-z]+$/);
        expect(typeof o.metadata?.name, `${where}: ${o.kind} metadata.name`).toBe("string");
      }
    }
  });

  it("names in each kustomization exactly the objects kubectl apply -f reads from its directory", () => {
    const dirs = files.filter(isKustomization).map(dirname);
    expect(dirs.map((d) => relative(DEPLOY, d) || ".")).toEqual(expect.arrayContaining([".", "node-identity", "node-identity-taint"]));
    for (const d of dirs) {
      const own = applyDashF(d).map(id);
      const viaK = applyDashK(d).map(id);
      // -k may add another directory's objects (node-identity-taint includes node-identity), never drop its own.
      expect(viaK, relative(DEPLOY, d)).toEqual(expect.arrayContaining(own));
      expect(new Set(viaK).size, `${relative(DEPLOY, d)}: no object twice`).toBe(viaK.length);
    }
  });

  for (const [what, dirs] of [
    ["kubectl apply -f deploy/", ["."]],
    ["kubectl apply -f deploy/node-identity/", ["node-identity"]],
    ["kubectl apply -f deploy/node-identity/ -f deploy/node-identity-taint/", ["node-identity", "node-identity-taint"]],
  ] as const) {
    it(`${what}: every object is created in the API server`, async () => {
      server = await new SimServer().start();
      const objs = dirs.flatMap((d) => applyDashF(join(DEPLOY, d)));
      expect(objs.length).toBeGreaterThan(0);
      for (const o of objs) {
        const group = String(o.apiVersion).includes("/") ? String(o.apiVersion).split("/")[0] : "";
        if (foreignGroups.has(group)) continue;
        server.apply(structuredClone(o));
      }
      for (const o of objs.filter((x) => x.kind === "ServiceAccount" || x.kind.endsWith("Binding"))) {
        const storage = o.kind === "ServiceAccount" ? "/serviceaccounts" : `rbac.authorization.k8s.io/${o.kind.toLowerCase()}s`;
        const key = o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
        expect(server.store.get(storage, key), id(o)).toBeDefined();
      }
    });
  }

  it("leaves the example configuration to docs/examples/config.yaml, where it loads as a valid configuration", async () => {
    const example = new URL("../../docs/examples/config.yaml", import.meta.url).pathname;
    const cfg = await loadConfig({ fs: nodeFs, env: {}, configPath: example, dropinDir: "/nonexistent" });
    expect(cfg.settings).toMatchObject({ concurrency: 2, rebootDays: expect.any(Array) });
  });

  const kubectl = (() => {
    try {
      execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();

  // kubectl is not a Debian package this project installs: where it is on PATH, its own
  // kustomize confirms what the structural check above derives.
  it.skipIf(!kubectl)("kubectl kustomize builds each directory into the objects -k is expected to apply", () => {
    for (const d of files.filter(isKustomization).map(dirname)) {
      const built = parseAllDocuments(execFileSync("kubectl", ["kustomize", d], { encoding: "utf8" })).map((x) => x.toJS() as KObj);
      expect(built.map(id).sort(), relative(DEPLOY, d)).toEqual(applyDashK(d).map(id).sort());
    }
  });
});

it("deploy/rbac.yaml loads as it is into a sim that already serves the sluice namespace (sim serve --auth)", async () => {
  const rbac = readFileSync(new URL("../../deploy/rbac.yaml", import.meta.url), "utf8");
  const s = await new SimServer({ namespaces: ["sluice"], authYaml: rbac }).start();
  try {
    expect(s.store.get("/namespaces", "sluice")).toBeDefined();
  } finally {
    await s.stop();
  }
});
