/**
 * Kubeconfig resolution: from the file's text to the one cluster and user a client talks as.
 * Pure (no file is read here): files named in the kubeconfig are resolved to absolute paths and
 * read by the credentials (credentials.ts), which re-read them when they rotate.
 *
 * Supported: token, tokenFile, client certificate and key as files or data, basic auth, `as`
 * (impersonation), exec credential plugins, CA as file or data, insecure-skip-tls-verify,
 * tls-server-name, current-context or a chosen context, and in-cluster config. Anything else a
 * kubeconfig can say and client-node would act on (auth-provider gcp/azure/oidc, proxy-url) is an
 * error naming it: silently talking without the credential asked for is worse than not starting.
 * Secrets (tokens, passwords, key data) never appear in an error message.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { SluiceError } from "../ports/errors";

/** PEM material from a file (read on use, re-read when it changes) or inline (base64 in the file). */
export type Material = { file: string } | { data: Buffer };

export interface ExecConfig {
  apiVersion: "client.authentication.k8s.io/v1" | "client.authentication.k8s.io/v1beta1";
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  provideClusterInfo: boolean;
  installHint?: string;
}

export interface UserAuth {
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  clientCert?: Material;
  clientKey?: Material;
  exec?: ExecConfig;
  /** Impersonate-User header (kubeconfig `as`). */
  impersonate?: string;
}

export interface KubeTarget {
  /** The context used (or "in-cluster"). */
  context: string;
  /** https://host:port[/prefix], without a trailing slash. */
  server: string;
  namespace?: string;
  ca?: Material;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  user: UserAuth;
  /** Things an operator should hear about once (e.g. TLS verification switched off). */
  warnings: string[];
}

export class KubeconfigError extends SluiceError {}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function fail(code: "kubeconfig-invalid" | "kubeconfig-unsupported", where: string, message: string): never {
  throw new KubeconfigError(code, `${where}: ${message}`);
}

function str(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") fail("kubeconfig-invalid", where, `${key} must be a string`);
  return v;
}

function named(list: unknown, kind: "clusters" | "users" | "contexts", name: string, where: string): Obj {
  if (list !== undefined && list !== null && !Array.isArray(list)) fail("kubeconfig-invalid", where, `${kind} must be a list`);
  const inner = kind.slice(0, -1);
  const hit = ((list as unknown[] | null) ?? []).find((e) => isObj(e) && e.name === name) as Obj | undefined;
  if (!hit) fail("kubeconfig-invalid", where, `no ${inner} named "${name}" in ${kind}`);
  const body = hit[inner];
  if (body === undefined || body === null) return {};
  if (!isObj(body)) fail("kubeconfig-invalid", where, `${kind} "${name}": ${inner} must be a mapping`);
  return body;
}

function base64(text: string, where: string, key: string): Buffer {
  const clean = text.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) fail("kubeconfig-invalid", where, `${key} is not base64`);
  return Buffer.from(clean, "base64");
}

/**
 * One of a file/data pair. Both set is refused: client-go lets the data win and client-node the
 * file, so a kubeconfig with both means different credentials to different tools.
 */
function material(o: Obj, fileKey: string, dataKey: string, base: string | undefined, where: string): Material | undefined {
  const file = str(o, fileKey, where);
  const data = str(o, dataKey, where);
  if (file && data) fail("kubeconfig-invalid", where, `both ${fileKey} and ${dataKey} are set; keep one`);
  if (data) return { data: base64(data, where, dataKey) };
  if (file) return { file: absolute(file, base) };
  return undefined;
}

/** Relative paths in a kubeconfig are relative to the file itself, as kubectl reads them. */
function absolute(file: string, base: string | undefined): string {
  return isAbsolute(file) || base === undefined ? file : resolve(base, file);
}

function serverUrl(text: string, where: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail("kubeconfig-invalid", where, `server ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail("kubeconfig-invalid", where, `server ${JSON.stringify(text)}: only https:// and http:// are supported`);
  if (url.username || url.password) fail("kubeconfig-invalid", where, "server URL must not carry credentials");
  return text.replace(/\/+$/, "");
}

function execConfig(e: Obj, where: string): ExecConfig {
  const apiVersion = str(e, "apiVersion", where);
  if (apiVersion !== "client.authentication.k8s.io/v1" && apiVersion !== "client.authentication.k8s.io/v1beta1") {
    fail("kubeconfig-unsupported", where, `exec apiVersion ${JSON.stringify(apiVersion ?? "")} is not supported (client.authentication.k8s.io/v1 or v1beta1)`);
  }
  const command = str(e, "command", where);
  if (!command) fail("kubeconfig-invalid", where, "exec.command is missing");
  const args = e.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== "string")) fail("kubeconfig-invalid", where, "exec.args must be a list of strings");
  const env = e.env ?? [];
  if (!Array.isArray(env) || env.some((x) => !isObj(x) || typeof x.name !== "string")) fail("kubeconfig-invalid", where, "exec.env must be a list of {name, value}");
  if (e.interactiveMode === "Always") fail("kubeconfig-unsupported", where, "exec.interactiveMode Always: sluice runs without a terminal");
  return {
    apiVersion,
    command,
    args: args as string[],
    env: (env as Obj[]).map((x) => ({ name: x.name as string, value: String(x.value ?? "") })),
    provideClusterInfo: e.provideClusterInfo === true,
    installHint: str(e, "installHint", where),
  };
}

function userAuth(u: Obj, base: string | undefined, where: string): UserAuth {
  const provider = u["auth-provider"];
  if (isObj(provider)) {
    fail("kubeconfig-unsupported", where, `auth-provider "${String(provider.name ?? "?")}" is not supported (client-node's legacy gcp/azure/oidc providers); use an exec credential plugin`);
  }
  for (const k of ["as-groups", "as-uid", "as-user-extra"]) if (u[k] !== undefined) fail("kubeconfig-unsupported", where, `${k} is not supported`);
  const auth: UserAuth = {
    token: str(u, "token", where)?.trim(),
    tokenFile: str(u, "tokenFile", where) ?? str(u, "token-file", where),
    username: str(u, "username", where),
    password: str(u, "password", where),
    clientCert: material(u, "client-certificate", "client-certificate-data", base, where),
    clientKey: material(u, "client-key", "client-key-data", base, where),
    impersonate: str(u, "as", where),
  };
  if (auth.tokenFile) auth.tokenFile = absolute(auth.tokenFile, base);
  if (Boolean(auth.clientCert) !== Boolean(auth.clientKey)) fail("kubeconfig-invalid", where, "a client certificate needs its key and a key its certificate");
  if (isObj(u.exec)) auth.exec = execConfig(u.exec, where);
  return auth;
}

export interface LoadOptions {
  /** The file the text came from: relative paths inside it are resolved against its directory. */
  path?: string;
  /** Use this context instead of current-context. */
  context?: string;
}

/** Resolves the kubeconfig's current (or chosen) context into what a client needs. */
export function resolveKubeconfig(text: string, options: LoadOptions = {}): KubeTarget {
  const where = options.path ?? "kubeconfig";
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // The YAML library quotes the offending line, which may hold a token: say where, not what.
    const pos = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    fail("kubeconfig-invalid", where, `not valid YAML${pos ? ` (line ${pos})` : ""}`);
  }
  if (!isObj(doc)) fail("kubeconfig-invalid", where, "not a kubeconfig (expected a mapping with clusters, users and contexts)");
  const contextName = options.context ?? str(doc, "current-context", where);
  if (!contextName) fail("kubeconfig-invalid", where, "no current-context and no context chosen");
  const ctx = named(doc.contexts, "contexts", contextName, where);
  const clusterName = str(ctx, "cluster", where);
  if (!clusterName) fail("kubeconfig-invalid", where, `context "${contextName}" names no cluster`);
  const cluster = named(doc.clusters, "clusters", clusterName, where);
  const userName = str(ctx, "user", where);
  const user = userName ? named(doc.users, "users", userName, where) : {};
  const base = options.path ? dirname(options.path) : undefined;
  const server = str(cluster, "server", where);
  if (!server) fail("kubeconfig-invalid", where, `cluster "${clusterName}" has no server`);
  if (str(cluster, "proxy-url", where)) fail("kubeconfig-unsupported", where, `cluster "${clusterName}": proxy-url is not supported; sluice connects to the API server directly`);
  const insecure = cluster["insecure-skip-tls-verify"] === true;
  const target: KubeTarget = {
    context: contextName,
    server: serverUrl(server, where),
    namespace: str(ctx, "namespace", where),
    ca: material(cluster, "certificate-authority", "certificate-authority-data", base, where),
    insecureSkipTlsVerify: insecure,
    tlsServerName: str(cluster, "tls-server-name", where),
    user: userAuth(user, base, where),
    warnings: [],
  };
  if (insecure && target.server.startsWith("https:")) target.warnings.push(`${where}: insecure-skip-tls-verify is set: the API server's certificate is not checked`);
  return target;
}

export const SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The in-cluster config (a pod's ServiceAccount), as client-go's rest.InClusterConfig builds it. */
export function inClusterTarget(env: Record<string, string | undefined>, dir = SERVICEACCOUNT_DIR): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) fail("kubeconfig-invalid", "in-cluster", "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return {
    context: "in-cluster",
    server: serverUrl(`https://${h}:${port}`, "in-cluster"),
    ca: { file: `${dir}/ca.crt` },
    insecureSkipTlsVerify: false,
    user: { tokenFile: `${dir}/token` },
    warnings: [],
  };
}
