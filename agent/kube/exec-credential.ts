/**
 * Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), as client-go runs them:
 * the command with its args and env, KUBERNETES_EXEC_INFO describing the request, an
 * ExecCredential on stdout. The answer is kept until its expirationTimestamp (or, without one,
 * until the server answers 401) and the plugin is run again after that.
 */
import { spawn } from "node:child_process";
import { SluiceError } from "../ports/errors";
import type { ExecConfig } from "./kubeconfig";

export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** ms since the epoch; undefined: valid until the server refuses it. */
  expiresAt?: number;
}

const MAX_OUTPUT = 1 << 20;

function fail(config: ExecConfig, message: string): never {
  const hint = config.installHint ? ` (${config.installHint.trim()})` : "";
  throw new SluiceError("exec-credential-failed", `exec credential plugin ${config.command}: ${message}${hint}`);
}

/** Parses the plugin's stdout; never quotes it (it holds the credential). */
export function parseExecCredential(config: ExecConfig, stdout: string): ExecCredential {
  let doc: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    fail(config, "did not print an ExecCredential (not JSON)");
  }
  if (doc?.kind !== "ExecCredential") fail(config, `printed kind ${JSON.stringify(doc?.kind)}, not ExecCredential`);
  if (doc.apiVersion !== config.apiVersion) fail(config, `printed apiVersion ${JSON.stringify(doc.apiVersion)}, the kubeconfig asks for ${config.apiVersion}`);
  const s = doc.status ?? {};
  const text = (k: string) => (typeof s[k] === "string" && s[k] !== "" ? (s[k] as string) : undefined);
  const cred: ExecCredential = { token: text("token"), clientCertificateData: text("clientCertificateData"), clientKeyData: text("clientKeyData") };
  if (!cred.token && !(cred.clientCertificateData && cred.clientKeyData)) fail(config, "the ExecCredential has neither a token nor a client certificate and key");
  if (Boolean(cred.clientCertificateData) !== Boolean(cred.clientKeyData)) fail(config, "the ExecCredential has a client certificate without its key, or a key without its certificate");
  const exp = text("expirationTimestamp");
  if (exp !== undefined) {
    const ms = Date.parse(exp);
    if (Number.isNaN(ms)) fail(config, `expirationTimestamp ${JSON.stringify(exp)} is not a time`);
    cred.expiresAt = ms;
  }
  return cred;
}

export interface ExecRun {
  env: Record<string, string | undefined>;
  /** For provideClusterInfo. */
  cluster: { server: string; tlsServerName?: string; insecureSkipTlsVerify: boolean; caData?: string };
  timeoutMs?: number;
}

export function runExecPlugin(config: ExecConfig, run: ExecRun): Promise<ExecCredential> {
  const spec: Record<string, unknown> = { interactive: false };
  if (config.provideClusterInfo) {
    spec.cluster = {
      server: run.cluster.server,
      "tls-server-name": run.cluster.tlsServerName,
      "insecure-skip-tls-verify": run.cluster.insecureSkipTlsVerify,
      "certificate-authority-data": run.cluster.caData,
    };
  }
  const env: Record<string, string | undefined> = { ...run.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion: config.apiVersion, kind: "ExecCredential", spec }) };
  for (const e of config.env) env[e.name] = e.value;
  return new Promise<ExecCredential>((resolve, reject) => {
    const child = spawn(config.command, config.args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: run.timeoutMs ?? 30_000 });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      size += b.length;
      if (size > MAX_OUTPUT) child.kill("SIGKILL");
      else out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => (stderr = (stderr + b.toString("utf8")).slice(-500)));
    child.on("error", (err: NodeJS.ErrnoException) => {
      try {
        fail(config, err.code === "ENOENT" ? "command not found" : err.message);
      } catch (e) {
        reject(e);
      }
    });
    child.on("close", (code, signal) => {
      try {
        if (size > MAX_OUTPUT) fail(config, "printed more than 1 MiB");
        if (signal) fail(config, `killed by ${signal}${signal === "SIGTERM" ? " (timed out)" : ""}`);
        if (code !== 0) fail(config, `exited with ${code}${stderr.trim() ? `: ${stderr.trim().split("\n").pop()}` : ""}`);
        resolve(parseExecCredential(config, Buffer.concat(out).toString("utf8")));
      } catch (e) {
        reject(e);
      }
    });
  });
}
