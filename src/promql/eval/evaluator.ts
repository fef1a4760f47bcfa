import { compareLabels, getLabel, type Labels, labelsFrom, labelsKey, METRIC_NAME } from "../labels.js";
import type {
  Aggregate,
  AtModifier,
  Binary,
  Call,
  Expr,
  ExprKind,
  MatrixSelector,
  Subquery,
  VectorMatching,
  VectorSelector,
} from "../parse/ast.js";
import { isSetOp } from "../parse/ast.js";
import { typeOf } from "../parse/check-types.js";
import { FUNCTIONS } from "../parse/functions.js";
import { PromqlError } from "../promql-error.js";
import { aggregateColumn, aggregateSeries, aggregateStep, COLUMN_OPS } from "./aggregate.js";
import { scalarBinop, setBinop, vectorBinop, vectorScalarBinop, vectorScalarSeries } from "./binary.js";
import { INSTANT_FUNCTIONS } from "./instant-functions.js";
import { StepColumns } from "./step-columns.js";
import {
  KEEPS_METRIC_NAME,
  matrixArgIndex,
  RANGE_FUNCTIONS,
  type RangeFnContext,
  type RangeFunction,
} from "./range-functions.js";
import {
  type EvalValue,
  type FetchedSeries,
  makeSteps,
  type RawSeries,
  type Sample,
  type StepSeries,
  type Steps,
  stepTime,
  upperBound,
  type Window,
} from "./types.js";

export interface EvaluatorOptions {
  readonly data: ReadonlyMap<VectorSelector, readonly FetchedSeries[]>;
  readonly lookbackMs: number;
  readonly maxSamples: number;
  /** `performance.now()` value after which evaluation stops with a timeout. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly noStepSubqueryIntervalMs: number;
  /** Start and end of the whole query, for `@ start()` and `@ end()`. */
  readonly queryStart: number;
  readonly queryEnd: number;
}

type Handler<K extends ExprKind> = (e: Extract<Expr, { kind: K }>, steps: Steps) => EvalValue;

// Functions whose arguments or labels need more than the generic per-step evaluation.
const SPECIAL_FUNCTIONS = new Set([
  "time",
  "pi",
  "scalar",
  "vector",
  "absent",
  "absent_over_time",
  "timestamp",
]);

/** Evaluates an expression over all steps of a query; see `Engine` for the public entry points. */
export class Evaluator {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();
  private samples = 0;
  private checks = 0;

  constructor(private readonly opts: EvaluatorOptions) {}

  eval(expr: Expr, steps: Steps): EvalValue {
    const handler = this.handlers[expr.kind] as Handler<ExprKind>;
    return handler(expr as never, steps);
  }

  fail(message: string): never {
    throw new PromqlError("execution", message);
  }

  private readonly handlers: { readonly [K in ExprKind]: Handler<K> } = {
    NumberLiteral: (e, steps) => ({ kind: "scalar", values: new Float64Array(steps.count).fill(e.value) }),
    StringLiteral: (e) => ({ kind: "string", value: e.value }),
    Paren: (e, steps) => this.eval(e.expr, steps),
    Unary: (e, steps) => {
      const inner = this.eval(e.expr, steps);
      if (e.op === "+") return inner;
      if (inner.kind === "scalar") return { kind: "scalar", values: inner.values.map((v) => -v) };
      if (inner.kind !== "vector") return this.fail("unary minus on a non-numeric value");
      for (const s of inner.series) {
        s.values = s.values.map((v) => -v);
        s.dropName = true;
      }
      return inner;
    },
    VectorSelector: (e, steps) => ({ kind: "vector", series: this.selectVector(e, steps, false) }),
    MatrixSelector: (e, steps) => this.rawMatrix(e, steps),
    Subquery: (e, steps) => this.rawMatrix(e, steps),
    Call: (e, steps) => this.call(e, steps),
    Aggregate: (e, steps) => this.aggregate(e, steps),
    Binary: (e, steps) => this.binary(e, steps),
  };

  // ---- limits ---------------------------------------------------------------------------------------

  private check(): void {
    if ((this.checks++ & 63) !== 0) return;
    if (this.opts.signal?.aborted === true) throw new PromqlError("canceled", "query was canceled");
    if (performance.now() > this.opts.deadline) {
      throw new PromqlError("timeout", "query timed out in expression evaluation");
    }
  }

  private addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.opts.maxSamples) {
      throw new PromqlError(
        "too_many_samples",
        "query processing would load too many samples into memory in query execution",
      );
    }
  }

  private releaseValue(v: EvalValue): void {
    if (v.kind === "vector") for (const s of v.series) this.samples -= countPresent(s);
  }

  // ---- selectors ------------------------------------------------------------------------------------

  private atTime(at: AtModifier | undefined): number | undefined {
    if (at === undefined) return undefined;
    if (at.kind === "start") return this.opts.queryStart;
    if (at.kind === "end") return this.opts.queryEnd;
    return at.ms;
  }

  private fetched(vs: VectorSelector): readonly FetchedSeries[] {
    return this.opts.data.get(vs) ?? [];
  }

  /** Instant-vector lookup with lookback; with `timestamps`, values are the samples' own times in seconds. */
  private selectVector(vs: VectorSelector, steps: Steps, timestamps: boolean): StepSeries[] {
    const out: StepSeries[] = [];
    const at = this.atTime(vs.at);
    const columns = new StepColumns(steps.count);
    for (const s of this.fetched(vs)) {
      this.check();
      let values: Float64Array | undefined;
      let present: Uint8Array | undefined;
      const stale = s.stale;
      // Steps ascend (or stay at @), so the last sample at or before each one only moves forward.
      let idx = upperBound(s.ts, (at ?? steps.start) - vs.offsetMs) - 1;
      for (let i = 0; i < steps.count; i++) {
        const ref = (at ?? stepTime(steps, i)) - vs.offsetMs;
        while (idx + 1 < s.ts.length && (s.ts[idx + 1] as number) <= ref) idx++;
        if (idx < 0 || (stale !== undefined && stale[idx] === 1)) continue;
        const t = s.ts[idx] as number;
        if (t <= ref - this.opts.lookbackMs) continue;
        if (values === undefined || present === undefined) ({ values, present } = columns.next());
        values[i] = timestamps ? t / 1000 : (s.vs[idx] as number);
        present[i] = 1;
      }
      if (values === undefined || present === undefined) continue;
      const series = { labels: s.labels, dropName: timestamps, values, present };
      this.addSamples(countPresent(series));
      out.push(series);
    }
    return out;
  }

  private rawFromSelector(vs: VectorSelector): RawSeries[] {
    return this.fetched(vs).map((s) => {
      const stale = s.stale;
      if (stale === undefined) return { labels: s.labels, dropName: false, ts: s.ts, vs: s.vs };
      const ts: number[] = [];
      const vals: number[] = [];
      for (let i = 0; i < s.ts.length; i++) {
        if (stale[i] === 1) continue;
        ts.push(s.ts[i] as number);
        vals.push(s.vs[i] as number);
      }
      return { labels: s.labels, dropName: false, ts, vs: vals };
    });
  }

  /** The series of a range-vector expression plus how to place its window at each step. */
  private rangeInput(e: MatrixSelector | Subquery, steps: Steps): RangeInput {
    if (e.kind === "MatrixSelector") {
      return {
        series: this.rawFromSelector(e.selector),
        rangeMs: e.rangeMs,
        offsetMs: e.selector.offsetMs,
        at: this.atTime(e.selector.at),
        selector: e.selector,
      };
    }
    const at = this.atTime(e.at);
    const interval = e.stepMs > 0 ? e.stepMs : this.opts.noStepSubqueryIntervalMs;
    const outerStart = (at ?? steps.start) - e.offsetMs;
    const outerEnd = (at ?? steps.end) - e.offsetMs;
    const first = Math.floor((outerStart - e.rangeMs) / interval) * interval + interval;
    const subSteps: Steps =
      first > outerEnd
        ? { start: first, end: outerEnd, interval, count: 0 }
        : makeSteps(first, outerEnd, interval);
    const inner = this.eval(e.expr, subSteps);
    if (inner.kind !== "vector") return this.fail("subquery is only allowed on instant vector");
    const series: RawSeries[] = inner.series.map((s) => {
      const ts: number[] = [];
      const vals: number[] = [];
      for (let i = 0; i < subSteps.count; i++) {
        if (s.present[i] !== 1) continue;
        ts.push(stepTime(subSteps, i));
        vals.push(s.values[i] as number);
      }
      return { labels: s.labels, dropName: s.dropName, ts, vs: vals };
    });
    return { series, rangeMs: e.rangeMs, offsetMs: e.offsetMs, at, selector: undefined };
  }

  private window(s: RawSeries, input: RangeInput, ts: number): Window & { end: number } {
    const end = (input.at ?? ts) - input.offsetMs;
    const from = upperBound(s.ts, end - input.rangeMs);
    const to = upperBound(s.ts, end, from);
    return { ts: s.ts, vs: s.vs, from, to, end };
  }

  /** A range vector as a query result (instant queries only). */
  private rawMatrix(e: MatrixSelector | Subquery, steps: Steps): EvalValue {
    const input = this.rangeInput(e, steps);
    const t = steps.start;
    const series: RawSeries[] = [];
    for (const s of input.series) {
      const w = this.window(s, input, t);
      if (w.to <= w.from) continue;
      this.addSamples(w.to - w.from);
      series.push({
        labels: s.labels,
        dropName: s.dropName,
        ts: Array.from(s.ts).slice(w.from, w.to),
        vs: Array.from(s.vs).slice(w.from, w.to),
      });
    }
    return { kind: "matrix", series };
  }

  // ---- step-wise evaluation -------------------------------------------------------------------------

  /** Runs `fn` for every step and collects the per-step vectors into series. */
  stepwise(steps: Steps, fn: (i: number, t: number) => Sample[]): StepSeries[] {
    // Keyed by the label set's key; series that will drop __name__ are kept apart from those that keep it.
    const byKey = new Map<string, StepSeries>();
    const byKeyDropName = new Map<string, StepSeries>();
    const order: StepSeries[] = [];
    const columns = new StepColumns(steps.count);
    for (let i = 0; i < steps.count; i++) {
      this.check();
      const vec = fn(i, stepTime(steps, i));
      const seen = vec.length > 1 ? new Set<string>() : undefined;
      for (const s of vec) {
        const key = labelsKey(s.labels);
        if (seen !== undefined) {
          if (seen.has(key)) this.fail("vector cannot contain metrics with the same labelset");
          seen.add(key);
        }
        const map = s.dropName ? byKeyDropName : byKey;
        let series = map.get(key);
        if (series === undefined) {
          series = { labels: s.labels, dropName: s.dropName, ...columns.next() };
          map.set(key, series);
          order.push(series);
        }
        series.values[i] = s.f;
        series.present[i] = 1;
      }
      this.addSamples(vec.length);
    }
    return order;
  }

  private vectorAt(series: readonly StepSeries[], i: number): Sample[] {
    const out: Sample[] = [];
    for (const s of series) {
      if (s.present[i] === 1) out.push({ labels: s.labels, f: s.values[i] as number, dropName: s.dropName });
    }
    return out;
  }

  private asVector(v: EvalValue): StepSeries[] {
    if (v.kind !== "vector") return this.fail(`expected instant vector, got ${v.kind}`);
    return v.series;
  }

  private asScalar(v: EvalValue): Float64Array {
    if (v.kind !== "scalar") return this.fail(`expected scalar, got ${v.kind}`);
    return v.values;
  }

  // ---- calls ----------------------------------------------------------------------------------------

  private call(e: Call, steps: Steps): EvalValue {
    const special = SPECIAL_FUNCTIONS.has(e.func) ? this.specialCall(e, steps) : undefined;
    if (special !== undefined) return special;
    if (RANGE_FUNCTIONS[e.func] !== undefined) return this.rangeCall(e, steps);
    const fn = INSTANT_FUNCTIONS[e.func];
    if (fn === undefined) return this.fail(`function "${e.func}" is not supported`);
    const sig = FUNCTIONS.get(e.func);
    let args = e.args;
    if (args.length === 0 && sig !== undefined && sig.variadic > 0 && sig.argTypes[0] === "vector") {
      args = [
        {
          kind: "Call",
          func: "vector",
          args: [{ kind: "Call", func: "time", args: [], pos: e.pos }],
          pos: e.pos,
        },
      ];
    }
    const values = args.map((a) => this.eval(a, steps));
    const vectorArg = values.find((v) => v.kind === "vector");
    const series = vectorArg === undefined ? [] : this.asVector(vectorArg);
    const scalarArgs = values.filter((v) => v.kind === "scalar").map((v) => this.asScalar(v));
    const strings = values.flatMap((v) => (v.kind === "string" ? [v.value] : []));
    const out = this.stepwise(steps, (i, t) =>
      fn(this.vectorAt(series, i), {
        stepTime: t,
        scalars: scalarArgs.map((s) => s[i] as number),
        strings,
        warn: (m) => this.warnings.add(m),
        info: (m) => this.infos.add(m),
        fail: (m) => this.fail(m),
      }),
    );
    for (const v of values) this.releaseValue(v);
    return { kind: "vector", series: out };
  }

  private rangeCall(e: Call, steps: Steps): EvalValue {
    const { fn, arg, input, scalarArgs, keepName, ctx } = this.rangeCallInput(e, steps);
    if (arg.kind === "MatrixSelector")
      return this.rangeCallBySeries(fn, input, scalarArgs, keepName, ctx, steps);
    // Steps ascend, so each series' window only moves forward: cursors instead of two searches per step.
    const series = input.series;
    const froms = new Int32Array(series.length);
    const tos = new Int32Array(series.length);
    const w: Mutable<Window> = { ts: [], vs: [], from: 0, to: 0 };
    const out = this.stepwise(steps, (i, t) => {
      const vec: Sample[] = [];
      ctx.scalars = scalarArgs.map((s) => s[i] as number);
      ctx.stepTime = t;
      const end = (input.at ?? t) - input.offsetMs;
      const start = end - input.rangeMs;
      for (let k = 0; k < series.length; k++) {
        const s = series[k] as RawSeries;
        const ts = s.ts;
        let from = froms[k] as number;
        while (from < ts.length && (ts[from] as number) <= start) from++;
        let to = Math.max(from, tos[k] as number);
        while (to < ts.length && (ts[to] as number) <= end) to++;
        froms[k] = from;
        tos[k] = to;
        if (to <= from) continue;
        w.ts = ts;
        w.vs = s.vs;
        w.from = from;
        w.to = to;
        this.addSamples(to - from);
        ctx.rangeStart = start;
        ctx.rangeEnd = end;
        const f = fn(w, ctx);
        this.samples -= to - from;
        if (f === undefined) continue;
        vec.push({ labels: s.labels, f, dropName: keepName ? s.dropName : true });
      }
      return vec;
    });
    return { kind: "vector", series: out };
  }

  /** A range function's call, its arguments evaluated: all `rangeCall` needs before it computes. */
  private rangeCallInput(e: Call, steps: Steps) {
    const fn = RANGE_FUNCTIONS[e.func];
    const matrixIdx = matrixArgIndex(e.func);
    const arg = unwrapParens(e.args[matrixIdx]);
    if (fn === undefined || arg === undefined || (arg.kind !== "MatrixSelector" && arg.kind !== "Subquery")) {
      return this.fail(`expected a range vector argument in call to "${e.func}"`);
    }
    const scalarArgs = e.args
      .filter((_, idx) => idx !== matrixIdx)
      .map((a) => this.asScalar(this.eval(a, steps)));
    const input = this.rangeInput(arg, steps);
    if (e.func === "rate" || e.func === "increase") this.checkCounterName(input);
    const keepName = KEEPS_METRIC_NAME.has(e.func);
    // One context object for every window of the query: functions read it and never keep it.
    const ctx: Mutable<RangeFnContext> = {
      rangeStart: 0,
      rangeEnd: 0,
      rangeMs: input.rangeMs,
      stepTime: 0,
      scalars: [],
      warn: (m) => this.warnings.add(m),
      fail: (m) => this.fail(m),
    };
    return { fn, arg, input, scalarArgs, keepName, ctx };
  }

  /**
   * `rangeCallBySeries` at a single step, its values in columns by input series instead of a series each:
   * for an aggregation over it (`sum by (slo) (rate(m[1m]))` at one step over 20,000 series), which reads
   * each value once. Samples are counted as `rangeCallBySeries` counts them; the caller releases them.
   */
  private rangeCallColumn(e: Call, steps: Steps) {
    const { fn, input, scalarArgs, keepName, ctx } = this.rangeCallInput(e, steps);
    const series = input.series;
    const values = new Float64Array(series.length);
    const present = new Uint8Array(series.length);
    const w: Mutable<Window> = { ts: [], vs: [], from: 0, to: 0 };
    ctx.scalars = scalarArgs.map((s) => s[0] as number);
    const t = steps.start;
    const end = (input.at ?? t) - input.offsetMs;
    const start = end - input.rangeMs;
    let produced = 0;
    for (let k = 0; k < series.length; k++) {
      this.check();
      const s = series[k] as RawSeries;
      const from = upperBound(s.ts, start);
      const to = upperBound(s.ts, end, from);
      if (to <= from) continue;
      w.ts = s.ts;
      w.vs = s.vs;
      const f = this.windowValue(fn, w, ctx, from, to, t, start, end);
      if (f === undefined) continue;
      values[k] = f;
      present[k] = 1;
      this.addSamples(1);
      produced++;
    }
    return { series, values, present, dropName: !keepName, produced };
  }

  /**
   * A range function over a selector's series, one series at a time: each input series gives at most one
   * output series (the store's label sets are unique), so values go straight into it, in input order.
   */
  private rangeCallBySeries(
    fn: RangeFunction,
    input: RangeInput,
    scalarArgs: readonly Float64Array[],
    keepName: boolean,
    ctx: Mutable<RangeFnContext>,
    steps: Steps,
  ): EvalValue {
    const out: StepSeries[] = [];
    const columns = new StepColumns(steps.count);
    const w: Mutable<Window> = { ts: [], vs: [], from: 0, to: 0 };
    const scalars = scalarArgs.map(() => 0);
    ctx.scalars = scalars;
    for (const s of input.series) {
      this.check();
      const ts = s.ts;
      w.ts = ts;
      w.vs = s.vs;
      let values: Float64Array | undefined;
      let present: Uint8Array | undefined;
      let produced = 0;
      let from = 0;
      let to = 0;
      for (let i = 0; i < steps.count; i++) {
        const t = stepTime(steps, i);
        const end = (input.at ?? t) - input.offsetMs;
        const start = end - input.rangeMs;
        // Steps ascend, so the window only moves forward: cursors instead of two searches per step.
        while (from < ts.length && (ts[from] as number) <= start) from++;
        if (to < from) to = from;
        while (to < ts.length && (ts[to] as number) <= end) to++;
        if (to <= from) continue;
        for (let a = 0; a < scalars.length; a++) scalars[a] = (scalarArgs[a] as Float64Array)[i] as number;
        const f = this.windowValue(fn, w, ctx, from, to, t, start, end);
        if (f === undefined) continue;
        if (values === undefined || present === undefined) ({ values, present } = columns.next());
        values[i] = f;
        present[i] = 1;
        produced++;
      }
      if (values === undefined || present === undefined) continue;
      this.addSamples(produced);
      out.push({ labels: s.labels, dropName: keepName ? s.dropName : true, values, present });
    }
    return { kind: "vector", series: out };
  }

  /**
   * The range function over the window [from, to) of `w`'s series at step `t`; its samples count against
   * the query's limit while the function runs, as Prometheus counts them.
   */
  private windowValue(
    fn: RangeFunction,
    w: Mutable<Window>,
    ctx: Mutable<RangeFnContext>,
    from: number,
    to: number,
    t: number,
    start: number,
    end: number,
  ): number | undefined {
    w.from = from;
    w.to = to;
    this.addSamples(to - from);
    ctx.stepTime = t;
    ctx.rangeStart = start;
    ctx.rangeEnd = end;
    const f = fn(w, ctx);
    this.samples -= to - from;
    return f;
  }

  private checkCounterName(input: RangeInput): void {
    // Series of one selector mostly share their name: each name is tested once.
    let checked: string | undefined;
    for (const s of input.series) {
      const name = getLabel(s.labels, METRIC_NAME);
      if (name === checked) continue;
      checked = name;
      if (name === "" || /(_total|_sum|_count|_bucket)$/.test(name)) continue;
      this.infos.add(
        `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "${name}"`,
      );
    }
  }

  private specialCall(e: Call, steps: Steps): EvalValue | undefined {
    switch (e.func) {
      case "time":
        return {
          kind: "scalar",
          values: Float64Array.from({ length: steps.count }, (_, i) => stepTime(steps, i) / 1000),
        };
      case "pi":
        return { kind: "scalar", values: new Float64Array(steps.count).fill(Math.PI) };
      case "vector": {
        const arg = e.args[0];
        if (arg === undefined) return this.fail("vector() needs an argument");
        const values = this.asScalar(this.eval(arg, steps));
        return {
          kind: "vector",
          series: this.stepwise(steps, (i) => [{ labels: [], f: values[i] as number, dropName: false }]),
        };
      }
      case "scalar": {
        const arg = e.args[0];
        if (arg === undefined) return this.fail("scalar() needs an argument");
        const v = this.eval(arg, steps);
        const series = this.asVector(v);
        const values = new Float64Array(steps.count).fill(Number.NaN);
        const counts = new Uint32Array(steps.count);
        for (const s of series) {
          for (let i = 0; i < steps.count; i++) {
            if (s.present[i] !== 1) continue;
            counts[i] = (counts[i] ?? 0) + 1;
            values[i] = s.values[i] as number;
          }
        }
        for (let i = 0; i < steps.count; i++) if (counts[i] !== 1) values[i] = Number.NaN;
        this.releaseValue(v);
        return { kind: "scalar", values };
      }
      case "timestamp": {
        const arg = unwrapParens(e.args[0]);
        if (arg === undefined) return this.fail("timestamp() needs an argument");
        if (arg.kind === "VectorSelector")
          return { kind: "vector", series: this.selectVector(arg, steps, true) };
        const series = this.asVector(this.eval(arg, steps));
        return {
          kind: "vector",
          series: this.stepwise(steps, (i, t) =>
            this.vectorAt(series, i).map((s) => ({ labels: s.labels, f: t / 1000, dropName: true })),
          ),
        };
      }
      case "absent": {
        const arg = e.args[0];
        if (arg === undefined) return this.fail("absent() needs an argument");
        const series = this.asVector(this.eval(arg, steps));
        const labels = absentLabels(unwrapParens(arg));
        return {
          kind: "vector",
          series: this.stepwise(steps, (i) =>
            series.some((s) => s.present[i] === 1) ? [] : [{ labels, f: 1, dropName: false }],
          ),
        };
      }
      case "absent_over_time": {
        const arg = unwrapParens(e.args[0]);
        if (arg === undefined || (arg.kind !== "MatrixSelector" && arg.kind !== "Subquery")) {
          return this.fail("absent_over_time() needs a range vector");
        }
        const input = this.rangeInput(arg, steps);
        const labels = absentLabels(arg);
        return {
          kind: "vector",
          series: this.stepwise(steps, (_, t) => {
            const any = input.series.some((s) => {
              const w = this.window(s, input, t);
              return w.to > w.from;
            });
            return any ? [] : [{ labels, f: 1, dropName: false }];
          }),
        };
      }
      default:
        return undefined;
    }
  }

  // ---- aggregation ----------------------------------------------------------------------------------

  private aggregate(e: Aggregate, steps: Steps): EvalValue {
    let paramAt: (i: number) => number | string | undefined = () => undefined;
    if (e.param !== undefined) {
      const p = this.eval(e.param, steps);
      if (p.kind === "string") paramAt = () => p.value;
      else {
        const values = this.asScalar(p);
        paramAt = (i) => values[i];
      }
    }
    const call = unwrapParens(e.expr);
    if (
      steps.count === 1 &&
      call?.kind === "Call" &&
      RANGE_FUNCTIONS[call.func] !== undefined &&
      !SPECIAL_FUNCTIONS.has(call.func) &&
      unwrapParens(call.args[matrixArgIndex(call.func)])?.kind === "MatrixSelector" &&
      COLUMN_OPS.has(e.op)
    ) {
      // One step of a range function over a selector: its values are aggregated without a series each.
      const column = this.rangeCallColumn(call, steps);
      const { series, values, present, dropName } = column;
      const out = aggregateColumn(series, values, present, dropName, e.op, e.grouping, e.without);
      this.check();
      this.addSamples(out.length);
      this.samples -= column.produced;
      return { kind: "vector", series: out };
    }
    const inner = this.eval(e.expr, steps);
    const series = this.asVector(inner);
    const columns = aggregateSeries(series, steps.count, e.op, e.grouping, e.without, (n) => {
      this.check();
      this.addSamples(n);
    });
    if (columns !== undefined) {
      this.releaseValue(inner);
      return { kind: "vector", series: columns };
    }
    const out = this.stepwise(steps, (i) =>
      aggregateStep(this.vectorAt(series, i), {
        op: e.op,
        grouping: e.grouping,
        without: e.without,
        param: paramAt(i),
        sortResults: steps.count === 1,
        warn: (m) => this.warnings.add(m),
        fail: (m) => this.fail(m),
      }),
    );
    this.releaseValue(inner);
    return { kind: "vector", series: out };
  }

  // ---- binary operators -----------------------------------------------------------------------------

  private binary(e: Binary, steps: Steps): EvalValue {
    const lt = typeOf(e.lhs);
    const rt = typeOf(e.rhs);
    const lhs = this.eval(e.lhs, steps);
    const rhs = this.eval(e.rhs, steps);
    if (lt === "scalar" && rt === "scalar") {
      const a = this.asScalar(lhs);
      const b = this.asScalar(rhs);
      return { kind: "scalar", values: a.map((v, i) => scalarBinop(e.op, v, b[i] as number)) };
    }
    let out: StepSeries[];
    if (lt === "vector" && rt === "vector") {
      const ls = this.asVector(lhs);
      const rs = this.asVector(rhs);
      const matching: VectorMatching = e.matching ?? {
        card: "one-to-one",
        on: false,
        labels: [],
        include: [],
      };
      const op = e.op;
      out = isSetOp(op)
        ? this.stepwise(steps, (i) => setBinop(op, this.vectorAt(ls, i), this.vectorAt(rs, i), matching))
        : this.stepwise(steps, (i) =>
            vectorBinop(op, this.vectorAt(ls, i), this.vectorAt(rs, i), matching, e.returnBool, (m) =>
              this.fail(m),
            ),
          );
    } else {
      const swap = lt === "scalar";
      const vec = this.asVector(swap ? rhs : lhs);
      const scalar = this.asScalar(swap ? lhs : rhs);
      const columns = vectorScalarSeries(e.op, vec, scalar, swap, e.returnBool);
      if (columns !== undefined) {
        this.check();
        for (const s of columns) this.addSamples(countPresent(s));
      }
      out =
        columns ??
        this.stepwise(steps, (i) =>
          vectorScalarBinop(e.op, this.vectorAt(vec, i), scalar[i] as number, swap, e.returnBool),
        );
    }
    this.releaseValue(lhs);
    this.releaseValue(rhs);
    return { kind: "vector", series: out };
  }
}

interface RangeInput {
  readonly series: RawSeries[];
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly at: number | undefined;
  readonly selector: VectorSelector | undefined;
}

function countPresent(s: StepSeries): number {
  let n = 0;
  for (const p of s.present) n += p;
  return n;
}

function unwrapParens(e: Expr | undefined): Expr | undefined {
  let cur = e;
  while (cur?.kind === "Paren") cur = cur.expr;
  return cur;
}

/** Labels of an `absent()` result: equality matchers that occur once, except the metric name. */
function absentLabels(e: Expr | undefined): Labels {
  const vs = e?.kind === "VectorSelector" ? e : e?.kind === "MatrixSelector" ? e.selector : undefined;
  if (vs === undefined) return [];
  const counts = new Map<string, number>();
  for (const m of vs.matchers) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  const pairs: Array<[string, string]> = [];
  for (const m of vs.matchers) {
    if (m.name === "__name__" || m.op !== "=" || counts.get(m.name) !== 1) continue;
    pairs.push([m.name, m.value]);
  }
  return labelsFrom(pairs);
}

export function sortSeries<T extends { labels: Labels }>(series: T[]): T[] {
  return series.sort((a, b) => compareLabels(a.labels, b.labels));
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
