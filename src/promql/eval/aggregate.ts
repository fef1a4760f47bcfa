import { compareLabels, type Labels, labelsKey, METRIC_NAME, setLabel } from "../labels.js";
import type { AggregateOp } from "../parse/ast.js";
import { isValidUtf8, quoteGo } from "../parse/literals.js";
import { formatFloatG, formatFloatPlain, kahanSumInc, quantile } from "./float-math.js";
import type { Sample } from "./types.js";

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

// A series meets the same aggregation at every step of a range query: its group is worked out once.
const groupOfSeries = new WeakMap<Labels, GroupOf>();

function groupOf(labels: Labels, grouping: readonly string[], without: boolean): GroupOf {
  const cached = groupOfSeries.get(labels);
  if (cached !== undefined && cached.grouping === grouping && cached.without === without) return cached;
  const own = groupLabels(labels, grouping, without);
  const entry = { grouping, without, labels: own, key: labelsKey(own) };
  groupOfSeries.set(labels, entry);
  return entry;
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

function sum(samples: readonly Sample[]): number {
  let total = 0;
  let c = 0;
  for (const s of samples) [total, c] = kahanSumInc(s.f, total, c);
  return total + c;
}

function avg(samples: readonly Sample[]): number {
  let count = 1;
  let total = (samples[0] as Sample).f;
  let c = 0;
  let mean = 0;
  let incremental = false;
  for (let i = 1; i < samples.length; i++) {
    const f = (samples[i] as Sample).f;
    count++;
    if (!incremental) {
      const [next, nextC] = kahanSumInc(f, total, c);
      if (next !== Number.POSITIVE_INFINITY && next !== Number.NEGATIVE_INFINITY) {
        total = next;
        c = nextC;
        continue;
      }
      // The running sum would overflow; continue with the incremental mean from here on.
      incremental = true;
      mean = total / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(f / count, q * mean, q * c);
  }
  return incremental ? mean + c : total / count + c / count;
}

function variance(samples: readonly Sample[]): number {
  const first = (samples[0] as Sample).f;
  let count = 1;
  let mean = first;
  let value = Number.isFinite(first) ? 0 : Number.NaN;
  for (let i = 1; i < samples.length; i++) {
    const f = (samples[i] as Sample).f;
    count++;
    const delta = f - mean;
    mean += delta / count;
    value += delta * (f - mean);
  }
  return value / count;
}

function minMax(samples: readonly Sample[], isMax: boolean): number {
  let v = (samples[0] as Sample).f;
  for (const s of samples) {
    if (Number.isNaN(v) || (isMax ? s.f > v : s.f < v)) v = s.f;
  }
  return v;
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

function simple(op: AggregateOp, samples: readonly Sample[], ctx: AggregateContext): number {
  switch (op) {
    case "sum":
      return sum(samples);
    case "avg":
      return avg(samples);
    case "count":
      return samples.length;
    case "group":
      return 1;
    case "min":
      return minMax(samples, false);
    case "max":
      return minMax(samples, true);
    case "stdvar":
      return variance(samples);
    case "stddev":
      return Math.sqrt(variance(samples));
    case "quantile":
      return quantile(
        typeof ctx.param === "number" ? ctx.param : Number.NaN,
        samples.map((s) => s.f),
      );
    default:
      return ctx.fail(`unexpected aggregation ${op}`);
  }
}

/** Aggregates one step's vector. */
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
  return groupSamples(input, ctx).map((g) => ({
    labels: g.labels,
    f: simple(op, g.samples, ctx),
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
