/**
 * The test's view of the API server, as an operator's kubectl would have it: plain REST with the
 * admin token over loopback. Deliberately not sluice's own Kube client, so that what the test
 * observes does not depend on the code under test.
 */
export type KObj = { metadata: { name: string; uid?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string; resourceVersion?: string }; [k: string]: any };

export class Api {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": contentType }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  }

  async get(path: string): Promise<KObj | undefined> {
    const r = await this.request("GET", path);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body as KObj;
  }

  async list(path: string): Promise<KObj[]> {
    const r = await this.request("GET", path);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return (r.body as { items: KObj[] }).items;
  }

  async write(method: "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<any> {
    const r = await this.request(method, path, body, method === "PATCH" ? "application/merge-patch+json" : "application/json");
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  }
}
