import { describe, expect, it } from "vitest";
import { BucketRing } from "./bucket-ring.js";

const MIN = 60_000;

/** The same sums by brute force over every event kept. */
function bruteSum(events: Array<[number, number, number]>, from: number, to: number, res: number) {
  let good = 0;
  let total = 0;
  for (const [t, g, n] of events) {
    const b = Math.floor(t / res);
    if (b > from && b <= to) {
      good += g;
      total += n;
    }
  }
  return { good, total };
}

describe("BucketRing", () => {
  it("answers window sums like a brute-force sum, with late data and gaps, while the window fits the ring", () => {
    const ring = new BucketRing(MIN, 120);
    const events: Array<[number, number, number]> = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let t = 1_700_000_000_000;
    for (let i = 0; i < 5000; i++) {
      t += Math.floor(next() * 40_000) + (next() < 0.01 ? 30 * MIN : 0);
      const late = next() < 0.1 ? Math.floor(next() * 20 * MIN) : 0;
      const good = Math.floor(next() * 5);
      const total = good + Math.floor(next() * 2);
      ring.add(t - late, good, total);
      events.push([t - late, good, total]);
      if (i % 97 === 0) {
        const end = ring.bucketOf(t);
        for (const window of [1, 5, 30, 60, 119]) {
          // Late events only count where they landed inside the ring.
          const kept = events.filter(([et]) => Math.floor(et / MIN) > end - 120);
          expect(ring.between(end - window, end)).toEqual(bruteSum(kept, end - window, end, MIN));
        }
      }
    }
  });

  it("drops counts older than the ring and counts a window longer than the ring from its oldest bucket", () => {
    const ring = new BucketRing(MIN, 10);
    ring.add(0, 1, 1);
    ring.add(20 * MIN, 2, 3);
    expect(ring.add(5 * MIN, 1, 1)).toBe(false);
    expect(ring.sum(5 * MIN, 20 * MIN)).toEqual({ good: 2, total: 3 });
    expect(ring.sum(60 * MIN, 20 * MIN)).toEqual({ good: 2, total: 3 });
    ring.advance(40 * MIN);
    expect(ring.sum(5 * MIN, 40 * MIN)).toEqual({ good: 0, total: 0 });
  });

  it("sums a window without events to exactly 0 after fractional counts, late ones included, on both sides", () => {
    const ring = new BucketRing(MIN, 300);
    const t0 = 1_700_000_000_000;
    for (let m = 0; m < 100; m++) ring.add(t0 + m * MIN, 0.7 * m + 0.1, 1.3 * m + 0.3);
    for (let m = 170; m < 250; m++) ring.add(t0 + m * MIN, 0.3, 0.9);
    // Late counts into buckets before and after the silent stretch.
    for (let m = 5; m < 90; m += 7) ring.add(t0 + m * MIN, 0.11, 0.13);
    for (let m = 180; m < 240; m += 11) ring.add(t0 + m * MIN, 0.17, 0.19);
    const last = ring.bucketOf(t0);
    for (const [from, to] of [
      [99, 169],
      [120, 140],
      [100, 169],
    ] as const) {
      expect(ring.between(last + from, last + to)).toEqual({ good: 0, total: 0 });
    }
    expect(ring.between(last + 98, last + 169).total).toBeCloseTo(1.3 * 99 + 0.3, 4);
  });
});
