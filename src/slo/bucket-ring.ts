/** Buckets per block: a late count rewrites at most this many buckets and one sum per later block. */
const BLOCK = 32;

const EMPTY32 = new Float32Array(0);
const EMPTY64 = new Float64Array(0);

/** Mutable sums, so that summing many windows a minute does not allocate an object per part. */
export interface BadAndTotal {
  bad: number;
  total: number;
}

/**
 * Event counts in fixed time buckets, kept as running totals so that the count over any window is one
 * subtraction, in two steps to halve the memory: each bucket holds the bad and total events since the start of
 * its block of 32 buckets as 32-bit floats (exact for whole counts up to 2^24 a block; counting bad rather
 * than good keeps a few errors exact beside a large total), and each block the running totals up to its end as
 * 64-bit floats, always recomputed from the buckets' stored values, so a window without events sums to exactly
 * 0. A ring of `length` buckets covers the longest window asked of it; older buckets fall out. Counts may
 * arrive for any bucket still in the ring (late data, replays); the common case, the newest bucket, is O(1).
 */
export class BucketRing {
  /** Per bucket: events from the start of its block up to and including it. Allocated with the first count. */
  private badInBlock = EMPTY32;
  private totalInBlock = EMPTY32;
  /** Per block: events from the ring's first count up to the end of the block (or the newest bucket). */
  private badUpTo = EMPTY64;
  private totalUpTo = EMPTY64;
  /** One slot more than `length`: a window starting at the oldest bucket reads the running total before it. */
  private readonly slots: number;
  private readonly blocks: number;
  /** Bucket number (time / resolution) of the newest bucket, or null before the first count. */
  private newest: number | null = null;

  constructor(
    readonly resolutionMs: number,
    readonly length: number,
  ) {
    if (!(resolutionMs > 0) || !Number.isInteger(length) || length < 1) {
      throw new Error(
        `a bucket ring needs a positive resolution and length (got ${resolutionMs} ms × ${length})`,
      );
    }
    this.slots = length + 1;
    // The blocks the slots span, the one before them, and one for a block cut at both ends.
    this.blocks = Math.ceil(this.slots / BLOCK) + 2;
  }

  bucketOf(t: number): number {
    return Math.floor(t / this.resolutionMs);
  }

  /** Start (ms) of the oldest bucket held, or +Infinity before the first count. */
  oldestStart(): number {
    return this.newest === null
      ? Number.POSITIVE_INFINITY
      : (this.newest - this.length + 1) * this.resolutionMs;
  }

  /** Adds counts at time `t` (ms). Counts older than the ring are dropped; returns whether they were kept. */
  add(t: number, good: number, total: number): boolean {
    const bucket = this.bucketOf(t);
    if (this.newest === null) this.start(bucket);
    else if (bucket > this.newest) this.advanceTo(bucket);
    else if (bucket <= this.newest - this.length) return false;
    const newest = this.newest as number;
    const bad = total - good;
    const block = Math.floor(bucket / BLOCK);
    const blockLast = Math.min(newest, (block + 1) * BLOCK - 1);
    for (let b = bucket; b <= blockLast; b++) {
      const i = mod(b, this.slots);
      this.badInBlock[i] = (this.badInBlock[i] as number) + bad;
      this.totalInBlock[i] = (this.totalInBlock[i] as number) + total;
    }
    const newestBlock = Math.floor(newest / BLOCK);
    for (let k = block; k <= newestBlock; k++) this.closeBlock(k, Math.min(newest, (k + 1) * BLOCK - 1));
    return true;
  }

  /** Moves the ring's end to `t` without counts, so windows that end now see the silence since. */
  advance(t: number): void {
    const bucket = this.bucketOf(t);
    if (this.newest !== null && bucket > this.newest) this.advanceTo(bucket);
  }

  /** Events in buckets (fromBucket, toBucket]. A start before the ring counts from the ring's oldest bucket. */
  between(fromBucket: number, toBucket: number): { good: number; total: number } {
    const sums = { bad: 0, total: 0 };
    if (this.newest !== null) {
      const first = Math.max(fromBucket + 1, this.newest - this.length + 1);
      const last = Math.min(toBucket, this.newest);
      if (first <= last) this.addBuckets(first, last, sums);
    }
    return { good: sums.total - sums.bad, total: sums.total };
  }

  /** Events in the `windowMs` that end with the bucket holding `end` (the partial bucket included). */
  sum(windowMs: number, end: number): { good: number; total: number } {
    const last = this.bucketOf(end);
    return this.between(last - Math.round(windowMs / this.resolutionMs), last);
  }

  /**
   * Adds to `sums` the events stamped in [from, to) ms, within what the ring holds. A bucket only partly
   * inside counts in proportion to its overlap, as if its events were spread evenly over its time.
   */
  addTime(from: number, to: number, sums: BadAndTotal): void {
    if (this.newest === null) return;
    const res = this.resolutionMs;
    const start = Math.max(from, this.oldestStart());
    const end = Math.min(to, (this.newest + 1) * res);
    if (start >= end) return;
    let first = this.bucketOf(start);
    let last = this.bucketOf(end - 1);
    if (start > first * res) {
      const share = (Math.min(end, (first + 1) * res) - start) / res;
      this.addShare(first, share, sums);
      if (first === last) return;
      first++;
    }
    if (end < (last + 1) * res) {
      this.addShare(last, (end - last * res) / res, sums);
      last--;
    }
    if (first <= last) this.addBuckets(first, last, sums);
  }

  private addShare(bucket: number, share: number, sums: BadAndTotal): void {
    sums.bad += (this.runningBad(bucket) - this.runningBad(bucket - 1)) * share;
    sums.total += (this.runningTotal(bucket) - this.runningTotal(bucket - 1)) * share;
  }

  /** Buckets first..last, all inside the ring: two running totals. */
  private addBuckets(first: number, last: number, sums: BadAndTotal): void {
    sums.bad += this.runningBad(last) - this.runningBad(first - 1);
    sums.total += this.runningTotal(last) - this.runningTotal(first - 1);
  }

  /** Events up to and including `bucket`, which is in the ring or the one just before its oldest. */
  private runningBad(bucket: number): number {
    const k = mod(Math.floor(bucket / BLOCK) - 1, this.blocks);
    return (this.badUpTo[k] as number) + (this.badInBlock[mod(bucket, this.slots)] as number);
  }

  private runningTotal(bucket: number): number {
    const k = mod(Math.floor(bucket / BLOCK) - 1, this.blocks);
    return (this.totalUpTo[k] as number) + (this.totalInBlock[mod(bucket, this.slots)] as number);
  }

  /** A block's running total: the previous block's plus its own events up to `last`, as stored. */
  private closeBlock(block: number, last: number): void {
    const k = mod(block, this.blocks);
    const before = mod(block - 1, this.blocks);
    const i = mod(last, this.slots);
    this.badUpTo[k] = (this.badUpTo[before] as number) + (this.badInBlock[i] as number);
    this.totalUpTo[k] = (this.totalUpTo[before] as number) + (this.totalInBlock[i] as number);
  }

  /**
   * The first count: an SLO or group that never gets data never holds buckets. The four arrays share one
   * buffer: 10,000 SLOs' rings were 120,000 array buffers, each a JavaScript object and an allocation of its
   * own that V8's collector tracks.
   */
  private start(bucket: number): void {
    const buffer = new ArrayBuffer(2 * 8 * this.blocks + 2 * 4 * this.slots);
    this.badUpTo = new Float64Array(buffer, 0, this.blocks);
    this.totalUpTo = new Float64Array(buffer, 8 * this.blocks, this.blocks);
    this.badInBlock = new Float32Array(buffer, 16 * this.blocks, this.slots);
    this.totalInBlock = new Float32Array(buffer, 16 * this.blocks + 4 * this.slots, this.slots);
    this.newest = bucket;
  }

  /** Moves the newest bucket on: new buckets carry their block's running total so far, new blocks the last one's. */
  private advanceTo(bucket: number): void {
    const newest = this.newest as number;
    const newestBlock = Math.floor(newest / BLOCK);
    const carriedBad = this.badInBlock[mod(newest, this.slots)] as number;
    const carriedTotal = this.totalInBlock[mod(newest, this.slots)] as number;
    const upToBad = this.badUpTo[mod(newestBlock, this.blocks)] as number;
    const upToTotal = this.totalUpTo[mod(newestBlock, this.blocks)] as number;
    for (let b = Math.max(newest + 1, bucket - this.slots + 1); b <= bucket; b++) {
      const i = mod(b, this.slots);
      const sameBlock = Math.floor(b / BLOCK) === newestBlock;
      this.badInBlock[i] = sameBlock ? carriedBad : 0;
      this.totalInBlock[i] = sameBlock ? carriedTotal : 0;
    }
    const lastBlock = Math.floor(bucket / BLOCK);
    for (let k = Math.max(newestBlock + 1, lastBlock - this.blocks + 1); k <= lastBlock; k++) {
      this.badUpTo[mod(k, this.blocks)] = upToBad;
      this.totalUpTo[mod(k, this.blocks)] = upToTotal;
    }
    this.newest = bucket;
  }
}

function mod(n: number, m: number): number {
  const r = n % m;
  return r < 0 ? r + m : r;
}
