import { createHash, randomBytes } from "node:crypto";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A ULID: 48 bits of time and 80 random bits in Crockford base32, so ids sort by creation time, which keeps
 * index inserts local and makes ids readable in logs.
 */
export function newId(nowMs: number): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  let random = "";
  for (let i = 0; i < 16; i++) random += CROCKFORD.charAt(nextRandomByte() % 32);
  return time + random;
}

// Ids are made thousands of times a second (one per check result); one call into the CSPRNG per 4 KiB of
// randomness instead of one per id takes them off the profile.
let pool = Buffer.alloc(0);
let poolOffset = 0;
function nextRandomByte(): number {
  if (poolOffset >= pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  return pool[poolOffset++] ?? 0;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * JSON with object keys sorted at every depth, so that equal values always hash equally whatever order their
 * keys were written in. Used for digests and hash chains; never for display.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function digest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
