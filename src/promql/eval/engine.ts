import { compareLabels, dropMetricName, type Labels, labelsKey } from "../labels.js";
import type { Expr, VectorSelector } from "../parse/ast.js";
import { typeOf } from "../parse/check-types.js";
import { parseExpr } from "../parse/parse-expr.js";
import { PromqlError } from "../promql-error.js";
import { isStaleNaN, type Queryable } from "../storage.js";
import { Evaluator } from "./evaluator.js";
import { SampleArena } from "./sample-arena.js";
import {
  type EvalValue,
  type FetchedSeries,
  makeSteps,
  type StepSeries,
  type Steps,
  stepTime,
} from "./types.js";

export interface EngineOptions {
  /** How far back an instant selector looks for a sample (Prometheus `--query.lookback-delta`). Default 5m. */
  readonly lookbackDeltaMs?: number;
  /** Samples a query may hold in memory at once (Prometheus `--query.max-samples`). Default 50,000,000. */
  readonly maxSamples?: number;
  /** Default 2 minutes (Prometheus `--query.timeout`). */
  readonly timeoutMs?: number;
  /** Step of subqueries written without one (`x[1h:]`). Default 1 minute. */
  readonly noStepSubqueryIntervalMs?: number;
}

export interface InstantQuery {
  readonly query: string | Expr;
  /** Evaluation time in milliseconds since the epoch. */
  readonly time: number;
  readonly signal?: AbortSignal;
  readonly lookbackDeltaMs?: number;
}

export interface RangeQuery {
  readonly query: string | Expr;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly signal?: AbortSignal;
  readonly lookbackDeltaMs?: number;
}

export interface FloatPoint {
  readonly t: number;
  readonly f: number;
}

export interface InstantSample {
  readonly labels: Labels;
  readonly t: number;
  readonly f: number;
}

export interface RangeSeriesResult {
  readonly labels: Labels;
  readonly points: FloatPoint[];
}

export type QueryValue =
  | { readonly type: "scalar"; readonly t: number; readonly f: number }
  | { readonly type: "string"; readonly t: number; readonly value: string }
  | { readonly type: "vector"; readonly samples: InstantSample[] }
  | { readonly type: "matrix"; readonly series: RangeSeriesResult[] };

export interface QueryResult {
  readonly value: QueryValue;
  /** Prometheus-style annotations ("PromQL warning: …", "PromQL info: …"). */
  readonly warnings: string[];
  readonly infos: string[];
}

/** Sample arenas kept between queries (each up to `SampleArena.BLOCKS_KEPT` blocks). */
const ARENAS_KEPT = 2;

const DEFAULTS = {
  lookbackDeltaMs: 5 * 60_000,
  maxSamples: 50_000_000,
  timeoutMs: 2 * 60_000,
  noStepSubqueryIntervalMs: 60_000,
};

/**
 * The PromQL engine: parses a query, fetches the selected series from a `Queryable` and evaluates it with
 * Prometheus 3 semantics.
 *
 * @example
 * const engine = new Engine(storage);
 * const { value } = await engine.instantQuery({ query: "sum(rate(http_requests_total[5m]))", time: Date.now() });
 */
export class Engine {
  private readonly options: Required<EngineOptions>;
  /** Sample arenas of finished queries, for the next ones; queries that run at once take one each. */
  private readonly arenas: SampleArena[] = [];

  constructor(
    private readonly queryable: Queryable,
    options: EngineOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async instantQuery(q: InstantQuery): Promise<QueryResult> {
    const expr = typeof q.query === "string" ? parseExpr(q.query) : q.query;
    const steps = makeSteps(q.time, q.time, 0);
    const { value, evaluator } = await this.run(expr, steps, q.signal, q.lookbackDeltaMs);
    return {
      value: toInstantValue(value, q.time),
      warnings: [...evaluator.warnings],
      infos: [...evaluator.infos],
    };
  }

  async rangeQuery(q: RangeQuery): Promise<QueryResult> {
    const expr = typeof q.query === "string" ? parseExpr(q.query) : q.query;
    if (q.step <= 0) {
      throw new PromqlError("bad_data", "zero or negative query resolution step widths are not accepted");
    }
    if (q.end < q.start) throw new PromqlError("bad_data", "end timestamp must not be before start time");
    const type = typeOf(expr);
    if (type !== "scalar" && type !== "vector") {
      const documented = type === "matrix" ? "range vector" : type;
      throw new PromqlError(
        "bad_data",
        `invalid expression type "${documented}" for range query, must be Scalar or instant Vector`,
      );
    }
    const steps = makeSteps(q.start, q.end, q.step);
    const { value, evaluator } = await this.run(expr, steps, q.signal, q.lookbackDeltaMs);
    return {
      value: toMatrixValue(value, steps),
      warnings: [...evaluator.warnings],
      infos: [...evaluator.infos],
    };
  }

  private async run(
    expr: Expr,
    steps: Steps,
    signal: AbortSignal | undefined,
    lookback: number | undefined,
  ): Promise<{ value: EvalValue; evaluator: Evaluator }> {
    const started = performance.now();
    const lookbackMs = lookback ?? this.options.lookbackDeltaMs;
    const ranges = new Map<VectorSelector, { min: number; max: number }>();
    collectSelectors(
      expr,
      steps.start,
      steps.end,
      lookbackMs,
      this.options.noStepSubqueryIntervalMs,
      ranges,
      steps,
    );
    const arena = this.arenas.pop() ?? new SampleArena();
    try {
      return await this.evaluate(expr, steps, signal, lookbackMs, ranges, arena, started);
    } finally {
      // Nothing of the fetched samples outlives the evaluation: results are copied into arrays of their own.
      arena.reset();
      if (this.arenas.length < ARENAS_KEPT) this.arenas.push(arena);
    }
  }

  private async evaluate(
    expr: Expr,
    steps: Steps,
    signal: AbortSignal | undefined,
    lookbackMs: number,
    ranges: ReadonlyMap<VectorSelector, { min: number; max: number }>,
    arena: SampleArena,
    started: number,
  ): Promise<{ value: EvalValue; evaluator: Evaluator }> {
    const allocate = (n: number): Float64Array => arena.take(n);
    const data = new Map<VectorSelector, FetchedSeries[]>();
    for (const [vs, range] of ranges) {
      if (signal?.aborted === true) throw new PromqlError("canceled", "query was canceled");
      const found = await this.queryable.select({
        matchers: vs.matchers,
        minT: range.min,
        maxT: range.max,
        signal,
        allocate,
      });
      data.set(
        vs,
        found.map((s) => ({
          labels: s.labels,
          ts: s.timestamps,
          vs: s.values,
          stale: staleMarkers(s.values),
        })),
      );
    }
    const evaluator = new Evaluator({
      data,
      lookbackMs,
      maxSamples: this.options.maxSamples,
      deadline: started + this.options.timeoutMs,
      signal,
      noStepSubqueryIntervalMs: this.options.noStepSubqueryIntervalMs,
      queryStart: steps.start,
      queryEnd: steps.end,
    });
    const value = evaluator.eval(expr, steps);
    return { value: cleanupNames(value), evaluator };
  }
}

/** Where the staleness markers are, or undefined when there is none (most series): no NaN, no marker. */
function staleMarkers(values: ArrayLike<number>): Uint8Array | undefined {
  let stale: Uint8Array | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v) || !isStaleNaN(v)) continue;
    stale ??= new Uint8Array(values.length);
    stale[i] = 1;
  }
  return stale;
}

/** Computes, for each selector, the widest time range any step of the query reads. */
function collectSelectors(
  expr: Expr,
  start: number,
  end: number,
  lookback: number,
  defaultStep: number,
  out: Map<VectorSelector, { min: number; max: number }>,
  query: Steps,
): void {
  const atTime = (at: VectorSelector["at"]): number | undefined =>
    at === undefined ? undefined : at.kind === "start" ? query.start : at.kind === "end" ? query.end : at.ms;
  const add = (vs: VectorSelector, back: number): void => {
    const at = atTime(vs.at);
    // Ranges and look-backs are left-open, (t - back, t]: a sample at exactly t - back is never read, and
    // fetching it can cost a whole stored chunk (a query per minute over [1m] whose first step falls on the
    // last sample of a chunk written out read that chunk back from disk for every series).
    const min = (at ?? start) - vs.offsetMs - back + 1;
    const max = (at ?? end) - vs.offsetMs;
    const prev = out.get(vs);
    out.set(vs, { min: Math.min(min, prev?.min ?? min), max: Math.max(max, prev?.max ?? max) });
  };
  const visit = (e: Expr, s: number, t: number): void => {
    switch (e.kind) {
      case "VectorSelector":
        add(e, lookback);
        return;
      case "MatrixSelector":
        add(e.selector, e.rangeMs);
        return;
      case "Subquery": {
        const at = atTime(e.at);
        collectSelectors(
          e.expr,
          (at ?? s) - e.offsetMs - e.rangeMs,
          (at ?? t) - e.offsetMs,
          lookback,
          defaultStep,
          out,
          query,
        );
        return;
      }
      case "Paren":
      case "Unary":
        visit(e.expr, s, t);
        return;
      case "Call":
        for (const a of e.args) visit(a, s, t);
        return;
      case "Aggregate":
        if (e.param !== undefined) visit(e.param, s, t);
        visit(e.expr, s, t);
        return;
      case "Binary":
        visit(e.lhs, s, t);
        visit(e.rhs, s, t);
        return;
      default:
        return;
    }
  };
  visit(expr, start, end);
}

/** Delayed name removal: drop `__name__` where flagged, then reject label sets that now collide. */
function cleanupNames(value: EvalValue): EvalValue {
  if (value.kind === "matrix") {
    const series = value.series.map((s) =>
      s.dropName ? { ...s, labels: dropMetricName(s.labels), dropName: false } : s,
    );
    assertUniqueLabels(series);
    return { kind: "matrix", series };
  }
  if (value.kind !== "vector") return value;
  // Series that end up with the same labels merge when their steps do not overlap (range queries).
  const byKey = new Map<string, StepSeries>();
  const merged: StepSeries[] = [];
  for (const s of value.series) {
    if (s.dropName) {
      s.labels = dropMetricName(s.labels);
      s.dropName = false;
    }
    const key = labelsKey(s.labels);
    const prev = byKey.get(key);
    if (prev === undefined) {
      byKey.set(key, s);
      merged.push(s);
      continue;
    }
    for (let i = 0; i < s.present.length; i++) {
      if (s.present[i] !== 1) continue;
      if (prev.present[i] === 1) {
        throw new PromqlError("execution", "vector cannot contain metrics with the same labelset");
      }
      prev.present[i] = 1;
      prev.values[i] = s.values[i] as number;
    }
  }
  return { kind: "vector", series: merged };
}

function assertUniqueLabels(series: ReadonlyArray<{ readonly labels: Labels }>): void {
  const seen = new Set<string>();
  for (const s of series) {
    const key = labelsKey(s.labels);
    if (seen.has(key))
      throw new PromqlError("execution", "vector cannot contain metrics with the same labelset");
    seen.add(key);
  }
}

function toInstantValue(value: EvalValue, t: number): QueryValue {
  switch (value.kind) {
    case "scalar":
      return { type: "scalar", t, f: value.values[0] ?? Number.NaN };
    case "string":
      return { type: "string", t, value: value.value };
    case "vector":
      return {
        type: "vector",
        samples: value.series
          .filter((s) => s.present[0] === 1)
          .map((s) => ({ labels: s.labels, t, f: s.values[0] as number })),
      };
    case "matrix":
      return {
        type: "matrix",
        series: value.series
          .map((s) => ({
            labels: s.labels,
            points: Array.from({ length: s.ts.length }, (_, i) => ({
              t: s.ts[i] as number,
              f: s.vs[i] as number,
            })),
          }))
          .sort((a, b) => compareLabels(a.labels, b.labels)),
      };
  }
}

function toMatrixValue(value: EvalValue, steps: Steps): QueryValue {
  if (value.kind === "scalar") {
    const points = Array.from(value.values, (f, i) => ({ t: stepTime(steps, i), f }));
    return { type: "matrix", series: [{ labels: [], points }] };
  }
  if (value.kind !== "vector")
    throw new PromqlError("execution", `unexpected ${value.kind} result for range query`);
  const series = value.series
    .map((s) => {
      const points: FloatPoint[] = [];
      for (let i = 0; i < steps.count; i++) {
        if (s.present[i] === 1) points.push({ t: stepTime(steps, i), f: s.values[i] as number });
      }
      return { labels: s.labels, points };
    })
    .filter((s) => s.points.length > 0)
    .sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: "matrix", series };
}
