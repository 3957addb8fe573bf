/**
 * metav1.MicroTime on the wire: RFC 3339 in UTC with exactly 6 fractional digits. The API server
 * parses it with a fixed layout, so Date#toISOString's 3 digits are refused with 400.
 */

export function formatMicroTime(at: Date | number): string {
  const ms = typeof at === "number" ? at : at.getTime();
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * A Date that serialises (toJSON goes through toISOString) as a MicroTime. Read from the wire it
 * keeps the server's own text while its time is unchanged, so an untouched `acquireTime` goes
 * back with its microseconds rather than truncated to JavaScript's milliseconds.
 * Structurally the same as client-node's V1MicroTime, so its types accept it.
 */
export class MicroTime extends Date {
  #wire: string | undefined;
  #wireMs: number | undefined;

  constructor(at: number | string) {
    super(typeof at === "string" ? Date.parse(at) : at);
    if (typeof at === "string" && isMicroTime(at) && at.endsWith("Z")) {
      this.#wire = at;
      this.#wireMs = this.getTime();
    }
  }

  override toISOString(): string {
    if (this.#wire !== undefined && this.getTime() === this.#wireMs) return this.#wire;
    return formatMicroTime(this.getTime());
  }
}

/** A Date whose JSON is a valid MicroTime. */
export function microTime(at: Date | number | string): MicroTime {
  if (at instanceof MicroTime) return at;
  return new MicroTime(typeof at === "string" ? at : typeof at === "number" ? at : at.getTime());
}

const MICRO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

export function isMicroTime(text: string): boolean {
  return MICRO_RE.test(text);
}
