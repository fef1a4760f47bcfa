import type { Labels } from "../labels.js";

/**
 * Internal values of the evaluator. Every instant-vector or scalar expression is evaluated for all steps of
 * a query at once (an instant query is a range query with one step), as Prometheus's engine does.
 */

/** The evaluation steps: `start + i * interval` for `i` in `[0, count)`. */
export interface Steps {
  readonly start: number;
  readonly end: number;
  readonly interval: number;
  readonly count: number;
}

export function makeSteps(start: number, end: number, interval: number): Steps {
  const count = interval > 0 ? Math.floor((end - start) / interval) + 1 : 1;
  return { start, end, interval, count };
}

export function stepTime(steps: Steps, i: number): number {
  return steps.start + i * steps.interval;
}

/** One output series over all steps; `present[i]` says whether step `i` has a value. */
export interface StepSeries {
  labels: Labels;
  /** Delayed name removal: `__name__` is dropped at the end of the query, not where the flag is set. */
  dropName: boolean;
  values: Float64Array;
  present: Uint8Array;
}

/** A sample of an instant vector at one step. */
export interface Sample {
  labels: Labels;
  f: number;
  dropName: boolean;
}

/** Raw samples of one series, staleness markers already removed, for range-vector windows. */
export interface RawSeries {
  readonly labels: Labels;
  readonly dropName: boolean;
  readonly ts: ArrayLike<number>;
  readonly vs: ArrayLike<number>;
}

/** A fetched series with staleness markers still in place, for instant-vector lookback. */
export interface FetchedSeries {
  readonly labels: Labels;
  readonly ts: ArrayLike<number>;
  readonly vs: ArrayLike<number>;
  /** 1 where the sample is a staleness marker; undefined when the series has none. */
  readonly stale: Uint8Array | undefined;
}

export type EvalValue =
  | { readonly kind: "vector"; readonly series: StepSeries[] }
  | { readonly kind: "scalar"; readonly values: Float64Array }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "matrix"; readonly series: RawSeries[] };

/** A window of a range vector at one step: samples with `t` in `(end - range, end]`. */
export interface Window {
  readonly ts: ArrayLike<number>;
  readonly vs: ArrayLike<number>;
  readonly from: number;
  readonly to: number;
}

export function lowerBound(arr: ArrayLike<number>, t: number, lo = 0, hi = arr.length): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >> 1;
    if ((arr[mid] as number) < t) a = mid + 1;
    else b = mid;
  }
  return a;
}

export function upperBound(arr: ArrayLike<number>, t: number, lo = 0, hi = arr.length): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >> 1;
    if ((arr[mid] as number) <= t) a = mid + 1;
    else b = mid;
  }
  return a;
}
