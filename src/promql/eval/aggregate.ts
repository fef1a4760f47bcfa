import { compareLabels, type Labels, labelsKey, METRIC_NAME, setLabel } from "../labels.js";
import type { AggregateOp } from "../parse/ast.js";
import { isValidUtf8, quoteGo } from "../parse/literals.js";
import { formatFloatG, formatFloatPlain, quantile } from "./float-math.js";
import type { Sample, StepSeries } from "./types.js";
import { StepColumns } from "./step-columns.js";

export interface AggregateContext {
  readonly op: AggregateOp;
  readonly grouping: readonly string[];
  readonly without: boolean;
  /** The parameter at this step: k, q, or the count_values label name. */
  readonly param: number | string | undefined;
  /** Instant queries return topk/bottomk results sorted; range queries do not need to. */
  readonly sortResults: boolean;
  readonly warn: (message: string) => void;
  readonly fail: (message: string) => never;
}

function groupLabels(labels: Labels, grouping: readonly string[], without: boolean): Labels {
  if (without) return labels.filter((l) => l.name !== METRIC_NAME && !grouping.includes(l.name));
  return labels.filter((l) => grouping.includes(l.name));
}

interface Group {
  labels: Labels;
  samples: Sample[];
  /** Delayed name removal: a group whose output keeps `__name__` drops it if any member would. */
  dropName: boolean;
}

interface GroupOf {
  grouping: readonly string[];
  without: boolean;
  labels: Labels;
  key: string;
}

// A series meets the same aggregation at every step of a range query, and again in the next query that
// groups it alike (its labels come from the store): its group is worked out once.
const groupOfSeries = new WeakMap<Labels, GroupOf>();

function groupOf(labels: Labels, grouping: readonly string[], without: boolean): GroupOf {
  const cached = groupOfSeries.get(labels);
  if (cached !== undefined && cached.without === without && sameNames(cached.grouping, grouping))
    return cached;
  const own = groupLabels(labels, grouping, without);
  const entry = { grouping, without, labels: own, key: labelsKey(own) };
  groupOfSeries.set(labels, entry);
  return entry;
}

/** Whether two groupings name the same labels in the same order (two queries' `by (slo)`, say). */
function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function groupSamples(vec: readonly Sample[], ctx: AggregateContext): Group[] {
  const groups = new Map<string, Group>();
  for (const s of vec) {
    const { labels, key } = groupOf(s.labels, ctx.grouping, ctx.without);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, samples: [], dropName: false };
      groups.set(key, g);
    }
    g.samples.push(s);
    g.dropName ||= s.dropName;
  }
  return [...groups.values()];
}

/** Orders for topk (descending) or bottomk (ascending); NaN always sorts last. */
function compareForK(top: boolean): (a: Sample, b: Sample) => number {
  return (a, b) => {
    const an = Number.isNaN(a.f);
    const bn = Number.isNaN(b.f);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return top ? b.f - a.f : a.f - b.f;
  };
}

/**
 * The k samples topk (or bottomk) keeps, chosen as Prometheus chooses them: a heap of at most k samples in
 * input order, whose least wanted sample is replaced only by a strictly better one. Among equal values at the
 * cut, which ones stay depends on the heap's moves, so these follow Go's `container/heap` step by step.
 */
function keepK(samples: readonly Sample[], k: number, top: boolean): Sample[] {
  // Prometheus's vectorByValueHeap (topk) and vectorByReverseValueHeap (bottomk): NaN sorts below all.
  const less = top
    ? (a: Sample, b: Sample): boolean => Number.isNaN(a.f) || a.f < b.f
    : (a: Sample, b: Sample): boolean => Number.isNaN(a.f) || a.f > b.f;
  const heap: Sample[] = [];
  for (const s of samples) {
    if (heap.length < k) {
      heap.push(s);
      heapUp(heap, heap.length - 1, less);
      continue;
    }
    const least = heap[0] as Sample;
    const better = top ? least.f < s.f : least.f > s.f;
    if (better || (Number.isNaN(least.f) && !Number.isNaN(s.f))) {
      heap[0] = s;
      heapDown(heap, 0, less);
    }
  }
  return heap;
}

type Less = (a: Sample, b: Sample) => boolean;

function heapUp(heap: Sample[], from: number, less: Less): void {
  let j = from;
  while (j > 0) {
    const parent = (j - 1) >> 1;
    if (!less(heap[j] as Sample, heap[parent] as Sample)) break;
    swap(heap, parent, j);
    j = parent;
  }
}

function heapDown(heap: Sample[], from: number, less: Less): void {
  let i = from;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) return;
    let j = left;
    const right = left + 1;
    if (right < heap.length && less(heap[right] as Sample, heap[left] as Sample)) j = right;
    if (!less(heap[j] as Sample, heap[i] as Sample)) return;
    swap(heap, i, j);
    i = j;
  }
}

function swap(heap: Sample[], i: number, j: number): void {
  const t = heap[i] as Sample;
  heap[i] = heap[j] as Sample;
  heap[j] = t;
}

function quantileOf(samples: readonly Sample[], ctx: AggregateContext): number {
  return quantile(
    typeof ctx.param === "number" ? ctx.param : Number.NaN,
    samples.map((s) => s.f),
  );
}

/**
 * Aggregates one step's vector, for the operators that need a step's samples together (quantile, topk,
 * bottomk, limitk, count_values); `aggregateSeries` does the others.
 */
export function aggregateStep(input: readonly Sample[], ctx: AggregateContext): Sample[] {
  const { op } = ctx;
  if (op === "quantile") {
    const q = typeof ctx.param === "number" ? ctx.param : Number.NaN;
    if (Number.isNaN(q) || q < 0 || q > 1) {
      ctx.warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloatG(q)}`);
    }
  }
  if (op === "count_values") return countValues(input, ctx);
  if (op === "topk" || op === "bottomk" || op === "limitk") return selectK(input, ctx);
  if (op === "limit_ratio") return ctx.fail("limit_ratio is not supported");
  if (op !== "quantile") return ctx.fail(`unexpected aggregation ${op}`);
  return groupSamples(input, ctx).map((g) => ({
    labels: g.labels,
    f: quantileOf(g.samples, ctx),
    dropName: g.dropName,
  }));
}

function selectK(vec: readonly Sample[], ctx: AggregateContext): Sample[] {
  const raw = typeof ctx.param === "number" ? ctx.param : Number.NaN;
  if (Number.isNaN(raw)) ctx.fail("Parameter value is NaN");
  const k = Math.trunc(Math.min(raw, 2 ** 53));
  if (k < 1) return [];
  const out: Sample[] = [];
  for (const g of groupSamples(vec, ctx)) {
    if (ctx.op === "limitk") {
      out.push(...[...g.samples].sort((a, b) => compareLabels(a.labels, b.labels)).slice(0, k));
      continue;
    }
    const kept = keepK(g.samples, k, ctx.op === "topk");
    out.push(...kept.sort(compareForK(ctx.op === "topk")));
  }
  if (ctx.sortResults && ctx.op !== "limitk") out.sort(compareForK(ctx.op === "topk"));
  return out;
}

function countValues(vec: readonly Sample[], ctx: AggregateContext): Sample[] {
  const label = typeof ctx.param === "string" ? ctx.param : "";
  if (label === "" || !isValidUtf8(label)) ctx.fail(`invalid label name ${quoteGo(label)}`);
  const counts = new Map<string, Sample>();
  for (const s of vec) {
    const labels = setLabel(groupLabels(s.labels, ctx.grouping, ctx.without), label, formatFloatPlain(s.f));
    const key = labelsKey(labels);
    const existing = counts.get(key);
    if (existing === undefined) counts.set(key, { labels, f: 1, dropName: s.dropName });
    else {
      existing.f++;
      existing.dropName ||= s.dropName;
    }
  }
  return [...counts.values()];
}

/** The aggregations `aggregateSeries` and `aggregateColumn` compute; the others need a step's samples together. */
export const COLUMN_OPS: ReadonlySet<AggregateOp> = new Set<AggregateOp>([
  "sum",
  "avg",
  "count",
  "group",
  "min",
  "max",
  "stdvar",
  "stddev",
]);

/**
 * Aggregates a whole range query at once for the operators that keep one running value per group: each
 * series' group is found once, then every step adds its members in input order, as `aggregateStep` does,
 * to the same float results without a sample object per series and step. Returns undefined for the
 * operators it does not handle. `onStep` gets the number of output samples of each step.
 */
export function aggregateSeries(
  input: readonly StepSeries[],
  stepCount: number,
  op: AggregateOp,
  grouping: readonly string[],
  without: boolean,
  onStep: (samples: number) => void,
): StepSeries[] | undefined {
  if (!COLUMN_OPS.has(op)) return undefined;
  const { groupOfInput, groupLabels } = groupInputs(input, grouping, without);
  const n = groupLabels.length;
  const state = new GroupState(n);
  // An output series per group and delayed-name-removal flag, as `stepwise` keeps them apart.
  const outputs: Array<StepSeries | undefined> = new Array(2 * n).fill(undefined);
  const columns = new StepColumns(stepCount);
  for (let i = 0; i < stepCount; i++) {
    state.reset();
    for (let k = 0; k < input.length; k++) {
      const s = input[k] as StepSeries;
      if (s.present[i] !== 1) continue;
      state.add(op, groupOfInput[k] as number, s.values[i] as number, s.dropName);
    }
    let emitted = 0;
    for (let g = 0; g < n; g++) {
      if (state.count[g] === 0) continue;
      const slot = 2 * g + (state.dropName[g] as number);
      let out = outputs[slot];
      if (out === undefined) {
        out = { labels: groupLabels[g] as Labels, dropName: state.dropName[g] === 1, ...columns.next() };
        outputs[slot] = out;
      }
      out.values[i] = state.result(op, g);
      out.present[i] = 1;
      emitted++;
    }
    onStep(emitted);
  }
  return outputs.filter((o): o is StepSeries => o !== undefined);
}

/**
 * Aggregates one step of values that are not series yet, as `aggregateSeries` would aggregate them as series
 * with one step: `values[k]` is the value of `input[k]` where `present[k]` is 1. For a query at one step over
 * many series (rules, the SLO runtime's batches), whose inner values would otherwise each get a series of
 * their own. For the operators of `COLUMN_OPS` only.
 */
export function aggregateColumn(
  input: readonly { readonly labels: Labels }[],
  values: Float64Array,
  present: Uint8Array,
  dropName: boolean,
  op: AggregateOp,
  grouping: readonly string[],
  without: boolean,
): StepSeries[] {
  const { groupOfInput, groupLabels } = groupInputs(input, grouping, without);
  const state = new GroupState(groupLabels.length);
  for (let k = 0; k < input.length; k++) {
    if (present[k] === 1) state.add(op, groupOfInput[k] as number, values[k] as number, dropName);
  }
  const out: StepSeries[] = [];
  const columns = new StepColumns(1);
  for (let g = 0; g < groupLabels.length; g++) {
    if (state.count[g] === 0) continue;
    const series = { labels: groupLabels[g] as Labels, dropName: state.dropName[g] === 1, ...columns.next() };
    series.values[0] = state.result(op, g);
    series.present[0] = 1;
    out.push(series);
  }
  return out;
}

/** Each input's group (by index) and the groups' labels, in the order of their first member. */
function groupInputs(
  input: readonly { readonly labels: Labels }[],
  grouping: readonly string[],
  without: boolean,
): { groupOfInput: Int32Array; groupLabels: Labels[] } {
  const groupOfInput = new Int32Array(input.length);
  const groupLabels: Labels[] = [];
  const byKey = new Map<string, number>();
  for (let k = 0; k < input.length; k++) {
    const { labels, key } = groupOf((input[k] as { readonly labels: Labels }).labels, grouping, without);
    let g = byKey.get(key);
    if (g === undefined) {
      g = groupLabels.length;
      groupLabels.push(labels);
      byKey.set(key, g);
    }
    groupOfInput[k] = g;
  }
  return { groupOfInput, groupLabels };
}

/**
 * Running values of every group at one step, with Prometheus's float operations: Kahan-Neumaier sums, a mean
 * that turns incremental when the sum would overflow, Welford's variance, NaN replaced by any value in min/max.
 */
class GroupState {
  readonly count: Float64Array;
  readonly dropName: Uint8Array;
  /** sum and avg: the running sum; min and max: the value; stdvar: the sum of squared deviations. */
  private readonly value: Float64Array;
  /** Kahan-Neumaier compensation (sum, avg). */
  private readonly compensation: Float64Array;
  /** avg once the sum would overflow, and stdvar: the running mean. */
  private readonly mean: Float64Array;
  private readonly incremental: Uint8Array;

  constructor(n: number) {
    this.count = new Float64Array(n);
    this.dropName = new Uint8Array(n);
    this.value = new Float64Array(n);
    this.compensation = new Float64Array(n);
    this.mean = new Float64Array(n);
    this.incremental = new Uint8Array(n);
  }

  reset(): void {
    this.count.fill(0);
    this.dropName.fill(0);
    this.value.fill(0);
    this.compensation.fill(0);
    this.mean.fill(0);
    this.incremental.fill(0);
  }

  add(op: AggregateOp, g: number, f: number, dropName: boolean): void {
    if (dropName) this.dropName[g] = 1;
    const count = (this.count[g] as number) + 1;
    this.count[g] = count;
    switch (op) {
      case "sum":
        this.kahanAdd(g, f);
        return;
      case "avg":
        if (count === 1) {
          this.value[g] = f;
          return;
        }
        if (this.incremental[g] === 0) {
          const sum = this.value[g] as number;
          const c = this.compensation[g] as number;
          this.kahanAdd(g, f);
          const next = this.value[g] as number;
          if (next !== Number.POSITIVE_INFINITY && next !== Number.NEGATIVE_INFINITY) return;
          // The running sum would overflow; continue with the incremental mean from here on.
          this.incremental[g] = 1;
          this.mean[g] = sum / (count - 1);
          this.compensation[g] = c / (count - 1);
        }
        {
          const q = (count - 1) / count;
          this.value[g] = q * (this.mean[g] as number);
          this.compensation[g] = q * (this.compensation[g] as number);
          this.kahanAdd(g, f / count);
          this.mean[g] = this.value[g] as number;
        }
        return;
      case "min":
      case "max": {
        const v = this.value[g] as number;
        if (count === 1 || Number.isNaN(v) || (op === "max" ? f > v : f < v)) this.value[g] = f;
        return;
      }
      case "stdvar":
      case "stddev": {
        if (count === 1) {
          this.mean[g] = f;
          this.value[g] = Number.isFinite(f) ? 0 : Number.NaN;
          return;
        }
        const mean = this.mean[g] as number;
        const delta = f - mean;
        const next = mean + delta / count;
        this.mean[g] = next;
        this.value[g] = (this.value[g] as number) + delta * (f - next);
        return;
      }
      default:
        return;
    }
  }

  result(op: AggregateOp, g: number): number {
    const count = this.count[g] as number;
    const value = this.value[g] as number;
    const c = this.compensation[g] as number;
    switch (op) {
      case "sum":
        return value + c;
      case "avg":
        return this.incremental[g] === 1 ? (this.mean[g] as number) + c : value / count + c / count;
      case "count":
        return count;
      case "group":
        return 1;
      case "stdvar":
        return value / count;
      case "stddev":
        return Math.sqrt(value / count);
      default:
        return value;
    }
  }

  /** One step of Kahan-Neumaier summation, as `kahanSumInc` in float-math. */
  private kahanAdd(g: number, inc: number): void {
    const sum = this.value[g] as number;
    const t = sum + inc;
    this.value[g] = t;
    if (t === Number.POSITIVE_INFINITY || t === Number.NEGATIVE_INFINITY) this.compensation[g] = 0;
    else if (Math.abs(sum) >= Math.abs(inc))
      this.compensation[g] = (this.compensation[g] as number) + (sum - t + inc);
    else this.compensation[g] = (this.compensation[g] as number) + (inc - t + sum);
  }
}
