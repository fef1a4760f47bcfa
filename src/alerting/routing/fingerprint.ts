import { quoteGo } from "../../promql/index.js";
/**
 * Alertmanager's identity of a label set: model.LabelSet.Fingerprint, FNV-1a 64 over the sorted label
 * names and values, each followed by the 0xff separator byte. Printed as 16 hex digits, as Alertmanager's
 * API and logs do, so `nines alerts why FINGERPRINT` takes the same ids.
 */

export type LabelSet = Readonly<Record<string, string>>;

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const encoder = new TextEncoder();

/** FNV-1a 64 in two 32-bit halves: prime 2^40 + 0x1b3, so hi·2^32 + lo times it splits into small products. */
function fnvAdd(state: [number, number], bytes: Uint8Array): void {
  let [hi, lo] = state;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  state[0] = hi;
  state[1] = lo;
}

const SEPARATOR = new Uint8Array([0xff]);

export function fingerprint(labels: LabelSet): string {
  const state: [number, number] = [OFFSET_HI, OFFSET_LO];
  for (const name of Object.keys(labels).sort(compareGo)) {
    fnvAdd(state, encoder.encode(name));
    fnvAdd(state, SEPARATOR);
    fnvAdd(state, encoder.encode(labels[name] ?? ""));
    fnvAdd(state, SEPARATOR);
  }
  return state[0].toString(16).padStart(8, "0") + state[1].toString(16).padStart(8, "0");
}

/** Go sorts strings by bytes; for the names Alertmanager allows that is code-unit order. */
export function compareGo(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** model.LabelSet.String(): `{a="1", b="2"}`, names sorted, values quoted as Go's %q does. */
export function labelSetString(labels: LabelSet): string {
  const parts = Object.keys(labels)
    .sort(compareGo)
    .map((name) => `${name}=${quoteGo(labels[name] ?? "")}`);
  return `{${parts.join(", ")}}`;
}
