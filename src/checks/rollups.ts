import { addLatency, type LatencyHistogram, mergeHistograms } from "./latency-histogram.js";

export const RESOLUTIONS = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 } as const;
export type Resolution = keyof typeof RESOLUTIONS;

/** Counts of one check over one bucket of time. */
export interface Rollup {
  runs: number;
  failures: number;
  degraded: number;
  latencyMin: number | null;
  latencySum: number;
  latencyMax: number | null;
  histogram: LatencyHistogram;
}

export function emptyRollup(): Rollup {
  return {
    runs: 0,
    failures: 0,
    degraded: 0,
    latencyMin: null,
    latencySum: 0,
    latencyMax: null,
    histogram: {},
  };
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
  rollup.runs++;
  if (!run.ok) rollup.failures++;
  if (run.degraded) rollup.degraded++;
  if (!countLatency) return;
  rollup.latencySum += run.durationMs;
  rollup.latencyMin =
    rollup.latencyMin === null ? run.durationMs : Math.min(rollup.latencyMin, run.durationMs);
  rollup.latencyMax =
    rollup.latencyMax === null ? run.durationMs : Math.max(rollup.latencyMax, run.durationMs);
  addLatency(rollup.histogram, run.durationMs);
}

export function mergeRollup(into: Rollup, from: Rollup): void {
  into.runs += from.runs;
  into.failures += from.failures;
  into.degraded += from.degraded;
  into.latencySum += from.latencySum;
  if (from.latencyMin !== null)
    into.latencyMin = into.latencyMin === null ? from.latencyMin : Math.min(into.latencyMin, from.latencyMin);
  if (from.latencyMax !== null)
    into.latencyMax = into.latencyMax === null ? from.latencyMax : Math.max(into.latencyMax, from.latencyMax);
  mergeHistograms(into.histogram, from.histogram);
}
