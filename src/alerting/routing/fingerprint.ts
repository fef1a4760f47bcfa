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

/**
 * FNV-1a 64 in two 32-bit halves: prime 2^40 + 0x1b3, so hi·2^32 + lo times it splits into small products.
 * Hashes the UTF-8 bytes of `text` then the separator; ASCII is hashed from the char codes (no encoding, no
 * allocation: this runs several times per alert on the intake path), anything else from its UTF-8 encoding.
 */
class Fnv64 {
  hi = OFFSET_HI;
  lo = OFFSET_LO;

  private byte(value: number): void {
    const lo = (this.lo ^ value) >>> 0;
    // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    this.hi = (Math.imul(this.hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    this.lo = loMul >>> 0;
  }

  addField(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        for (const byte of encoder.encode(text.slice(i))) this.byte(byte);
        break;
      }
      this.byte(code);
    }
    this.byte(0xff);
  }

  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }
}

export function fingerprint(labels: LabelSet): string {
  const hash = new Fnv64();
  for (const name of sortedLabelNames(labels)) {
    hash.addField(name);
    hash.addField(labels[name] ?? "");
  }
  return hash.hex();
}

/**
 * The label names in Go's order. Label sets built in that order (the intake's, the routes' group labels) are
 * not sorted again: sorting allocated more than anything else on the alert intake's path.
 */
export function sortedLabelNames(labels: Readonly<Record<string, unknown>>): string[] {
  const names = Object.keys(labels);
  if (names.length > 32) return names.sort(compareGo);
  // An insertion sort in place: label sets are small, and Array.prototype.sort allocates a work array per
  // call (a sender's unsorted labels are sorted once per alert). Large sets take the O(n log n) sort above.
  for (let i = 1; i < names.length; i++) {
    const name = names[i] as string;
    let j = i - 1;
    for (; j >= 0 && (names[j] as string) > name; j--) names[j + 1] = names[j] as string;
    names[j + 1] = name;
  }
  return names;
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
