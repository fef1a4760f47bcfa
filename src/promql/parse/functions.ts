import type { ValueType } from "./ast.js";

/**
 * Signatures of the PromQL functions this engine knows, as in Prometheus's parser: argument types, how many
 * trailing arguments may repeat or be left out (`variadic`: 0 none, -1 unbounded, n up to n more) and the
 * return type.
 */
export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly variadic: number;
  readonly returnType: ValueType;
}

const sig = (
  name: string,
  argTypes: readonly ValueType[],
  returnType: ValueType,
  variadic = 0,
): FunctionSignature => ({ name, argTypes, variadic, returnType });

const vectorMath = [
  "abs",
  "ceil",
  "floor",
  "exp",
  "ln",
  "log2",
  "log10",
  "sqrt",
  "sgn",
  "acos",
  "acosh",
  "asin",
  "asinh",
  "atan",
  "atanh",
  "cos",
  "cosh",
  "sin",
  "sinh",
  "tan",
  "tanh",
  "deg",
  "rad",
  "sort",
  "sort_desc",
  "timestamp",
  "absent",
];

const overTime = [
  "avg_over_time",
  "count_over_time",
  "max_over_time",
  "min_over_time",
  "sum_over_time",
  "stddev_over_time",
  "stdvar_over_time",
  "last_over_time",
  "first_over_time",
  "present_over_time",
  "absent_over_time",
  "mad_over_time",
  "ts_of_max_over_time",
  "ts_of_min_over_time",
  "ts_of_last_over_time",
  "ts_of_first_over_time",
  "changes",
  "resets",
  "delta",
  "deriv",
  "idelta",
  "increase",
  "irate",
  "rate",
];

const dateFunctions = [
  "day_of_month",
  "day_of_week",
  "day_of_year",
  "days_in_month",
  "hour",
  "minute",
  "month",
  "year",
];

const all: FunctionSignature[] = [
  ...vectorMath.map((n) => sig(n, ["vector"], "vector")),
  ...overTime.map((n) => sig(n, ["matrix"], "vector")),
  ...dateFunctions.map((n) => sig(n, ["vector"], "vector", 1)),
  sig("clamp", ["vector", "scalar", "scalar"], "vector"),
  sig("clamp_max", ["vector", "scalar"], "vector"),
  sig("clamp_min", ["vector", "scalar"], "vector"),
  sig("round", ["vector", "scalar"], "vector", 1),
  sig("histogram_quantile", ["scalar", "vector"], "vector"),
  sig("histogram_fraction", ["scalar", "scalar", "vector"], "vector"),
  sig("double_exponential_smoothing", ["matrix", "scalar", "scalar"], "vector"),
  sig("label_join", ["vector", "string", "string", "string"], "vector", -1),
  sig("label_replace", ["vector", "string", "string", "string", "string"], "vector"),
  sig("pi", [], "scalar"),
  sig("time", [], "scalar"),
  sig("scalar", ["vector"], "scalar"),
  sig("vector", ["scalar"], "vector"),
  sig("predict_linear", ["matrix", "scalar"], "vector"),
  sig("quantile_over_time", ["scalar", "matrix"], "vector"),
  sig("sort_by_label", ["vector", "string"], "vector", -1),
  sig("sort_by_label_desc", ["vector", "string"], "vector", -1),
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(all.map((f) => [f.name, f]));

/** Functions that work only on native histograms; the engine reports them as unsupported. */
export const NATIVE_HISTOGRAM_FUNCTIONS: ReadonlySet<string> = new Set([
  "histogram_count",
  "histogram_sum",
  "histogram_avg",
  "histogram_stddev",
  "histogram_stdvar",
  "histogram_quantiles",
  "info",
]);

/** Functions whose result depends on the evaluation time even when their arguments do not. */
export const AT_MODIFIER_UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  ...dateFunctions,
  "predict_linear",
  "time",
  "timestamp",
]);
