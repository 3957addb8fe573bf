/**
 * metav1.MicroTime on the wire: RFC 3339 in UTC with exactly 6 fractional digits. The API server
 * parses it with a fixed layout, so Date#toISOString's 3 digits are refused with 400.
 */
import { V1MicroTime } from "@kubernetes/client-node";

export function formatMicroTime(at: Date | number): string {
  const ms = typeof at === "number" ? at : at.getTime();
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** A Date whose JSON is a valid MicroTime (client-node serialises Date fields with toISOString). */
export function microTime(at: Date | number | string): V1MicroTime {
  const ms = typeof at === "string" ? Date.parse(at) : typeof at === "number" ? at : at.getTime();
  return new V1MicroTime(ms);
}

const MICRO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

export function isMicroTime(text: string): boolean {
  return MICRO_RE.test(text);
}
