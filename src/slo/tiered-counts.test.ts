import { describe, expect, it } from "vitest";
import { TieredCounts } from "./tiered-counts.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 5, 10);

/** 1-minute buckets for 6 h, 5-minute for 3 days, 1-hour for 30 days: the levels of a default 30-day SLO. */
const levels = [
  { resolutionMs: MIN, spanMs: 6 * HOUR },
  { resolutionMs: 5 * MIN, spanMs: 3 * DAY },
  { resolutionMs: HOUR, spanMs: 30 * DAY },
];

function bruteSum(events: Array<[number, number, number]>, from: number, to: number) {
  let good = 0;
  let total = 0;
  for (const [t, g, n] of events) {
    if (t >= from && t < to) {
      good += g;
      total += n;
    }
  }
  return { good, total };
}

/** Uneven whole counts at random times over the last 30 days, a few of them late. */
function randomEvents(seed: number): Array<[number, number, number]> {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
  const events: Array<[number, number, number]> = [];
  for (let t = T0 - 30 * DAY; t < T0; t += Math.floor(next() * 4 * MIN)) {
    const total = Math.floor(next() * 50) + (next() < 0.01 ? 5000 : 0);
    const bad = next() < 0.2 ? Math.floor(next() * 5) : 0;
    events.push([t, total - bad, total]);
  }
  return events;
}

describe("TieredCounts", () => {
  const events = randomEvents(11);
  const counts = new TieredCounts(levels);
  for (const [t, g, n] of events) counts.add(t, g, n);

  it("sums any window inside the minute buckets exactly, like a brute-force sum", () => {
    for (const minutes of [1, 5, 30, 60, 120, 359]) {
      const from = T0 - minutes * MIN;
      expect(counts.between(from, T0)).toEqual(bruteSum(events, from, T0));
    }
  });

  it("sums a window reaching into coarser buckets exactly when its start is on their boundary", () => {
    for (const from of [T0 - 10 * HOUR, T0 - DAY - 35 * MIN, T0 - 3 * DAY, T0 - 10 * DAY, T0 - 29 * DAY]) {
      expect(counts.between(from, T0)).toEqual(bruteSum(events, from, T0));
    }
  });

  it("counts a coarse bucket cut by the window's start in proportion, within that bucket's events", () => {
    const from = T0 - 10 * DAY - 20 * MIN;
    const hourStart = T0 - 10 * DAY - HOUR;
    const exactFromHour = bruteSum(events, hourStart + HOUR, T0);
    const cutHour = bruteSum(events, hourStart, hourStart + HOUR);
    const sum = counts.between(from, T0);
    expect(sum.total).toBeCloseTo(exactFromHour.total + (cutHour.total * 20) / 60, 6);
    expect(sum.good).toBeCloseTo(exactFromHour.good + (cutHour.good * 20) / 60, 6);
  });

  it("keeps a few bad events exact beside a total too large for a 32-bit float's whole numbers", () => {
    const big = new TieredCounts(levels);
    big.add(T0, 1_000_000_007 - 3, 1_000_000_007);
    const sum = big.between(T0 - MIN, T0 + MIN);
    expect(sum.total - sum.good).toBe(3);
  });

  it("drops counts older than its coarsest level and forgets buckets the ring has moved past", () => {
    const ring = new TieredCounts(levels);
    ring.add(T0, 1, 1);
    expect(ring.add(T0 - 31 * DAY, 1, 1)).toBe(false);
    ring.add(T0 + 31 * DAY, 5, 5);
    expect(ring.between(T0 - DAY, T0 + 32 * DAY)).toEqual({ good: 5, total: 5 });
  });

  it("rejects levels that do not nest", () => {
    expect(() => new TieredCounts([])).toThrow(/at least one level/);
    expect(
      () =>
        new TieredCounts([
          { resolutionMs: 5 * MIN, spanMs: DAY },
          { resolutionMs: 7 * MIN, spanMs: 2 * DAY },
        ]),
    ).toThrow(/not a multiple/);
    expect(
      () =>
        new TieredCounts([
          { resolutionMs: MIN, spanMs: DAY },
          { resolutionMs: HOUR, spanMs: DAY },
        ]),
    ).toThrow(/span must be longer/);
  });
});
