import { type BadAndTotal, BucketRing } from "./bucket-ring.js";

/** One resolution of a `TieredCounts`: buckets of `resolutionMs` over the last `spanMs`. */
export interface CountsLevel {
  readonly resolutionMs: number;
  readonly spanMs: number;
}

/**
 * Event counts at several resolutions, finest first, each over a longer span: for example 1-minute buckets
 * for the last 6 hours, 5-minute buckets for 3 days and 1-hour buckets for 30 days. Every count goes into
 * every level. A window takes its recent part from the finest level that holds it and its older part from
 * coarser ones, split at a boundary of the coarser level, so only a bucket cut by the window's start (older
 * than the finer levels reach) is counted in proportion to its overlap. A window inside the finest level is
 * exact; one that starts on a boundary of the level holding its start (a calendar month in 15-minute
 * buckets) is exact too.
 */
export class TieredCounts {
  private readonly rings: BucketRing[];

  constructor(levels: readonly CountsLevel[]) {
    if (levels.length === 0) throw new Error("event counts need at least one level");
    this.rings = levels.map((level, i) => {
      const previous = levels[i - 1];
      if (previous && level.resolutionMs % previous.resolutionMs !== 0) {
        throw new Error(
          `level ${i}: ${level.resolutionMs} ms buckets are not a multiple of the finer level's ${previous.resolutionMs} ms`,
        );
      }
      if (previous && level.spanMs <= previous.spanMs) {
        throw new Error(`level ${i}: its span must be longer than the finer level's (${previous.spanMs} ms)`);
      }
      // Two buckets more than the span: a window of the full span ending in a partial bucket still fits.
      return new BucketRing(level.resolutionMs, Math.ceil(level.spanMs / level.resolutionMs) + 2);
    });
  }

  /** Counts events at `t` (ms) in every level; returns whether the coarsest level, which reaches back furthest, kept them. */
  add(t: number, good: number, total: number): boolean {
    let kept = false;
    for (const ring of this.rings) kept = ring.add(t, good, total);
    return kept;
  }

  /** Start (ms) of the oldest bucket held by the coarsest level, or +Infinity before the first count. */
  oldestStart(): number {
    return (this.rings[this.rings.length - 1] as BucketRing).oldestStart();
  }

  /** Events stamped in [from, to) ms. */
  between(from: number, to: number): { good: number; total: number } {
    const sums = { bad: 0, total: 0 };
    this.addTime(from, to, sums);
    return { good: sums.total - sums.bad, total: sums.total };
  }

  /** Events in the minute buckets that make up the last `windowMs` up to and including the minute of `end`. */
  window(windowMs: number, end: number, minuteMs: number): { good: number; total: number } {
    const sums = { bad: 0, total: 0 };
    this.addWindow(windowMs, end, minuteMs, sums);
    return { good: sums.total - sums.bad, total: sums.total };
  }

  /** As `window`, added to `sums`: evaluating 10,000 SLOs a minute then allocates nothing per window. */
  addWindow(windowMs: number, end: number, minuteMs: number, sums: BadAndTotal): void {
    const last = Math.floor(end / minuteMs);
    const buckets = Math.round(windowMs / minuteMs);
    this.addTime((last - buckets + 1) * minuteMs, (last + 1) * minuteMs, sums);
  }

  private addTime(from: number, to: number, sums: BadAndTotal): void {
    let end = to;
    for (let level = 0; level < this.rings.length && from < end; level++) {
      const ring = this.rings[level] as BucketRing;
      const coarser = this.rings[level + 1];
      const oldest = ring.oldestStart();
      if (coarser === undefined || from >= oldest) {
        ring.addTime(from, end, sums);
        return;
      }
      // This level holds [oldest, end); the coarser one takes over at its first whole bucket in that span.
      const split = Math.min(end, Math.ceil(oldest / coarser.resolutionMs) * coarser.resolutionMs);
      ring.addTime(split, end, sums);
      end = split;
    }
  }
}
