/**
 * The typed PromQL syntax tree. Every node carries its source range so that errors found after parsing
 * (type checks, evaluation) can still point at the offending text.
 */

export type ValueType = "scalar" | "vector" | "matrix" | "string";

export interface PosRange {
  readonly start: number;
  readonly end: number;
}

export type MatchOp = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
}

/** `@ <timestamp>`, `@ start()` or `@ end()`; the timestamp is in milliseconds. */
export type AtModifier =
  | { readonly kind: "timestamp"; readonly ms: number }
  | { readonly kind: "start" }
  | { readonly kind: "end" };

export interface NumberLiteral {
  readonly kind: "NumberLiteral";
  readonly value: number;
  readonly pos: PosRange;
}

export interface StringLiteral {
  readonly kind: "StringLiteral";
  readonly value: string;
  readonly pos: PosRange;
}

export interface VectorSelector {
  readonly kind: "VectorSelector";
  readonly name: string | undefined;
  readonly matchers: readonly LabelMatcher[];
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
  readonly pos: PosRange;
}

export interface MatrixSelector {
  readonly kind: "MatrixSelector";
  readonly selector: VectorSelector;
  readonly rangeMs: number;
  readonly pos: PosRange;
}

export interface Subquery {
  readonly kind: "Subquery";
  readonly expr: Expr;
  readonly rangeMs: number;
  /** 0 means "use the default evaluation interval". */
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier | undefined;
  readonly pos: PosRange;
}

export interface Call {
  readonly kind: "Call";
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}

export type AggregateOp =
  | "sum"
  | "avg"
  | "min"
  | "max"
  | "count"
  | "group"
  | "stddev"
  | "stdvar"
  | "topk"
  | "bottomk"
  | "quantile"
  | "count_values"
  | "limitk"
  | "limit_ratio";

export interface Aggregate {
  readonly kind: "Aggregate";
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | undefined;
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly pos: PosRange;
}

export type ArithmeticOp = "+" | "-" | "*" | "/" | "%" | "^" | "atan2";
export type ComparisonOp = "==" | "!=" | ">" | "<" | ">=" | "<=";
export type SetOp = "and" | "or" | "unless";
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export interface VectorMatching {
  /** "one-to-one", "many-to-one" (group_left), "one-to-many" (group_right), "many-to-many" (set operators). */
  readonly card: "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";
  /** true for `on(...)`, false for `ignoring(...)` or no clause. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** Labels listed in group_left(...)/group_right(...), copied from the "one" side. */
  readonly include: readonly string[];
}

export interface Binary {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** Present when both sides are instant vectors. */
  readonly matching: VectorMatching | undefined;
  readonly pos: PosRange;
}

export interface Unary {
  readonly kind: "Unary";
  readonly op: "-" | "+";
  readonly expr: Expr;
  readonly pos: PosRange;
}

export interface Paren {
  readonly kind: "Paren";
  readonly expr: Expr;
  readonly pos: PosRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | Subquery
  | Call
  | Aggregate
  | Binary
  | Unary
  | Paren;

export type ExprKind = Expr["kind"];

export const COMPARISON_OPS: ReadonlySet<string> = new Set(["==", "!=", ">", "<", ">=", "<="]);
export const SET_OPS: ReadonlySet<string> = new Set(["and", "or", "unless"]);

export function isComparisonOp(op: BinaryOp): op is ComparisonOp {
  return COMPARISON_OPS.has(op);
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return SET_OPS.has(op);
}
