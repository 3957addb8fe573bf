/** List continue tokens, as k8s.io/apiserver's etcd3 store makes them. */
import { badRequest } from "./status";

type Obj = Record<string, any>;

/** The continue token of k8s.io/apiserver's etcd3 store: base64url(JSON{v, rv, start}), unpadded. */
export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start })).toString("base64url");
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const o = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Obj;
    if (o.v !== "meta.k8s.io/v1" || typeof o.rv !== "number" || typeof o.start !== "string") throw new Error("bad");
    return { rv: o.rv, start: o.start };
  } catch {
    throw badRequest(`continue key is not valid: invalid continue token`);
  }
}
