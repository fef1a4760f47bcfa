/**
 * Latencies in log-spaced buckets (four per doubling, so a percentile read back is within about 19% of the
 * truth), stored sparsely. Unlike a stored p95, histograms add up: minute buckets merge into hours and days.
 */
export type LatencyHistogram = Record<number, number>;

const PER_DOUBLING = 4;
const MAX_INDEX = 100;

export function bucketOf(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(MAX_INDEX, Math.ceil(Math.log2(ms) * PER_DOUBLING));
}

export function upperBoundOf(index: number): number {
  return 2 ** (index / PER_DOUBLING);
}

export function addLatency(histogram: LatencyHistogram, ms: number): void {
  const index = bucketOf(ms);
  histogram[index] = (histogram[index] ?? 0) + 1;
}

/**
 * The same counts as [bucket, count, bucket, count, …] in bucket order, for histograms kept in memory per
 * check: an object with integer keys costs V8 an elements array as long as its highest bucket.
 */
export type PackedHistogram = number[];

export function addLatencyPacked(packed: PackedHistogram, ms: number): void {
  addToBucket(packed, bucketOf(ms), 1);
}

function addToBucket(packed: PackedHistogram, index: number, count: number): void {
  let at = 0;
  while (at < packed.length && (packed[at] ?? 0) < index) at += 2;
  if (packed[at] === index) packed[at + 1] = (packed[at + 1] ?? 0) + count;
  else packed.splice(at, 0, index, count);
}

export function mergeIntoPacked(into: PackedHistogram, from: LatencyHistogram): void {
  for (const [key, count] of Object.entries(from)) addToBucket(into, Number(key), count);
}

export function unpackHistogram(packed: PackedHistogram): LatencyHistogram {
  const histogram: LatencyHistogram = {};
  for (let i = 0; i + 1 < packed.length; i += 2) histogram[packed[i] ?? 0] = packed[i + 1] ?? 0;
  return histogram;
}

export function mergeHistograms(into: LatencyHistogram, from: LatencyHistogram): void {
  for (const [key, count] of Object.entries(from)) into[Number(key)] = (into[Number(key)] ?? 0) + count;
}

/** The q-quantile (0 < q ≤ 1) as the upper bound of its bucket; null for an empty histogram. */
export function quantileOf(histogram: LatencyHistogram, q: number): number | null {
  const entries = Object.entries(histogram)
    .map(([k, v]) => [Number(k), v] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((sum, [, v]) => sum + v, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const [index, count] of entries) {
    seen += count;
    if (seen >= rank) return upperBoundOf(index);
  }
  return upperBoundOf(entries[entries.length - 1]?.[0] ?? 0);
}

/** Runs whose latency falls in a bucket wholly at or below `ms` (a lower estimate, within a bucket's width). */
export function countAtOrBelow(histogram: LatencyHistogram, ms: number): number {
  let count = 0;
  for (const [key, n] of Object.entries(histogram)) if (upperBoundOf(Number(key)) <= ms) count += n;
  return count;
}
