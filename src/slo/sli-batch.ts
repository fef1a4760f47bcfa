import { type Expr, formatPromDuration, type LabelMatcher } from "../promql/index.js";
import { formatPlainMatchers } from "./sli-data-reads.js";

/** Functions of one range vector whose answer for a series depends on that series alone. */
const PER_SERIES_FUNCTIONS: ReadonlySet<string> = new Set([
  "rate",
  "increase",
  "irate",
  "delta",
  "idelta",
  "resets",
  "changes",
  "sum_over_time",
  "count_over_time",
  "avg_over_time",
  "min_over_time",
  "max_over_time",
  "last_over_time",
]);

/**
 * One query for many SLIs of the same shape, `sum(f(m{label="value", …}[r]))` for several values:
 * `sum by (label) (f(m{…}[r]))`, whose group `label="value"` holds the same series, summed in the same order,
 * as the query that names the value.
 */
export interface SliBatch {
  readonly query: string;
  readonly label: string;
  /** The batch's selector without `label`, to ask the backend which values of `label` it holds. */
  readonly matchers: readonly LabelMatcher[];
  /** The member queries' texts by the value of `label` they select. */
  readonly members: ReadonlyMap<string, readonly string[]>;
}

interface Candidate {
  /** Equal for queries that differ only in the value of `label`. */
  readonly key: string;
  readonly label: string;
  readonly value: string;
  readonly query: string;
  readonly matchers: readonly LabelMatcher[];
}

/**
 * Groups queries (text → parsed) that differ only in the value one equality matcher selects, where a group has
 * at least `minMembers` queries. Each query joins the group of its most common shape; queries of any other
 * form (grouped by labels, `@`, a negative offset, functions with more arguments) join none.
 */
export function sliBatches(queries: ReadonlyMap<string, Expr>, minMembers: number): SliBatch[] {
  const candidates = new Map<string, Candidate[]>();
  const popularity = new Map<string, number>();
  for (const [text, expr] of queries) {
    const found = batchCandidates(expr);
    candidates.set(text, found);
    for (const c of found) popularity.set(c.key, (popularity.get(c.key) ?? 0) + 1);
  }
  const groups = new Map<string, { candidate: Candidate; members: Map<string, string[]> }>();
  for (const [text, found] of candidates) {
    let best: Candidate | undefined;
    for (const c of found) {
      if (best === undefined || (popularity.get(c.key) ?? 0) > (popularity.get(best.key) ?? 0)) best = c;
    }
    if (best === undefined || (popularity.get(best.key) ?? 0) < minMembers) continue;
    const group = groups.get(best.key) ?? { candidate: best, members: new Map<string, string[]>() };
    groups.set(best.key, group);
    const same = group.members.get(best.value);
    if (same) same.push(text);
    else group.members.set(best.value, [text]);
  }
  const out: SliBatch[] = [];
  for (const { candidate, members } of groups.values()) {
    let count = 0;
    for (const texts of members.values()) count += texts.length;
    if (count < minMembers) continue;
    out.push({ query: candidate.query, label: candidate.label, matchers: candidate.matchers, members });
  }
  return out;
}

/** The shapes a query could be batched under: one per equality matcher that picks a non-empty value. */
function batchCandidates(expr: Expr): Candidate[] {
  const sum = unwrap(expr);
  if (sum.kind !== "Aggregate" || sum.op !== "sum" || sum.without || sum.grouping.length > 0) return [];
  const call = unwrap(sum.expr);
  if (call.kind !== "Call" || !PER_SERIES_FUNCTIONS.has(call.func) || call.args.length !== 1) return [];
  const range = call.args[0] === undefined ? undefined : unwrap(call.args[0]);
  if (range?.kind !== "MatrixSelector") return [];
  const { selector, rangeMs } = range;
  if (selector.at !== undefined || selector.offsetMs < 0) return [];
  const out: Candidate[] = [];
  selector.matchers.forEach((m, i) => {
    if (m.op !== "=" || m.name === "__name__" || m.value === "") return;
    const others = selector.matchers.filter((_, j) => j !== i);
    // A selector needs a matcher that does not match everything: the metric name, in SLI queries.
    if (!others.some((o) => o.name === "__name__" && o.op === "=")) return;
    const sorted = [...others].sort(compareMatchers);
    const text = formatPlainMatchers(sorted);
    if (text === null || formatPlainMatchers([m]) === null) return;
    const offset = selector.offsetMs > 0 ? ` offset ${formatPromDuration(selector.offsetMs)}` : "";
    const inner = `${call.func}({${text}}[${formatPromDuration(rangeMs)}]${offset})`;
    out.push({
      key: `${m.name}\u0000${inner}`,
      label: m.name,
      value: m.value,
      query: `sum by (${m.name}) (${inner})`,
      matchers: sorted,
    });
  });
  return out;
}

function unwrap(expr: Expr): Expr {
  return expr.kind === "Paren" ? unwrap(expr.expr) : expr;
}

function compareMatchers(a: LabelMatcher, b: LabelMatcher): number {
  const ka = `${a.name}\u0000${a.op}\u0000${a.value}`;
  const kb = `${b.name}\u0000${b.op}\u0000${b.value}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
