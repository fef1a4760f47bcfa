import { type Labels, labelsKey, METRIC_NAME, formatLabels } from "../labels.js";
import type { ArithmeticOp, BinaryOp, ComparisonOp, VectorMatching } from "../parse/ast.js";
import { isComparisonOp } from "../parse/ast.js";
import { goPow } from "./float-math.js";
import type { Sample, StepSeries } from "./types.js";

const ARITHMETIC: Readonly<Record<ArithmeticOp, (a: number, b: number) => number>> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
  "^": goPow,
  atan2: Math.atan2,
};

const COMPARISON: Readonly<Record<ComparisonOp, (a: number, b: number) => boolean>> = {
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  ">": (a, b) => a > b,
  "<": (a, b) => a < b,
  ">=": (a, b) => a >= b,
  "<=": (a, b) => a <= b,
};

/** Applies an arithmetic or comparison operator; `keep` is false when a comparison filters the sample out. */
export function applyOp(op: BinaryOp, a: number, b: number): { value: number; keep: boolean } {
  if (isComparisonOp(op)) return { value: a, keep: COMPARISON[op](a, b) };
  const fn = ARITHMETIC[op as ArithmeticOp];
  return { value: fn(a, b), keep: true };
}

export function isArithmetic(op: BinaryOp): boolean {
  return op in ARITHMETIC;
}

export function scalarBinop(op: BinaryOp, a: number, b: number): number {
  const { value, keep } = applyOp(op, a, b);
  return isComparisonOp(op) ? (keep ? 1 : 0) : value;
}

/** Vector ⊕ scalar (or scalar ⊕ vector when `swap`). */
export function vectorScalarBinop(
  op: BinaryOp,
  vec: readonly Sample[],
  scalar: number,
  swap: boolean,
  returnBool: boolean,
): Sample[] {
  const out: Sample[] = [];
  for (const s of vec) {
    const [a, b] = swap ? [scalar, s.f] : [s.f, scalar];
    let { value, keep } = applyOp(op, a, b);
    if (isComparisonOp(op) && swap) value = b;
    if (returnBool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push({ labels: s.labels, f: value, dropName: s.dropName || isArithmetic(op) || returnBool });
  }
  return out;
}

/**
 * Vector ⊕ scalar over a whole range query, series by series, as `vectorScalarBinop` at every step: each
 * input series gives at most one output series. Returns undefined when two input series share their labels
 * (they could collide once the name is dropped); the step-wise path then reports that as Prometheus does.
 */
export function vectorScalarSeries(
  op: BinaryOp,
  input: readonly StepSeries[],
  scalar: Float64Array,
  swap: boolean,
  returnBool: boolean,
): StepSeries[] | undefined {
  const keys = new Set<string>();
  for (const s of input) keys.add(labelsKey(s.labels));
  if (keys.size !== input.length) return undefined;
  const comparison = isComparisonOp(op);
  const compare = comparison ? COMPARISON[op as ComparisonOp] : undefined;
  const arithmetic = comparison ? undefined : ARITHMETIC[op as ArithmeticOp];
  const dropName = isArithmetic(op) || returnBool;
  const out: StepSeries[] = [];
  for (const s of input) {
    const n = s.values.length;
    let values: Float64Array | undefined;
    let present: Uint8Array | undefined;
    for (let i = 0; i < n; i++) {
      if (s.present[i] !== 1) continue;
      const f = s.values[i] as number;
      const x = scalar[i] as number;
      const a = swap ? x : f;
      const b = swap ? f : x;
      let value: number;
      if (compare !== undefined) {
        const keep = compare(a, b);
        if (returnBool) value = keep ? 1 : 0;
        else if (!keep) continue;
        else value = f;
      } else value = (arithmetic as (a: number, b: number) => number)(a, b);
      values ??= new Float64Array(n);
      present ??= new Uint8Array(n);
      values[i] = value;
      present[i] = 1;
    }
    if (values === undefined || present === undefined) continue;
    out.push({ labels: s.labels, dropName: s.dropName || dropName, values, present });
  }
  return out;
}

/** The matching signature of a series: the `on` labels, or all but the `ignoring` labels and the name. */
export function signatureFn(matching: VectorMatching): (labels: Labels) => string {
  if (matching.on) {
    const names = matching.labels;
    return (labels) => labelsKey(labels.filter((l) => names.includes(l.name)));
  }
  const names = [METRIC_NAME, ...matching.labels];
  return (labels) => labelsKey(labels.filter((l) => !names.includes(l.name)));
}

export function setBinop(
  op: "and" | "or" | "unless",
  lhs: readonly Sample[],
  rhs: readonly Sample[],
  matching: VectorMatching,
): Sample[] {
  const sig = signatureFn(matching);
  switch (op) {
    case "and": {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set(rhs.map((s) => sig(s.labels)));
      return lhs.filter((s) => right.has(sig(s.labels)));
    }
    case "or": {
      const left = new Set(lhs.map((s) => sig(s.labels)));
      return [...lhs, ...rhs.filter((s) => !left.has(sig(s.labels)))];
    }
    case "unless": {
      if (rhs.length === 0) return [...lhs];
      const right = new Set(rhs.map((s) => sig(s.labels)));
      return lhs.filter((s) => !right.has(sig(s.labels)));
    }
  }
}

function resultLabels(lhs: Labels, rhs: Labels, matching: VectorMatching): Labels {
  let out = [...lhs];
  if (matching.card === "one-to-one") {
    out = matching.on
      ? out.filter((l) => matching.labels.includes(l.name))
      : out.filter((l) => !matching.labels.includes(l.name));
  }
  for (const name of matching.include) {
    out = out.filter((l) => l.name !== name);
    const v = rhs.find((l) => l.name === name);
    if (v !== undefined && v.value !== "") out.push(v);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Vector ⊕ vector with one-to-one, many-to-one or one-to-many matching. */
export function vectorBinop(
  op: BinaryOp,
  lhsIn: readonly Sample[],
  rhsIn: readonly Sample[],
  matching: VectorMatching,
  returnBool: boolean,
  fail: (message: string) => never,
): Sample[] {
  if (lhsIn.length === 0 || rhsIn.length === 0) return [];
  const swapped = matching.card === "one-to-many";
  const [lhs, rhs] = swapped ? [rhsIn, lhsIn] : [lhsIn, rhsIn];
  const sig = signatureFn(matching);
  const right = new Map<string, Sample>();
  for (const rs of rhs) {
    const key = sig(rs.labels);
    const dup = right.get(key);
    if (dup !== undefined) {
      const matched = matching.on
        ? rs.labels.filter((l) => matching.labels.includes(l.name))
        : rs.labels.filter((l) => !matching.labels.includes(l.name) && l.name !== METRIC_NAME);
      fail(
        `found duplicate series for the match group ${formatMatch(matched)} on the ${swapped ? "left" : "right"} hand-side of the operation: [${formatLabels(rs.labels)}, ${formatLabels(dup.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(key, rs);
  }
  const matched = new Map<string, Set<string> | null>();
  const out: Sample[] = [];
  for (const ls of lhs) {
    const key = sig(ls.labels);
    const rs = right.get(key);
    if (rs === undefined) continue;
    const [a, b] = swapped ? [rs.f, ls.f] : [ls.f, rs.f];
    let { value, keep } = applyOp(op, a, b);
    if (returnBool) {
      value = keep ? 1 : 0;
    } else if (!keep) continue;
    const labels = resultLabels(ls.labels, rs.labels, matching);
    const seen = matched.get(key);
    if (matching.card === "one-to-one") {
      if (seen !== undefined) {
        fail("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
      }
      matched.set(key, null);
    } else {
      const insertKey = labelsKey(labels);
      let set = seen ?? undefined;
      if (set === undefined) {
        set = new Set();
        matched.set(key, set);
      } else if (set.has(insertKey)) {
        fail(`multiple matches for matching labels in grouping: ${formatMatch(labels)}`);
      }
      set.add(insertKey);
    }
    out.push({ labels, f: value, dropName: ls.dropName || isArithmetic(op) || returnBool });
  }
  return out;
}

function formatMatch(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ")}}`;
}
