/**
 * Event counts in fixed time buckets, kept as running totals so that the count over any window is one
 * subtraction: `running(end) − running(end − window)`. A ring of `length` buckets covers the longest window
 * asked of it; older buckets fall out. Counts may arrive for any bucket still in the ring (late data,
 * replays); the common case, the newest bucket, costs O(1).
 */
export class BucketRing {
  /** Running totals (everything up to and including the bucket), for good and for all events. */
  private readonly good: Float64Array;
  private readonly total: Float64Array;
  /** Bucket number (time / resolution) of the newest bucket, or null before the first count. */
  private newest: number | null = null;
  /** Running totals just before the oldest bucket in the ring. */
  private baseGood = 0;
  private baseTotal = 0;

  constructor(
    readonly resolutionMs: number,
    readonly length: number,
  ) {
    this.good = new Float64Array(length);
    this.total = new Float64Array(length);
  }

  bucketOf(t: number): number {
    return Math.floor(t / this.resolutionMs);
  }

  /** Adds counts at time `t` (ms). Counts older than the ring are dropped; returns whether they were kept. */
  add(t: number, good: number, total: number): boolean {
    const bucket = this.bucketOf(t);
    if (this.newest === null) this.newest = bucket;
    else if (bucket > this.newest) this.advanceTo(bucket);
    else if (bucket <= this.newest - this.length) return false;
    for (let b = bucket; b <= this.newest; b++) {
      const i = this.slot(b);
      this.good[i] = (this.good[i] as number) + good;
      this.total[i] = (this.total[i] as number) + total;
    }
    return true;
  }

  /** Moves the ring's end to `t` without counts, so windows that end now see the silence since. */
  advance(t: number): void {
    const bucket = this.bucketOf(t);
    if (this.newest !== null && bucket > this.newest) this.advanceTo(bucket);
  }

  /** Events in buckets (fromBucket, toBucket]. A start before the ring counts from the ring's oldest bucket. */
  between(fromBucket: number, toBucket: number): { good: number; total: number } {
    if (this.newest === null || toBucket <= fromBucket) return { good: 0, total: 0 };
    const to = Math.min(toBucket, this.newest);
    return {
      good: this.runningGood(to) - this.runningGood(fromBucket),
      total: this.runningTotal(to) - this.runningTotal(fromBucket),
    };
  }

  /** Events in the `windowMs` that end with the bucket holding `end` (the partial bucket included). */
  sum(windowMs: number, end: number): { good: number; total: number } {
    const last = this.bucketOf(end);
    return this.between(last - Math.round(windowMs / this.resolutionMs), last);
  }

  private runningGood(bucket: number): number {
    if (this.newest === null) return 0;
    if (bucket > this.newest) return this.good[this.slot(this.newest)] as number;
    if (bucket <= this.newest - this.length) return this.baseGood;
    return this.good[this.slot(bucket)] as number;
  }

  private runningTotal(bucket: number): number {
    if (this.newest === null) return 0;
    if (bucket > this.newest) return this.total[this.slot(this.newest)] as number;
    if (bucket <= this.newest - this.length) return this.baseTotal;
    return this.total[this.slot(bucket)] as number;
  }

  private advanceTo(bucket: number): void {
    const newest = this.newest as number;
    const last = this.slot(newest);
    const good = this.good[last] as number;
    const total = this.total[last] as number;
    // The new baseline is the running total of the bucket just before the new oldest one.
    const beforeOldest = bucket - this.length;
    if (beforeOldest >= newest) {
      this.baseGood = good;
      this.baseTotal = total;
    } else if (beforeOldest > newest - this.length) {
      this.baseGood = this.good[this.slot(beforeOldest)] as number;
      this.baseTotal = this.total[this.slot(beforeOldest)] as number;
    }
    for (let b = Math.max(newest + 1, bucket - this.length + 1); b <= bucket; b++) {
      const i = this.slot(b);
      this.good[i] = good;
      this.total[i] = total;
    }
    this.newest = bucket;
  }

  private slot(bucket: number): number {
    const i = bucket % this.length;
    return i < 0 ? i + this.length : i;
  }
}
