import { type Expr, parseExpr } from "../promql/index.js";

/** Sloth's placeholder for the rate window in SLI queries; Nines evaluates them over 1-minute buckets. */
export const WINDOW_PLACEHOLDER = /\{\{\s*\.window\s*\}\}/g;

/** The query with its window placeholder filled in. */
export function withWindow(query: string, window: string): string {
  return query.replace(WINDOW_PLACEHOLDER, window);
}

/** Parses an SLI query as Nines will run it; throws the PromQL parser's "line:col: …" error. */
export function parseSliQuery(query: string): Expr {
  return parseExpr(withWindow(query, "1m"));
}

/**
 * Which labels a query's result keeps, as far as its outermost aggregation says: a set for `by (…)`, the
 * empty set for an aggregation without grouping, "all-but" for `without (…)`, and "unknown" where the input
 * labels pass through (a selector or function at the top).
 */
export type OutputLabels =
  | { readonly kind: "set"; readonly labels: readonly string[] }
  | { readonly kind: "all-but"; readonly labels: readonly string[] }
  | { readonly kind: "unknown" };

export function outputLabels(expr: Expr): OutputLabels {
  switch (expr.kind) {
    case "Paren":
    case "Unary":
      return outputLabels(expr.expr);
    case "Aggregate":
      if (["topk", "bottomk", "limitk", "limit_ratio"].includes(expr.op)) return outputLabels(expr.expr);
      if (expr.op === "count_values") return { kind: "unknown" };
      return expr.without
        ? { kind: "all-but", labels: expr.grouping }
        : { kind: "set", labels: expr.grouping };
    case "Binary": {
      // The result carries the labels of the vector side (the left one when both are vectors).
      const left = outputLabels(expr.lhs);
      const leftScalar = expr.lhs.kind === "NumberLiteral";
      return leftScalar ? outputLabels(expr.rhs) : left;
    }
    case "NumberLiteral":
      return { kind: "set", labels: [] };
    default:
      return { kind: "unknown" };
  }
}

/**
 * What is wrong with an SLI query's grouping, or null: with `groupBy`, every label must survive the query;
 * without it, the query must come down to one series.
 */
export function groupingProblem(expr: Expr, groupBy: readonly string[]): string | null {
  const out = outputLabels(expr);
  if (groupBy.length === 0) {
    if (out.kind === "set" && out.labels.length === 0) return null;
    if (out.kind === "set") {
      return `the query returns one series per ${out.labels.join(", ")}; aggregate it to one series (e.g. sum(...)) or set groupBy: [${out.labels.join(", ")}]`;
    }
    return "the query can return more than one series; aggregate it to one series (e.g. sum(rate(...))) or set groupBy";
  }
  for (const label of groupBy) {
    if (out.kind === "set" && !out.labels.includes(label)) {
      return `groupBy label "${label}" is not kept by the query, which aggregates by (${out.labels.join(", ")}); add ${label} to by (...)`;
    }
    if (out.kind === "all-but" && out.labels.includes(label)) {
      return `groupBy label "${label}" is removed by the query's without (${out.labels.join(", ")})`;
    }
  }
  return null;
}

/** The parts of an SLO spec the SLI queries come from. */
export interface SliQuerySource {
  readonly groupBy: readonly string[];
  readonly sli?:
    | {
        readonly ratio?:
          | { readonly good?: string; readonly bad?: string; readonly total: string }
          | undefined;
        readonly latency?:
          | {
              readonly histogram?:
                | { readonly metric: string; readonly le: string; readonly selector: string }
                | undefined;
            }
          | undefined;
      }
    | undefined;
}

/**
 * The two queries of a PromQL SLI, as rates over [{{.window}}]: good (or bad) events and all events. A
 * latency histogram SLI counts the requests in its `le` bucket as good. Null for SLIs that are not PromQL.
 */
export function sliQueries(
  spec: SliQuerySource,
): { first: string; total: string; firstIsBad: boolean } | null {
  const ratio = spec.sli?.ratio;
  if (ratio) {
    const bad = ratio.bad !== undefined;
    return { first: (bad ? ratio.bad : ratio.good) ?? "", total: ratio.total, firstIsBad: bad };
  }
  const h = spec.sli?.latency?.histogram;
  if (h) {
    const by = spec.groupBy.length > 0 ? ` by (${spec.groupBy.join(", ")})` : "";
    const sel = h.selector.trim();
    const inner = sel.startsWith("{") ? sel.slice(1, -1).trim() : sel;
    const withLe = inner === "" ? `{le="${h.le}"}` : `{${inner}, le="${h.le}"}`;
    return {
      first: `sum${by} (rate(${h.metric}_bucket${withLe}[{{.window}}]))`,
      total: `sum${by} (rate(${h.metric}_count${sel}[{{.window}}]))`,
      firstIsBad: false,
    };
  }
  return null;
}
