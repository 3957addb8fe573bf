/**
 * What a request carries, kept current for a process that runs for months: a token file is
 * re-read when it changes (a projected ServiceAccount token rotates hourly), client certificate
 * and key files when the kubelet rotates them, and an exec plugin's answer is renewed before it
 * expires. Each request asks `current()`; files are stat'ed (cheap) and read only on change.
 */
import { stat, readFile } from "node:fs/promises";
import { SluiceError } from "../ports/errors";
import { type ExecCredential, runExecPlugin } from "./exec-credential";
import type { KubeTarget, Material } from "./kubeconfig";

export interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Changes whenever any of the three changed: the HTTPS agent is rebuilt then. */
  version: string;
}

export interface Current {
  tls: Tls;
  headers: Record<string, string>;
}

/** Renew an exec credential this long before it expires, as client-go does not wait for a 401. */
const EXEC_EARLY_MS = 60_000;

class WatchedFile {
  private key = "";
  private content: Buffer | undefined;

  constructor(
    readonly path: string,
    private readonly what: string,
  ) {}

  async read(): Promise<{ data: Buffer; key: string }> {
    try {
      const st = await stat(this.path);
      const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (key !== this.key || this.content === undefined) {
        this.content = await readFile(this.path);
        this.key = key;
      }
      return { data: this.content, key };
    } catch (err) {
      throw new SluiceError("credential-unreadable", `cannot read the ${this.what} ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function source(m: Material | undefined, what: string): WatchedFile | Buffer | undefined {
  if (!m) return undefined;
  return "file" in m ? new WatchedFile(m.file, what) : m.data;
}

async function load(s: WatchedFile | Buffer | undefined): Promise<{ data?: Buffer; key: string }> {
  if (s === undefined) return { key: "-" };
  if (Buffer.isBuffer(s)) return { data: s, key: "inline" };
  return s.read();
}

export class Credentials {
  private readonly ca: WatchedFile | Buffer | undefined;
  private readonly cert: WatchedFile | Buffer | undefined;
  private readonly key: WatchedFile | Buffer | undefined;
  private readonly tokenFile: WatchedFile | undefined;
  private exec: ExecCredential | undefined;
  private execRunning: Promise<ExecCredential> | undefined;

  constructor(
    private readonly target: KubeTarget,
    private readonly env: Record<string, string | undefined> = process.env,
    private readonly now: () => number = Date.now,
  ) {
    this.ca = source(target.ca, "certificate authority");
    this.cert = source(target.user.clientCert, "client certificate");
    this.key = source(target.user.clientKey, "client key");
    this.tokenFile = target.user.tokenFile ? new WatchedFile(target.user.tokenFile, "token file") : undefined;
  }

  async current(): Promise<Current> {
    const u = this.target.user;
    const exec = u.exec ? await this.execCredential() : undefined;
    const [ca, cert, key] = await Promise.all([load(this.ca), load(this.cert), load(this.key)]);
    const tls: Tls = { ca: ca.data, cert: cert.data, key: key.data, version: `${ca.key}|${cert.key}|${key.key}` };
    if (exec?.clientCertificateData) {
      tls.cert = Buffer.from(exec.clientCertificateData);
      tls.key = Buffer.from(exec.clientKeyData ?? "");
      tls.version += `|exec:${exec.expiresAt ?? ""}:${exec.clientCertificateData.length}`;
    }
    const headers: Record<string, string> = {};
    // client-go's order: a static token (or token file) wins over an exec plugin's token.
    const token = u.token ?? (this.tokenFile ? (await this.tokenFile.read()).data.toString("utf8").trim() : undefined) ?? exec?.token;
    if (token) headers.authorization = `Bearer ${token}`;
    else if (u.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${u.username}:${u.password ?? ""}`).toString("base64")}`;
    if (u.impersonate) headers["impersonate-user"] = u.impersonate;
    return { tls, headers };
  }

  /** After a 401: the exec plugin runs again on the next request (its token may have been revoked). */
  invalidate(): void {
    this.exec = undefined;
  }

  private async execCredential(): Promise<ExecCredential> {
    const have = this.exec;
    if (have && (have.expiresAt === undefined || have.expiresAt - EXEC_EARLY_MS > this.now())) return have;
    // One run at a time: a burst of requests after expiry must not start the plugin once each.
    this.execRunning ??= (async () => {
      const caData = this.target.ca ? ("data" in this.target.ca ? this.target.ca.data : await readFile(this.target.ca.file)).toString("base64") : undefined;
      return runExecPlugin(this.target.user.exec!, {
        env: this.env,
        cluster: { server: this.target.server, tlsServerName: this.target.tlsServerName, insecureSkipTlsVerify: this.target.insecureSkipTlsVerify, caData },
      });
    })().finally(() => (this.execRunning = undefined));
    this.exec = await this.execRunning;
    return this.exec;
  }
}
