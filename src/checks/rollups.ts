import { addLatency, type LatencyHistogram, mergeHistograms } from "./latency-histogram.js";

export const RESOLUTIONS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 } as const;
export type Resolution = keyof typeof RESOLUTIONS;

/** Counts of one check over one bucket of time, without the histogram. */
export interface RollupCounts {
  runs: number;
  failures: number;
  degraded: number;
  latencyMin: number | null;
  latencySum: number;
  latencyMax: number | null;
}

export interface Rollup extends RollupCounts {
  histogram: LatencyHistogram;
}

/** Counts of a bucket without runs. */
export function emptyCounts(): RollupCounts {
  return { runs: 0, failures: 0, degraded: 0, latencyMin: null, latencySum: 0, latencyMax: null };
}

export function bucketStart(at: number, resolution: Resolution): number {
  const size = RESOLUTIONS[resolution];
  return Math.floor(at / size) * size;
}

export function addRun(
  rollup: Rollup,
  run: { ok: boolean; degraded: boolean; durationMs: number },
  countLatency: boolean,
): void {
  addToCounts(rollup, run, countLatency);
  if (countLatency) addLatency(rollup.histogram, run.durationMs);
}

/** `addRun` without the histogram, for a caller that keeps its histogram in another form. */
export function addToCounts(
  counts: RollupCounts,
  run: { ok: boolean; degraded: boolean; durationMs: number },
  countLatency: boolean,
): void {
  counts.runs++;
  if (!run.ok) counts.failures++;
  if (run.degraded) counts.degraded++;
  if (!countLatency) return;
  counts.latencySum += run.durationMs;
  counts.latencyMin =
    counts.latencyMin === null ? run.durationMs : Math.min(counts.latencyMin, run.durationMs);
  counts.latencyMax =
    counts.latencyMax === null ? run.durationMs : Math.max(counts.latencyMax, run.durationMs);
}

export function mergeRollup(into: Rollup, from: Rollup): void {
  mergeCounts(into, from);
  mergeHistograms(into.histogram, from.histogram);
}

export function mergeCounts(into: RollupCounts, from: RollupCounts): void {
  into.runs += from.runs;
  into.failures += from.failures;
  into.degraded += from.degraded;
  into.latencySum += from.latencySum;
  if (from.latencyMin !== null)
    into.latencyMin = into.latencyMin === null ? from.latencyMin : Math.min(into.latencyMin, from.latencyMin);
  if (from.latencyMax !== null)
    into.latencyMax = into.latencyMax === null ? from.latencyMax : Math.max(into.latencyMax, from.latencyMax);
}
