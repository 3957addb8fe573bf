/** RFC 2397 data URLs, as Ignition reads inline contents. */

// Characters left as they are; everything else is percent-encoded as UTF-8 (what Butane does,
// and it keeps a rendered config readable with `grep`).
const PLAIN = /[A-Za-z0-9\-_.!~*'()]/;

export function toDataUrl(text: string): string {
  let out = "data:,";
  for (const b of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && PLAIN.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export function fromDataUrl(url: string): Buffer {
  const m = /^data:([^,]*),(.*)$/s.exec(url);
  if (!m) throw new Error(`not a data URL: ${url.slice(0, 40)}`);
  return m[1]!.endsWith(";base64") ? Buffer.from(m[2]!, "base64") : Buffer.from(decodeURIComponent(m[2]!), "utf8");
}
