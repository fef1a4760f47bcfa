import { CLASSIC_LABEL_NAME, type Expr, formatMatchers, type LabelMatcher, typeOf } from "../promql/index.js";

/** The samples a query reads for the step at t: those of `matchers` in (t - offsetMs - rangeMs, t - offsetMs]. */
export interface DataRead {
  readonly matchers: readonly LabelMatcher[];
  readonly rangeMs: number;
  readonly offsetMs: number;
}

/** Functions that can return a sample whatever their input holds. */
const ANSWER_WITHOUT_INPUT: ReadonlySet<string> = new Set([
  "absent",
  "absent_over_time",
  "pi",
  "scalar",
  "time",
  "vector",
]);

/**
 * The reads without whose samples a query has no result at a step: where none of them has data, the step can
 * be skipped. Null when the query may answer without data (`vector(0)`, `absent(…)`, a scalar) or reads in a
 * way this does not follow (an instant selector, whose look-back the backend sets; a subquery; `@`).
 */
export function sliDataReads(expr: Expr): DataRead[] | null {
  switch (expr.kind) {
    case "MatrixSelector": {
      const { selector } = expr;
      if (selector.at !== undefined) return null;
      return [{ matchers: selector.matchers, rangeMs: expr.rangeMs, offsetMs: selector.offsetMs }];
    }
    case "Paren":
    case "Unary":
    case "Aggregate":
      return sliDataReads(expr.expr);
    case "Call": {
      if (ANSWER_WITHOUT_INPUT.has(expr.func)) return null;
      // Every other function returns a sample per sample of its one vector (or range vector) argument.
      const input = expr.args.find((arg) => typeOf(arg) === "vector" || typeOf(arg) === "matrix");
      return input === undefined ? null : sliDataReads(input);
    }
    case "Binary": {
      const lhs = typeOf(expr.lhs) === "scalar" ? null : sliDataReads(expr.lhs);
      const rhs = typeOf(expr.rhs) === "scalar" ? null : sliDataReads(expr.rhs);
      if (expr.op === "or") return lhs !== null && rhs !== null ? [...lhs, ...rhs] : null;
      if (expr.op === "unless") return lhs;
      // Any other operator answers only where each vector side has a sample: one side's silence is enough.
      return lhs ?? rhs;
    }
    default:
      return null;
  }
}

/**
 * A query whose answer at t counts the read's samples in (t - blockMs, t] (in [t - blockMs, t] before
 * Prometheus 3), offset ignored; null for label names it would have to quote.
 */
export function presenceQuery(read: DataRead, blockMs: number): string | null {
  if (!Number.isInteger(blockMs / 1000) || blockMs <= 0) return null;
  const matchers = formatPlainMatchers(read.matchers);
  return matchers === null ? null : `sum(count_over_time({${matchers}}[${blockMs / 1000}s]))`;
}

/** Matchers as PromQL writes them between braces; null for label names it would have to quote. */
export function formatPlainMatchers(matchers: readonly LabelMatcher[]): string | null {
  return matchers.every((m) => CLASSIC_LABEL_NAME.test(m.name)) ? formatMatchers(matchers) : null;
}
