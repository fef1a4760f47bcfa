import { describe, expect, it } from "vitest";
import {
  addLatency,
  addLatencyPacked,
  type LatencyHistogram,
  mergeIntoPacked,
  type PackedHistogram,
  quantileOf,
  unpackHistogram,
} from "./latency-histogram.js";

describe("latency histograms", () => {
  it("counts the same in packed form as in the stored form, in any order of arrival", () => {
    const latencies = [0.4, 250, 3, 3.1, 1200, 0.9, 250, 40, 3, 9000, 2, 40];
    const stored: LatencyHistogram = {};
    const packed: PackedHistogram = [];
    for (const ms of latencies) {
      addLatency(stored, ms);
      addLatencyPacked(packed, ms);
    }
    expect(unpackHistogram(packed)).toEqual(stored);
    const buckets = packed.filter((_, i) => i % 2 === 0);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(quantileOf(unpackHistogram(packed), 0.5)).toBe(quantileOf(stored, 0.5));
  });

  it("adds a stored histogram into a packed one, bucket by bucket", () => {
    const packed: PackedHistogram = [];
    addLatencyPacked(packed, 100);
    const stored: LatencyHistogram = {};
    addLatency(stored, 100);
    addLatency(stored, 100);
    addLatency(stored, 1);
    mergeIntoPacked(packed, stored);
    const expected: LatencyHistogram = {};
    for (const ms of [100, 100, 100, 1]) addLatency(expected, ms);
    expect(unpackHistogram(packed)).toEqual(expected);
  });
});
