import { almostEqual } from "./float-math.js";

/** One classic histogram bucket: the cumulative count of observations `<= upperBound`. */
export interface Bucket {
  upperBound: number;
  count: number;
}

const SMALL_DELTA_TOLERANCE = 1e-12;

function prepare(input: readonly Bucket[]): Bucket[] | undefined {
  const sorted = input.map((b) => ({ ...b })).sort((a, b) => a.upperBound - b.upperBound);
  const last = sorted[sorted.length - 1];
  if (last === undefined || last.upperBound !== Number.POSITIVE_INFINITY) return undefined;
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const prev = merged[merged.length - 1];
    if (prev !== undefined && prev.upperBound === b.upperBound) prev.count += b.count;
    else merged.push(b);
  }
  return merged;
}

/** Prometheus's classic `histogram_quantile`, including its monotonicity repair. */
export function bucketQuantile(
  q: number,
  input: readonly Bucket[],
): { value: number; forcedMonotonic: boolean } {
  const none = (value: number) => ({ value, forcedMonotonic: false });
  if (Number.isNaN(q)) return none(Number.NaN);
  if (q < 0) return none(Number.NEGATIVE_INFINITY);
  if (q > 1) return none(Number.POSITIVE_INFINITY);
  const buckets = prepare(input);
  if (buckets === undefined) return none(Number.NaN);
  let forcedMonotonic = false;
  let prev = (buckets[0] as Bucket).count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    if (b.count === prev) continue;
    if (almostEqual(prev, b.count, SMALL_DELTA_TOLERANCE)) {
      b.count = prev;
      continue;
    }
    if (b.count < prev) {
      b.count = prev;
      forcedMonotonic = true;
      continue;
    }
    prev = b.count;
  }
  if (buckets.length < 2) return { value: Number.NaN, forcedMonotonic };
  const observations = (buckets[buckets.length - 1] as Bucket).count;
  if (observations === 0) return { value: Number.NaN, forcedMonotonic };
  let rank = q * observations;
  let b = buckets.length - 1;
  for (let i = 0; i < buckets.length - 1; i++) {
    if ((buckets[i] as Bucket).count >= rank) {
      b = i;
      break;
    }
  }
  if (b === buckets.length - 1)
    return { value: (buckets[buckets.length - 2] as Bucket).upperBound, forcedMonotonic };
  const bucket = buckets[b] as Bucket;
  if (b === 0 && bucket.upperBound <= 0) return { value: bucket.upperBound, forcedMonotonic };
  let bucketStart = 0;
  let count = bucket.count;
  if (b > 0) {
    const before = buckets[b - 1] as Bucket;
    bucketStart = before.upperBound;
    count -= before.count;
    rank -= before.count;
  }
  return { value: bucketStart + (bucket.upperBound - bucketStart) * (rank / count), forcedMonotonic };
}

/** Prometheus's classic `histogram_fraction`: the share of observations between `lower` and `upper`. */
export function bucketFraction(lower: number, upper: number, input: readonly Bucket[]): number {
  const buckets = prepare(input);
  if (buckets === undefined) return Number.NaN;
  const total = (buckets[buckets.length - 1] as Bucket).count;
  if (total === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = total;
  let upperRank = total;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    const prevBound =
      i > 0 ? (buckets[i - 1] as Bucket).upperBound : b.upperBound > 0 ? 0 : Number.NEGATIVE_INFINITY;
    const interpolate = (v: number): number =>
      rank + ((b.count - rank) * (v - prevBound)) / (b.upperBound - prevBound);
    if (!lowerSet && prevBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && prevBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && prevBound < lower && b.upperBound > lower) {
      lowerRank = b.upperBound === Number.POSITIVE_INFINITY ? b.count : interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && prevBound < upper && b.upperBound > upper) {
      upperRank = b.upperBound === Number.POSITIVE_INFINITY ? rank : interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  return (Math.min(upperRank, total) - Math.min(lowerRank, total)) / total;
}
