/**
 * A throw-away PKI made with the real openssl: a CA, a server certificate for 127.0.0.1 and the
 * name "kubernetes", and client certificates signed by the CA (their CN is the user's name).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Writes a client certificate and key for `cn` to `<name>.crt` / `<name>.key`; returns the paths. */
  client(cn: string, name?: string): { cert: string; key: string };
  read(path: string): Buffer;
}

function ssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

export function makePki(dir: string): Pki {
  ssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=sluice-test-ca");
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1,DNS:kubernetes\nextendedKeyUsage=serverAuth\n");
  ssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kube-apiserver");
  ssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
  return {
    dir,
    ca: join(dir, "ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    client(cn, name = cn) {
      writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
      ssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
      ssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", "client.ext");
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
    read: (path) => readFileSync(path),
  };
}
