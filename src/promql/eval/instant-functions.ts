import { compareLabels, compareStrings, getLabel, type Labels, METRIC_NAME, setLabel } from "../labels.js";
import { isValidUtf8, quoteGo } from "../parse/literals.js";
import { bucketFraction, bucketQuantile, type Bucket } from "./buckets.js";
import { formatFloatG } from "./float-math.js";
import { compileAnchored, expandTemplate } from "./go-regexp.js";
import type { Sample } from "./types.js";

/** What an instant-vector function sees at one step. */
export interface InstantFnContext {
  readonly stepTime: number;
  readonly scalars: readonly number[];
  readonly strings: readonly string[];
  readonly warn: (message: string) => void;
  readonly info: (message: string) => void;
  readonly fail: (message: string) => never;
}

export type InstantFunction = (vec: Sample[], ctx: InstantFnContext) => Sample[];

const mapValues =
  (fn: (f: number, ctx: InstantFnContext) => number): InstantFunction =>
  (vec, ctx) =>
    vec.map((s) => ({ labels: s.labels, f: fn(s.f, ctx), dropName: true }));

const utcDate = (f: number): Date => new Date(Math.trunc(f) * 1000);

function dayOfYear(d: Date): number {
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.floor((d.getTime() - start) / 86_400_000) + 1;
}

const dateFn = (fn: (d: Date) => number): InstantFunction =>
  mapValues((f) => (Number.isFinite(f) ? fn(utcDate(f)) : Number.NaN));

/** Natural ordering of label values: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const chunk = /(\d+|\D+)/g;
  const ca = a.match(chunk) ?? [];
  const cb = b.match(chunk) ?? [];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const x = ca[i] as string;
    const y = cb[i] as string;
    if (x === y) continue;
    const xd = /^\d/.test(x);
    const yd = /^\d/.test(y);
    if (xd && yd) {
      const xt = x.replace(/^0+(?=\d)/, "");
      const yt = y.replace(/^0+(?=\d)/, "");
      if (xt.length !== yt.length) return xt.length < yt.length ? -1 : 1;
      const c = compareStrings(xt, yt);
      if (c !== 0) return c;
      continue;
    }
    return compareStrings(x, y);
  }
  return ca.length - cb.length;
}

function sortByValue(vec: Sample[], desc: boolean): Sample[] {
  return [...vec].sort((a, b) => {
    const an = Number.isNaN(a.f);
    const bn = Number.isNaN(b.f);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return desc ? b.f - a.f : a.f - b.f;
  });
}

function sortByLabel(vec: Sample[], names: readonly string[], desc: boolean): Sample[] {
  const sign = desc ? -1 : 1;
  return [...vec].sort((a, b) => {
    for (const name of names) {
      const va = getLabel(a.labels, name);
      const vb = getLabel(b.labels, name);
      if (va === vb) continue;
      return sign * naturalCompare(va, vb);
    }
    return sign * compareLabels(a.labels, b.labels);
  });
}

function labelReplace(vec: Sample[], ctx: InstantFnContext): Sample[] {
  const [dst = "", replacement = "", src = "", regex = ""] = ctx.strings;
  let re: RegExp;
  try {
    re = compileAnchored(regex);
  } catch (err) {
    return ctx.fail(
      `invalid regular expression in label_replace(): ${err instanceof Error ? err.message : regex}`,
    );
  }
  if (dst === "" || !isValidUtf8(dst)) ctx.fail(`invalid destination label name in label_replace(): ${dst}`);
  return vec.map((s) => {
    const m = re.exec(getLabel(s.labels, src));
    if (m === null) return s;
    // Writing __name__ explicitly keeps it, even where the name was due to be dropped.
    const dropName = s.dropName && dst !== METRIC_NAME;
    return { labels: setLabel(s.labels, dst, expandTemplate(replacement, m)), f: s.f, dropName };
  });
}

function labelJoin(vec: Sample[], ctx: InstantFnContext): Sample[] {
  const [dst = "", sep = "", ...srcs] = ctx.strings;
  if (dst === "" || !isValidUtf8(dst)) ctx.fail(`invalid destination label name in label_join(): ${dst}`);
  for (const src of srcs) {
    if (!isValidUtf8(src)) ctx.fail(`invalid source label name in label_join(): ${src}`);
  }
  return vec.map((s) => ({
    f: s.f,
    labels: setLabel(s.labels, dst, srcs.map((src) => getLabel(s.labels, src)).join(sep)),
    dropName: s.dropName && dst !== METRIC_NAME,
  }));
}

/** Groups classic histogram buckets (`le` series) by their other labels. */
function bucketGroups(vec: Sample[], ctx: InstantFnContext): Array<{ labels: Labels; buckets: Bucket[] }> {
  const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
  for (const s of vec) {
    const le = getLabel(s.labels, "le");
    const upper = parseBucketBound(le);
    const labels = s.labels.filter((l) => l.name !== "le" && l.name !== "__name__");
    if (upper === undefined) {
      ctx.warn(
        `PromQL warning: bucket label "le" is missing or has a malformed value of ${quoteGo(le)} for metric name ${quoteGo(getLabel(s.labels, "__name__"))}`,
      );
      continue;
    }
    const key = JSON.stringify(labels);
    let g = groups.get(key);
    if (g === undefined) {
      g = { labels, buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ upperBound: upper, count: s.f });
  }
  return [...groups.values()];
}

function parseBucketBound(le: string): number | undefined {
  if (le === "") return undefined;
  const lower = le.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  const v = Number(le);
  return Number.isNaN(v) ? undefined : v;
}

function histogramQuantile(vec: Sample[], ctx: InstantFnContext): Sample[] {
  const q = ctx.scalars[0] ?? Number.NaN;
  if (Number.isNaN(q) || q < 0 || q > 1) {
    ctx.warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloatG(q)}`);
  }
  return bucketGroups(vec, ctx).map((g) => {
    const { value, forcedMonotonic } = bucketQuantile(q, g.buckets);
    if (forcedMonotonic) {
      ctx.info("PromQL info: input to histogram_quantile needed to be fixed for monotonicity");
    }
    return { labels: g.labels, f: value, dropName: false };
  });
}

function histogramFraction(vec: Sample[], ctx: InstantFnContext): Sample[] {
  const [lower = Number.NaN, upper = Number.NaN] = ctx.scalars;
  return bucketGroups(vec, ctx).map((g) => ({
    labels: g.labels,
    f: bucketFraction(lower, upper, g.buckets),
    dropName: false,
  }));
}

export const INSTANT_FUNCTIONS: Readonly<Record<string, InstantFunction>> = {
  abs: mapValues(Math.abs),
  ceil: mapValues(Math.ceil),
  floor: mapValues(Math.floor),
  exp: mapValues(Math.exp),
  ln: mapValues(Math.log),
  log2: mapValues(Math.log2),
  log10: mapValues(Math.log10),
  sqrt: mapValues(Math.sqrt),
  sgn: mapValues((f) => (f < 0 ? -1 : f > 0 ? 1 : f)),
  acos: mapValues(Math.acos),
  acosh: mapValues(Math.acosh),
  asin: mapValues(Math.asin),
  asinh: mapValues(Math.asinh),
  atan: mapValues(Math.atan),
  atanh: mapValues(Math.atanh),
  cos: mapValues(Math.cos),
  cosh: mapValues(Math.cosh),
  sin: mapValues(Math.sin),
  sinh: mapValues(Math.sinh),
  tan: mapValues(Math.tan),
  tanh: mapValues(Math.tanh),
  deg: mapValues((f) => (f * 180) / Math.PI),
  rad: mapValues((f) => (f * Math.PI) / 180),
  round: mapValues((f, ctx) => {
    const inverse = 1 / (ctx.scalars[0] ?? 1);
    return Math.floor(f * inverse + 0.5) / inverse;
  }),
  clamp: (vec, ctx) => {
    const [min = Number.NaN, max = Number.NaN] = ctx.scalars;
    if (max < min) return [];
    return vec.map((s) => ({ labels: s.labels, f: Math.max(min, Math.min(max, s.f)), dropName: true }));
  },
  clamp_max: mapValues((f, ctx) => Math.min(ctx.scalars[0] ?? Number.NaN, f)),
  clamp_min: mapValues((f, ctx) => Math.max(ctx.scalars[0] ?? Number.NaN, f)),
  minute: dateFn((d) => d.getUTCMinutes()),
  hour: dateFn((d) => d.getUTCHours()),
  day_of_week: dateFn((d) => d.getUTCDay()),
  day_of_month: dateFn((d) => d.getUTCDate()),
  day_of_year: dateFn(dayOfYear),
  days_in_month: dateFn((d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()),
  month: dateFn((d) => d.getUTCMonth() + 1),
  year: dateFn((d) => d.getUTCFullYear()),
  sort: (vec) => sortByValue(vec, false),
  sort_desc: (vec) => sortByValue(vec, true),
  sort_by_label: (vec, ctx) => sortByLabel(vec, ctx.strings, false),
  sort_by_label_desc: (vec, ctx) => sortByLabel(vec, ctx.strings, true),
  label_replace: labelReplace,
  label_join: labelJoin,
  histogram_quantile: histogramQuantile,
  histogram_fraction: histogramFraction,
};
