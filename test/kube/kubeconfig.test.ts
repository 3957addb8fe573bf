/**
 * The kubeconfig loader against client-node's KubeConfig (the reference) on a corpus of
 * kubeconfigs: the same server, TLS material and credentials for every case both support, and a
 * clear error, naming what is unsupported and no secret, for what only client-node takes.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Credentials } from "../../agent/kube/credentials";
import { SERVICEACCOUNT_DIR, inClusterTarget, resolveKubeconfig } from "../../agent/kube/kubeconfig";
import { type Pki, makePki } from "./pki";

interface Resolved {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  authorization?: string;
  impersonate?: string;
  insecure: boolean;
  servername?: string;
}

const text = (b: unknown) => (b === undefined || b === null ? undefined : Buffer.isBuffer(b) ? b.toString("utf8") : String(b));

async function ours(path: string, yaml: string, context?: string): Promise<Resolved> {
  const t = resolveKubeconfig(yaml, { path, context });
  const cur = await new Credentials(t, {}).current();
  return {
    server: t.server,
    ca: text(cur.tls.ca),
    cert: text(cur.tls.cert),
    key: text(cur.tls.key),
    authorization: cur.headers.authorization,
    impersonate: cur.headers["impersonate-user"],
    insecure: t.insecureSkipTlsVerify,
    servername: t.tlsServerName,
  };
}

async function reference(path: string, context?: string): Promise<Resolved> {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (context) kc.setCurrentContext(context);
  const opts: Record<string, any> = {};
  await kc.applyToHTTPSOptions(opts);
  const basic = opts.auth ? `Basic ${Buffer.from(String(opts.auth)).toString("base64")}` : undefined;
  return {
    server: kc.getCurrentCluster()!.server,
    ca: text(opts.ca),
    cert: text(opts.cert),
    key: text(opts.key),
    authorization: opts.headers?.Authorization ?? basic,
    impersonate: opts.headers?.["Impersonate-User"],
    insecure: opts.rejectUnauthorized === false,
    servername: opts.servername,
  };
}

let dir: string;
let pki: Pki;
let b64: (path: string) => string;

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, extra: Record<string, unknown> = {}): { path: string; yaml: string } {
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster }, { name: "other", cluster: { server: "https://other.example:6443" } }],
    users: [{ name: "u", user }, { name: "other-user", user: { token: "other-token" } }],
    contexts: [{ name: "main", context: { cluster: "c", user: "u" } }, { name: "second", context: { cluster: "other", user: "other-user" } }],
    "current-context": "main",
    ...extra,
  };
  const yaml = JSON.stringify(doc, null, 1); // JSON is YAML: both loaders parse the same bytes.
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(path, yaml, { mode: 0o600 });
  return { path, yaml };
}

describe("kubeconfig corpus: the same answers as client-node", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "sluice-kubeconfig-"));
    pki = makePki(dir);
    pki.client("system:node:node-a", "client");
    b64 = (p: string) => pki.read(p).toString("base64");
    writeFileSync(join(dir, "token"), "file-token-1");
    writeFileSync(join(dir, "exec-v1.sh"), `#!/bin/sh\nprintf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token-v1","expirationTimestamp":"2099-01-01T00:00:00Z"}}'\n`);
    writeFileSync(join(dir, "exec-v1beta1.sh"), `#!/bin/sh\nprintf '%s' "{\\"apiVersion\\":\\"client.authentication.k8s.io/v1beta1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"exec-token-$PLUGIN_SUFFIX\\"}}"\n`);
    chmodSync(join(dir, "exec-v1.sh"), 0o755);
    chmodSync(join(dir, "exec-v1beta1.sh"), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, () => { cluster: Record<string, unknown>; user: Record<string, unknown>; context?: string }]> = [
    ["bearer token, CA data", () => ({ cluster: { server: "https://10.0.0.1:6443", "certificate-authority-data": b64(pki.ca) }, user: { token: "tok-123" } })],
    ["CA file (relative to the kubeconfig), token", () => ({ cluster: { server: "https://k8s.example:443/", "certificate-authority": "ca.crt" }, user: { token: "tok-abc" } })],
    ["client certificate and key as files (relative)", () => ({ cluster: { server: "https://10.0.0.1:6443", "certificate-authority": pki.ca }, user: { "client-certificate": "client.crt", "client-key": "client.key" } })],
    ["client certificate and key as data", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { "client-certificate-data": b64(join(dir, "client.crt")), "client-key-data": b64(join(dir, "client.key")) } })],
    ["token-file (client-node's spelling)", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { "token-file": join(dir, "token") } })],
    ["insecure-skip-tls-verify", () => ({ cluster: { server: "https://10.0.0.1:6443", "insecure-skip-tls-verify": true }, user: { token: "t" } })],
    ["tls-server-name", () => ({ cluster: { server: "https://10.0.0.1:6443", "certificate-authority": pki.ca, "tls-server-name": "kubernetes" }, user: { token: "t" } })],
    ["basic auth", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { username: "admin", password: "s3cret" } })],
    ["impersonation (as)", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { token: "t", as: "system:serviceaccount:sluice:agent" } })],
    ["exec plugin v1 with expiry", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: join(dir, "exec-v1.sh"), interactiveMode: "Never" } } })],
    ["exec plugin v1beta1 with env", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: join(dir, "exec-v1beta1.sh"), env: [{ name: "PLUGIN_SUFFIX", value: "b1" }] } } })],
    ["a static token wins over an exec plugin", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { token: "static", exec: { apiVersion: "client.authentication.k8s.io/v1", command: join(dir, "exec-v1.sh") } } })],
    ["plain http server (as the sim's)", () => ({ cluster: { server: "http://127.0.0.1:8080", "insecure-skip-tls-verify": true }, user: { token: "sim-admin" } })],
    ["context override", () => ({ cluster: { server: "https://10.0.0.1:6443" }, user: { token: "t" }, context: "second" })],
  ];

  for (const [name, make] of cases) {
    it(name, async () => {
      const c = make();
      const { path, yaml } = kubeconfig(name.replace(/\W+/g, "-"), c.cluster, c.user);
      const [mine, theirs] = [await ours(path, yaml, c.context), await reference(path, c.context)];
      expect(mine).toEqual(theirs);
      // Not vacuous: every case resolves to some server and, but for plain http, a credential.
      expect(mine.server).toMatch(/^https?:\/\//);
      expect(Boolean(mine.authorization || mine.cert)).toBe(true);
    });
  }

  it("in-cluster: the ServiceAccount's token file and CA at the service address", async () => {
    const root = join(dir, "root");
    const sa = `${root}${SERVICEACCOUNT_DIR}`;
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, "token"), "sa-token");
    writeFileSync(join(sa, "ca.crt"), pki.read(pki.ca));
    writeFileSync(join(sa, "namespace"), "sluice");
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const t = inClusterTarget(env, sa);
    const cur = await new Credentials(t, {}).current();
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const kc = new KubeConfig();
    const opts: Record<string, any> = {};
    try {
      kc.loadFromCluster(root);
      await kc.applyToHTTPSOptions(opts);
    } finally {
      process.env = saved;
    }
    expect(t.server).toBe(kc.getCurrentCluster()!.server);
    expect(cur.headers.authorization).toBe(opts.headers.Authorization);
    expect(cur.headers.authorization).toBe("Bearer sa-token");
    expect(text(cur.tls.ca)).toBe(text(opts.ca));
    expect(() => inClusterTarget({})).toThrow(/KUBERNETES_SERVICE_HOST/);
    expect(inClusterTarget({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }).server).toBe("https://[fd00::1]:443");
  });
});

describe("kubeconfig: beyond client-node, and what is refused", () => {
  let d: string;
  beforeAll(() => {
    d = mkdtempSync(join(tmpdir(), "sluice-kubeconfig-"));
  });
  afterAll(() => rmSync(d, { recursive: true, force: true }));

  const doc = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: "https://10.0.0.1:6443" }) =>
    JSON.stringify({ clusters: [{ name: "c", cluster }], users: [{ name: "u", user }], contexts: [{ name: "x", context: { cluster: "c", user: "u" } }], "current-context": "x" });

  it("reads kubectl's tokenFile (client-node knows only token-file), trimmed, and again when it rotates", async () => {
    const file = join(d, "token");
    writeFileSync(file, "first-token\n");
    const creds = new Credentials(resolveKubeconfig(doc({ tokenFile: "token" }), { path: join(d, "kc") }), {});
    expect((await creds.current()).headers.authorization).toBe("Bearer first-token");
    // A projected token is replaced by a rename, as the kubelet does with its ..data symlink.
    writeFileSync(`${file}.new`, "second-token");
    const { renameSync } = await import("node:fs");
    renameSync(`${file}.new`, file);
    expect((await creds.current()).headers.authorization).toBe("Bearer second-token");
  });

  it("runs an exec plugin once while its credential is valid, again once it nears expiry", async () => {
    const counter = join(d, "runs");
    writeFileSync(counter, "");
    const plugin = join(d, "plugin.sh");
    writeFileSync(plugin, `#!/bin/sh\necho x >> ${counter}\nn=$(wc -l < ${counter})\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t-%s","expirationTimestamp":"2030-01-01T00:10:00Z"}}' $n\n`);
    chmodSync(plugin, 0o755);
    let now = Date.UTC(2030, 0, 1, 0, 0, 0);
    const creds = new Credentials(resolveKubeconfig(doc({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } })), {}, () => now);
    expect((await creds.current()).headers.authorization).toBe("Bearer t-1");
    expect((await creds.current()).headers.authorization).toBe("Bearer t-1");
    now = Date.UTC(2030, 0, 1, 0, 9, 30); // within a minute of the expiry
    expect((await creds.current()).headers.authorization).toBe("Bearer t-2");
    creds.invalidate(); // a 401: run again even though not expired
    expect((await creds.current()).headers.authorization).toBe("Bearer t-3");
  });

  it.each([
    ["auth-provider oidc", doc({ "auth-provider": { name: "oidc", config: { "client-secret": "SECRET-1", "id-token": "SECRET-2" } } }), /auth-provider "oidc" is not supported/],
    ["auth-provider gcp", doc({ "auth-provider": { name: "gcp", config: { "access-token": "SECRET-1" } } }), /auth-provider "gcp" is not supported/],
    ["auth-provider azure", doc({ "auth-provider": { name: "azure", config: { "access-token": "SECRET-1" } } }), /auth-provider "azure" is not supported/],
    ["proxy-url", doc({ token: "SECRET-1" }, { server: "https://10.0.0.1:6443", "proxy-url": "socks5://proxy:1080" }), /proxy-url is not supported/],
    ["exec interactive", doc({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "x", interactiveMode: "Always" } }), /interactiveMode Always/],
    ["exec v1alpha1", doc({ exec: { apiVersion: "client.authentication.k8s.io/v1alpha1", command: "x" } }), /v1alpha1" is not supported/],
    ["both file and data", doc({ token: "SECRET-1", "client-certificate": "a", "client-certificate-data": "U0VDUkVULTE=", "client-key-data": "U0VDUkVULTE=" }), /both client-certificate and client-certificate-data/],
    ["a key without its certificate", doc({ "client-key-data": "U0VDUkVULTE=" }), /needs its key/],
    ["no such context", doc({ token: "SECRET-1" }).replace('"current-context":"x"', '"current-context":"y"'), /no context named "y"/],
    ["a server that is not a URL", doc({ token: "SECRET-1" }, { server: "10.0.0.1:6443" }), /not a URL|only https/],
    ["broken YAML around a token", "users:\n- name: u\n  user: {token: SECRET-1\n", /not valid YAML/],
    ["not a mapping", "- SECRET-1\n", /not a kubeconfig/],
  ])("%s: a clear error without the secret", (_, yaml, message) => {
    let err: Error | undefined;
    try {
      resolveKubeconfig(yaml, { path: "/etc/sluice/kubeconfig" });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).toMatch(message);
    expect(err?.message).toMatch(/^\/etc\/sluice\/kubeconfig: /);
    expect(err?.message).not.toMatch(/SECRET/);
  });

  it("warns about insecure-skip-tls-verify over https, not over loopback http", () => {
    expect(resolveKubeconfig(doc({ token: "t" }, { server: "https://10.0.0.1:6443", "insecure-skip-tls-verify": true })).warnings[0]).toMatch(/not checked/);
    expect(resolveKubeconfig(doc({ token: "t" }, { server: "http://127.0.0.1:1", "insecure-skip-tls-verify": true })).warnings).toEqual([]);
  });
});
