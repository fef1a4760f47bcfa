import type { Labels } from "../../promql/index.js";

/** Prometheus's default: a head chunk is cut after 120 samples. */
export const CHUNK_SAMPLES = 120;

/** A cut chunk waiting for the next batched write to SQLite; queries read it from memory until then. */
export interface PendingChunk {
  readonly minT: number;
  readonly maxT: number;
  readonly count: number;
  readonly data: Uint8Array;
}

const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Raw bits of a float, for the duplicate-sample check (NaN payloads included). */
export function floatBits(v: number): [number, number] {
  scratch[0] = v;
  return [scratchBits[0] as number, scratchBits[1] as number];
}

/**
 * One series in the head: its open chunk as raw arrays (cut and encoded at `CHUNK_SAMPLES` samples or when it
 * spans too long), cut chunks not yet in SQLite, and what the store knows of its persisted chunks.
 */
export class HeadSeries {
  id: number;
  /** Set when a concurrent commit registered the same labels first. */
  alias: HeadSeries | undefined;
  readonly ts = new Float64Array(CHUNK_SAMPLES);
  readonly vs = new Float64Array(CHUNK_SAMPLES);
  n = 0;
  readonly pending: PendingChunk[] = [];

  lastT = Number.NEGATIVE_INFINITY;
  lastLo = 0;
  lastHi = 0;

  /** Whether the series row is in SQLite. */
  persisted = false;
  /** Rows in the chunks table, including a partial row that mirrors the open chunk. */
  rows = 0;
  persistedMinT = Number.POSITIVE_INFINITY;
  persistedMaxT = Number.NEGATIVE_INFINITY;
  /** First timestamp (key) and sample count of the row that holds the open chunk as of the last checkpoint. */
  partialMinT: number | undefined;
  partialCount = 0;
  /** The open chunk has samples newer than its partial row. */
  dirty = false;
  /** Queued in the store's list of series with pending chunks. */
  queued = false;

  /** Per-appender state while a batch is built. */
  batchOwner: object | undefined;
  batchT = 0;
  batchLo = 0;
  batchHi = 0;
  /** Per-commit state while a batch is checked. */
  commitGen = 0;
  commitT = 0;

  /** Raw bits of `vs`, for copying values without touching NaN payloads. */
  readonly vbits = new Uint32Array(this.vs.buffer);
  /** The next series whose labels hash the same (see `SeriesMap`). */
  next: HeadSeries | undefined;

  constructor(
    id: number,
    readonly labels: Labels,
    readonly hash: number,
  ) {
    this.id = id;
  }

  /** Oldest timestamp held in memory (pending chunks, then the open chunk). */
  memMinT(): number {
    const first = this.pending[0];
    if (first !== undefined) return first.minT;
    return this.n > 0 ? (this.ts[0] as number) : Number.POSITIVE_INFINITY;
  }

  minT(): number {
    return Math.min(this.persistedMinT, this.memMinT());
  }

  memSamples(): number {
    let n = this.n;
    for (const p of this.pending) n += p.count;
    return n;
  }
}

/**
 * FNV-1a over the label names and values, without building a string key. Two lanes (even and odd characters)
 * halve the chain of dependent multiplications; the string lengths keep name/value boundaries apart.
 */
export function hashLabels(labels: Labels): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (const { name, value } of labels) {
    a = Math.imul(a ^ name.length, 0x01000193);
    for (let i = 0; i + 1 < name.length; i += 2) {
      a = Math.imul(a ^ name.charCodeAt(i), 0x01000193);
      b = Math.imul(b ^ name.charCodeAt(i + 1), 0x01000193);
    }
    if (name.length % 2 === 1) a = Math.imul(a ^ name.charCodeAt(name.length - 1), 0x01000193);
    b = Math.imul(b ^ value.length, 0x01000193);
    for (let i = 0; i + 1 < value.length; i += 2) {
      a = Math.imul(a ^ value.charCodeAt(i), 0x01000193);
      b = Math.imul(b ^ value.charCodeAt(i + 1), 0x01000193);
    }
    if (value.length % 2 === 1) b = Math.imul(b ^ value.charCodeAt(value.length - 1), 0x01000193);
  }
  return (a ^ Math.imul(b, 0x5bd1e995)) >>> 0;
}

function labelsEqual(a: Labels, b: Labels): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.name !== y.name || x.value !== y.value) return false;
  }
  return true;
}

/** Series by label set: a hash map with chaining, cheaper than building a string key per sample. */
export class SeriesMap {
  private readonly buckets = new Map<number, HeadSeries>();
  size = 0;

  get(labels: Labels, hash: number): HeadSeries | undefined {
    for (let s = this.buckets.get(hash); s !== undefined; s = s.next) {
      if (labelsEqual(s.labels, labels)) return s;
    }
    return undefined;
  }

  /** Adds a series whose labels are not in the map yet. */
  add(s: HeadSeries): void {
    s.next = this.buckets.get(s.hash);
    this.buckets.set(s.hash, s);
    this.size++;
  }

  delete(s: HeadSeries): void {
    let prev: HeadSeries | undefined;
    for (let cur = this.buckets.get(s.hash); cur !== undefined; prev = cur, cur = cur.next) {
      if (cur !== s) continue;
      if (prev !== undefined) prev.next = cur.next;
      else if (cur.next !== undefined) this.buckets.set(s.hash, cur.next);
      else this.buckets.delete(s.hash);
      this.size--;
      return;
    }
  }

  values(): IterableIterator<HeadSeries> {
    const out: HeadSeries[] = [];
    for (const first of this.buckets.values())
      for (let s: HeadSeries | undefined = first; s; s = s.next) out.push(s);
    return out.values();
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }
}
