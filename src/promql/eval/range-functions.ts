import { formatFloatG, kahanSum, kahanSumInc, quantile, robustMean } from "./float-math.js";
import type { Window } from "./types.js";

/** What a range-vector function sees besides the window: the range bounds and its scalar arguments. */
export interface RangeFnContext {
  /** Window bounds in ms: samples have `rangeStart < t <= rangeEnd`. */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  readonly rangeMs: number;
  /** The evaluation time of the step (not shifted by offset or @). */
  readonly stepTime: number;
  /** Scalar arguments at this step, in argument order. */
  readonly scalars: readonly number[];
  readonly warn: (message: string) => void;
  readonly fail: (message: string) => never;
}

/** Returns the function's value for one series' window, or undefined for "no output sample". */
export type RangeFunction = (w: Window, ctx: RangeFnContext) => number | undefined;

const count = (w: Window): number => w.to - w.from;
const at = (arr: ArrayLike<number>, i: number): number => arr[i] as number;

function extrapolatedRate(
  w: Window,
  ctx: RangeFnContext,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const n = count(w);
  if (n < 2) return undefined;
  const first = w.from;
  const last = w.to - 1;
  const firstT = at(w.ts, first);
  const lastT = at(w.ts, last);
  const firstV = at(w.vs, first);
  let result = at(w.vs, last) - firstV;
  if (isCounter) {
    let prev = firstV;
    for (let i = first + 1; i <= last; i++) {
      const cur = at(w.vs, i);
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (firstT - ctx.rangeStart) / 1000;
  let durationToEnd = (ctx.rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const averageBetween = sampledInterval / (n - 1);
  const threshold = averageBetween * 1.1;
  let extrapolateTo = sampledInterval;
  if (durationToStart >= threshold) durationToStart = averageBetween / 2;
  if (isCounter && result > 0 && firstV >= 0) {
    // A counter cannot go below zero, so do not extrapolate past the point where it would.
    const durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  extrapolateTo += durationToStart;
  if (durationToEnd >= threshold) durationToEnd = averageBetween / 2;
  extrapolateTo += durationToEnd;
  let factor = extrapolateTo / sampledInterval;
  if (isRate) factor /= ctx.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: Window, isRate: boolean): number | undefined {
  if (count(w) < 2) return undefined;
  const lastV = at(w.vs, w.to - 1);
  const prevV = at(w.vs, w.to - 2);
  let result = isRate && lastV < prevV ? lastV : lastV - prevV;
  const interval = at(w.ts, w.to - 1) - at(w.ts, w.to - 2);
  if (interval === 0) return undefined;
  if (isRate) result /= interval / 1000;
  return result;
}

/** Least-squares fit of the window; x is seconds relative to `interceptTime`. */
export function linearRegression(w: Window, interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = at(w.vs, w.from);
  let constY = true;
  for (let i = w.from; i < w.to; i++) {
    const y = at(w.vs, i);
    if (constY && i > w.from && y !== initY) constY = false;
    n += 1;
    const x = (at(w.ts, i) - interceptTime) / 1000;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(y, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * y, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [Number.NaN, Number.NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  return [slope, sumY / n - (slope * sumX) / n];
}

function values(w: Window): number[] {
  const out: number[] = [];
  for (let i = w.from; i < w.to; i++) out.push(at(w.vs, i));
  return out;
}

function stdvarOverTime(w: Window): number {
  let n = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = w.from; i < w.to; i++) {
    const f = at(w.vs, i);
    n++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / n, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / n;
}

function checkQuantile(q: number, ctx: RangeFnContext): void {
  if (Number.isNaN(q) || q < 0 || q > 1) {
    ctx.warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloatG(q)}`);
  }
}

function extremeIndex(w: Window, better: (candidate: number, current: number) => boolean): number {
  let best = w.from;
  for (let i = w.from + 1; i < w.to; i++) {
    const cur = at(w.vs, best);
    const f = at(w.vs, i);
    if (better(f, cur) || Number.isNaN(cur)) best = i;
  }
  return best;
}

function trendValue(i: number, tf: number, s0: number, s1: number, b: number): number {
  if (i === 0) return b;
  return tf * (s1 - s0) + (1 - tf) * b;
}

export const RANGE_FUNCTIONS: Readonly<Record<string, RangeFunction>> = {
  rate: (w, ctx) => extrapolatedRate(w, ctx, true, true),
  increase: (w, ctx) => extrapolatedRate(w, ctx, true, false),
  delta: (w, ctx) => extrapolatedRate(w, ctx, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  deriv: (w) => (count(w) < 2 ? undefined : linearRegression(w, at(w.ts, w.from))[0]),
  predict_linear: (w, ctx) => {
    if (count(w) < 2) return undefined;
    const [slope, intercept] = linearRegression(w, ctx.stepTime);
    return slope * (ctx.scalars[0] ?? 0) + intercept;
  },
  avg_over_time: (w) => robustMean(w.vs, w.from, w.to),
  sum_over_time: (w) => kahanSum(w.vs, w.from, w.to),
  count_over_time: (w) => count(w),
  min_over_time: (w) =>
    at(
      w.vs,
      extremeIndex(w, (f, cur) => f < cur),
    ),
  max_over_time: (w) =>
    at(
      w.vs,
      extremeIndex(w, (f, cur) => f > cur),
    ),
  last_over_time: (w) => at(w.vs, w.to - 1),
  first_over_time: (w) => at(w.vs, w.from),
  present_over_time: () => 1,
  stdvar_over_time: (w) => stdvarOverTime(w),
  stddev_over_time: (w) => Math.sqrt(stdvarOverTime(w)),
  quantile_over_time: (w, ctx) => {
    const q = ctx.scalars[0] ?? Number.NaN;
    checkQuantile(q, ctx);
    return quantile(q, values(w));
  },
  mad_over_time: (w) => {
    const vals = values(w);
    const median = quantile(0.5, vals);
    return quantile(
      0.5,
      vals.map((v) => Math.abs(v - median)),
    );
  },
  ts_of_min_over_time: (w) =>
    at(
      w.ts,
      extremeIndex(w, (f, cur) => f <= cur),
    ) / 1000,
  ts_of_max_over_time: (w) =>
    at(
      w.ts,
      extremeIndex(w, (f, cur) => f >= cur),
    ) / 1000,
  ts_of_last_over_time: (w) => at(w.ts, w.to - 1) / 1000,
  ts_of_first_over_time: (w) => at(w.ts, w.from) / 1000,
  changes: (w) => {
    let changes = 0;
    for (let i = w.from + 1; i < w.to; i++) {
      const prev = at(w.vs, i - 1);
      const cur = at(w.vs, i);
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) changes++;
    }
    return changes;
  },
  resets: (w) => {
    let resets = 0;
    for (let i = w.from + 1; i < w.to; i++) if (at(w.vs, i) < at(w.vs, i - 1)) resets++;
    return resets;
  },
  double_exponential_smoothing: (w, ctx) => {
    const sf = ctx.scalars[0] ?? Number.NaN;
    const tf = ctx.scalars[1] ?? Number.NaN;
    if (!(sf > 0 && sf < 1))
      ctx.fail(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`);
    if (!(tf > 0 && tf < 1)) ctx.fail(`invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`);
    if (count(w) < 2) return undefined;
    let s0 = 0;
    let s1 = at(w.vs, w.from);
    let b = at(w.vs, w.from + 1) - s1;
    for (let i = 1; i < count(w); i++) {
      const x = sf * at(w.vs, w.from + i);
      b = trendValue(i - 1, tf, s0, s1, b);
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
};

/** Range functions whose output keeps the input series' labels, metric name included. */
export const KEEPS_METRIC_NAME: ReadonlySet<string> = new Set(["last_over_time", "first_over_time"]);

/** Index of the range-vector argument of each range function (the others are scalars). */
export function matrixArgIndex(func: string): number {
  return func === "quantile_over_time" ? 1 : 0;
}
