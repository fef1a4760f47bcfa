import type { SyntaxNode } from "@lezer/common";
import { parser } from "@prometheus-io/lezer-promql";
import { parseError, type PromqlError } from "../promql-error.js";
import type {
  AggregateOp,
  AtModifier,
  BinaryOp,
  Expr,
  LabelMatcher,
  MatchOp,
  PosRange,
  VectorMatching,
  VectorSelector,
} from "./ast.js";
import { checkExpr } from "./check-types.js";
import { FUNCTIONS, NATIVE_HISTOGRAM_FUNCTIONS } from "./functions.js";
import { parseDurationOrSeconds, parseNumber, unquoteString } from "./literals.js";

/**
 * Parses a PromQL expression with the Prometheus project's lezer grammar into the typed AST and runs
 * Prometheus's static checks. Throws a `PromqlError` of type `bad_data` whose message carries the position.
 *
 * @example parseExpr('sum by (job) (rate(http_requests_total[5m]))')
 */
export function parseExpr(input: string): Expr {
  const tree = parser.parse(blankTrailingDots(input));
  const top = tree.topNode;
  reportSyntaxErrors(input, top);
  const child = exprChildren(top)[0];
  if (child === undefined) throw parseError(input, { start: 0, end: 0 }, "no expression found in input");
  const expr = new Converter(input).expr(child);
  checkExpr(input, expr);
  return expr;
}

/**
 * Go accepts `2.` as a number; the lezer grammar wants a digit after the dot. Blanking such a dot keeps
 * every position in the query unchanged.
 */
function blankTrailingDots(input: string): string {
  let out = "";
  let quote: string | undefined;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string;
    if (quote !== undefined) {
      if (ch === "\\" && quote !== "`") {
        out += ch + (input[i + 1] ?? "");
        i++;
        continue;
      }
      if (ch === quote) quote = undefined;
      out += ch;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === "`") quote = ch;
    const endsNumber =
      ch === "." && !/[\w.]/.test(input[i + 1] ?? "") && /(^|[^\w.])\d+$/.test(input.slice(0, i));
    out += endsNumber ? " " : ch;
  }
  return out;
}

const BINARY_OPS: Readonly<Record<string, BinaryOp>> = {
  Pow: "^",
  Mul: "*",
  Div: "/",
  Mod: "%",
  Atan2: "atan2",
  Add: "+",
  Sub: "-",
  Eql: "==",
  Gte: ">=",
  Gtr: ">",
  Lte: "<=",
  Lss: "<",
  Neq: "!=",
  And: "and",
  Unless: "unless",
  Or: "or",
};

const MATCH_OPS: Readonly<Record<string, MatchOp>> = {
  EqlSingle: "=",
  Neq: "!=",
  EqlRegex: "=~",
  NeqRegex: "!~",
};

function exprChildren(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) if (c.type.is("Expr")) out.push(c);
  return out;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c !== null; c = c.nextSibling) out.push(c);
  return out;
}

function reportSyntaxErrors(input: string, top: SyntaxNode): void {
  let first: SyntaxNode | undefined;
  const cursor = top.cursor();
  do {
    if (cursor.type.isError && (first === undefined || cursor.from < first.from)) first = cursor.node;
  } while (cursor.next());
  if (first === undefined) return;
  const pos = { start: first.from, end: first.to };
  const before = input.slice(0, first.from);
  const unknownFn = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before);
  if (input[first.from] === "(" && unknownFn?.[1] !== undefined) {
    const name = unknownFn[1];
    const start = first.from - unknownFn[0].length;
    throw parseError(input, { start, end: first.from }, unknownFunctionMessage(name));
  }
  if (first.from >= input.trimEnd().length) throw parseError(input, pos, "unexpected end of input");
  const text = input.slice(first.from, Math.max(first.to, first.from + 1)).trim();
  throw parseError(input, pos, `unexpected ${JSON.stringify(text)}`);
}

function unknownFunctionMessage(name: string): string {
  if (NATIVE_HISTOGRAM_FUNCTIONS.has(name))
    return `function "${name}" is not supported: Nines has no native histograms`;
  return `unknown function with name "${name}"`;
}

class Converter {
  constructor(private readonly input: string) {}

  private text(node: SyntaxNode): string {
    return this.input.slice(node.from, node.to);
  }

  private fail(node: SyntaxNode | PosRange, message: string): PromqlError {
    const pos = "start" in node ? node : { start: node.from, end: node.to };
    return parseError(this.input, pos, message);
  }

  private pos(node: SyntaxNode): PosRange {
    return { start: node.from, end: node.to };
  }

  expr(node: SyntaxNode): Expr {
    const handler = this.handlers[node.name];
    if (handler === undefined) throw this.fail(node, `unexpected ${node.name}`);
    return handler(node);
  }

  private onlyExpr(node: SyntaxNode): Expr {
    const inner = exprChildren(node)[0];
    if (inner === undefined) throw this.fail(node, "missing expression");
    return this.expr(inner);
  }

  private readonly handlers: Readonly<Record<string, (node: SyntaxNode) => Expr>> = {
    NumberDurationLiteral: (node) => {
      const value = parseNumber(this.text(node).replace(/\s+/g, ""));
      if (value === undefined) throw this.fail(node, `bad number or duration syntax: "${this.text(node)}"`);
      return { kind: "NumberLiteral", value, pos: this.pos(node) };
    },
    StringLiteral: (node) => ({ kind: "StringLiteral", value: this.string(node), pos: this.pos(node) }),
    ParenExpr: (node) => ({ kind: "Paren", expr: this.onlyExpr(node), pos: this.pos(node) }),
    UnaryExpr: (node) => {
      const op = node.getChild("UnaryOp");
      const inner = this.onlyExpr(node);
      const sign = op !== null && this.text(op) === "-" ? "-" : "+";
      if (inner.kind === "NumberLiteral") {
        return {
          kind: "NumberLiteral",
          value: sign === "-" ? -inner.value : inner.value,
          pos: this.pos(node),
        };
      }
      return { kind: "Unary", op: sign, expr: inner, pos: this.pos(node) };
    },
    VectorSelector: (node) => this.vectorSelector(node),
    MatrixSelector: (node) => {
      const durNode = node.getChild("DurationExpr");
      if (durNode === null) throw this.fail(node, "missing range duration");
      const rangeMs = this.duration(durNode);
      return this.postfix(this.onlyExpr(node), node, (inner) => {
        if (inner.kind === "VectorSelector" && (inner.offsetMs !== 0 || inner.at !== undefined)) {
          throw this.fail(node, "no offset or @ modifiers allowed before range");
        }
        if (inner.kind !== "VectorSelector")
          throw this.fail(node, "ranges only allowed for vector selectors");
        if (rangeMs <= 0) {
          throw this.fail(durNode, `range selector duration must be positive, got ${this.text(durNode)}`);
        }
        return {
          kind: "MatrixSelector",
          selector: inner,
          rangeMs,
          pos: { start: inner.pos.start, end: node.to },
        };
      });
    },
    SubqueryExpr: (node) => {
      const durs = node.getChildren("DurationExpr");
      const first = durs[0];
      if (first === undefined) throw this.fail(node, "missing subquery range");
      const rangeMs = this.duration(first);
      const stepMs = durs[1] === undefined ? 0 : this.duration(durs[1]);
      if (rangeMs <= 0) throw this.fail(first, "subquery range must be positive");
      if (durs[1] !== undefined && stepMs <= 0) throw this.fail(durs[1], "subquery step must be positive");
      return this.postfix(this.onlyExpr(node), node, (inner) => ({
        kind: "Subquery",
        expr: inner,
        rangeMs,
        stepMs,
        offsetMs: 0,
        at: undefined,
        pos: { start: inner.pos.start, end: node.to },
      }));
    },
    OffsetExpr: (node) => {
      const inner = this.onlyExpr(node);
      const durNode = node.getChild("OffsetDurationExpr");
      if (durNode === null) throw this.fail(node, "missing offset duration");
      const offsetMs = this.duration(durNode);
      return this.postfix(inner, node, (target) =>
        this.withModifier(node, target, (target) => {
          if (target.offsetMs !== 0) throw this.fail(node, "offset may not be set multiple times");
          return { offsetMs };
        }),
      );
    },
    StepInvariantExpr: (node) => {
      const inner = this.onlyExpr(node);
      let at: AtModifier;
      const pre = node.getChild("AtModifierPreprocessors");
      const num = node.getChild("NumberDurationLiteral");
      if (pre !== null) at = { kind: pre.getChild("AtStart") !== null ? "start" : "end" };
      else if (num !== null) {
        const seconds = parseNumber(this.text(num).replace(/\s+/g, ""));
        if (seconds === undefined || !Number.isFinite(seconds) || Math.abs(seconds * 1000) > 9.2e18) {
          throw this.fail(num, "timestamp out of bounds for @ modifier");
        }
        at = { kind: "timestamp", ms: Math.round(seconds * 1000) };
      } else throw this.fail(node, "missing @ timestamp");
      return this.postfix(inner, node, (t) =>
        this.withModifier(node, t, (target) => {
          if (target.at !== undefined) throw this.fail(node, "@ <timestamp> may not be set multiple times");
          return { at };
        }),
      );
    },
    FunctionCall: (node) => {
      const ident = node.getChild("FunctionIdentifier");
      const body = node.getChild("FunctionCallBody");
      if (ident === null || body === null) throw this.fail(node, "malformed function call");
      const name = this.text(ident);
      if (!FUNCTIONS.has(name)) throw this.fail(ident, unknownFunctionMessage(name));
      const args = exprChildren(body).map((c) => this.expr(c));
      return { kind: "Call", func: name, args, pos: this.pos(node) };
    },
    AggregateExpr: (node) => {
      const opNode = node.getChild("AggregateOp");
      const body = node.getChild("FunctionCallBody");
      if (opNode === null || body === null) throw this.fail(node, "malformed aggregation");
      const op = this.text(opNode).toLowerCase() as AggregateOp;
      const modifier = node.getChild("AggregateModifier");
      const grouping = modifier === null ? [] : this.groupingLabels(modifier.getChild("GroupingLabels"));
      const without = modifier?.getChild("Without") != null;
      const args = exprChildren(body).map((c) => this.expr(c));
      const needsParam =
        op === "topk" ||
        op === "bottomk" ||
        op === "quantile" ||
        op === "count_values" ||
        op === "limitk" ||
        op === "limit_ratio";
      const expected = needsParam ? 2 : 1;
      if (args.length !== expected) {
        throw this.fail(
          node,
          `wrong number of arguments for aggregate expression provided, expected ${expected}, got ${args.length}`,
        );
      }
      const expr = needsParam ? args[1] : args[0];
      if (expr === undefined) throw this.fail(node, "missing aggregation argument");
      return {
        kind: "Aggregate",
        op,
        expr,
        param: needsParam ? args[0] : undefined,
        grouping,
        without,
        pos: this.pos(node),
      };
    },
    BinaryExpr: (node) => this.binary(node),
    AnchoredExpr: (node) => {
      throw this.fail(node, "the anchored modifier is not supported");
    },
    SmoothedExpr: (node) => {
      throw this.fail(node, "the smoothed modifier is not supported");
    },
  };

  private binary(node: SyntaxNode): Expr {
    const [lhsNode, rhsNode] = exprChildren(node);
    if (lhsNode === undefined || rhsNode === undefined) throw this.fail(node, "malformed binary expression");
    let opName: string | undefined;
    let opNode: SyntaxNode | undefined;
    for (const c of children(node)) {
      if (BINARY_OPS[c.name] !== undefined && c.from >= lhsNode.to && c.to <= rhsNode.from) {
        opName = c.name;
        opNode = c;
        break;
      }
    }
    if (node.getChild("FillModifier") !== null) throw this.fail(node, "fill modifiers are not supported");
    if (opName === undefined || opNode === undefined) {
      throw this.fail(node, `binary expression does not support this operator`);
    }
    const op = BINARY_OPS[opName] as BinaryOp;
    const lhs = this.expr(lhsNode);
    const rhs = this.expr(rhsNode);
    const returnBool = node.getChild("BoolModifier") !== null;
    const clause = node.getChild("MatchingModifierClause");
    let matching: VectorMatching | undefined;
    if (clause !== null) {
      const groups = clause.getChildren("GroupingLabels");
      const on = clause.getChild("On") !== null;
      const left = clause.getChild("GroupLeft") !== null;
      const right = clause.getChild("GroupRight") !== null;
      matching = {
        card: left ? "many-to-one" : right ? "one-to-many" : "one-to-one",
        on,
        labels: this.groupingLabels(groups[0] ?? null),
        include: this.groupingLabels(groups[1] ?? null),
      };
    } else {
      matching = { card: "one-to-one", on: false, labels: [], include: [] };
    }
    // The grammar reads `-2 ^ 2` as `(-2) ^ 2`; PromQL binds the sign looser than `^`.
    if (op === "^" && lhs.kind === "NumberLiteral" && /^\s*-/.test(this.text(lhsNode))) {
      const abs: Expr = { kind: "NumberLiteral", value: -lhs.value, pos: lhs.pos };
      const pow: Expr = { kind: "Binary", op, lhs: abs, rhs, returnBool, matching, pos: this.pos(node) };
      return { kind: "Unary", op: "-", expr: pow, pos: this.pos(node) };
    }
    return { kind: "Binary", op, lhs, rhs, returnBool, matching, pos: this.pos(node) };
  }

  /**
   * The grammar attaches postfix forms (`[5m]`, `[5m:1m]`, `offset`, `@`) to a whole binary or unary
   * expression; PromQL binds them to the rightmost operand, so push them down there.
   */
  private postfix(inner: Expr, node: SyntaxNode, apply: (target: Expr) => Expr): Expr {
    if (inner.kind === "Binary") {
      return {
        ...inner,
        rhs: this.postfix(inner.rhs, node, apply),
        pos: { start: inner.pos.start, end: node.to },
      };
    }
    if (inner.kind === "Unary") {
      return {
        ...inner,
        expr: this.postfix(inner.expr, node, apply),
        pos: { start: inner.pos.start, end: node.to },
      };
    }
    return apply(inner);
  }

  private withModifier(
    node: SyntaxNode,
    inner: Expr,
    apply: (target: {
      offsetMs: number;
      at: AtModifier | undefined;
    }) => Partial<{ offsetMs: number; at: AtModifier }>,
  ): Expr {
    const what = node.name === "OffsetExpr" ? "offset" : "@";
    switch (inner.kind) {
      case "VectorSelector":
        return { ...inner, ...apply(inner), pos: { start: inner.pos.start, end: node.to } };
      case "MatrixSelector":
        return {
          ...inner,
          selector: { ...inner.selector, ...apply(inner.selector) },
          pos: { start: inner.pos.start, end: node.to },
        };
      case "Subquery":
        return { ...inner, ...apply(inner), pos: { start: inner.pos.start, end: node.to } };
      default:
        throw this.fail(
          node,
          `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
        );
    }
  }

  private string(node: SyntaxNode): string {
    try {
      return unquoteString(this.text(node));
    } catch (err) {
      throw this.fail(node, err instanceof Error ? err.message : "invalid string literal");
    }
  }

  private groupingLabels(node: SyntaxNode | null): string[] {
    if (node === null) return [];
    const out: string[] = [];
    for (const c of children(node)) {
      if (c.name === "LabelName") out.push(this.text(c));
      else if (c.name === "QuotedLabelName") {
        const s = c.getChild("StringLiteral");
        if (s !== null) out.push(this.string(s));
      }
    }
    return out;
  }

  private vectorSelector(node: SyntaxNode): VectorSelector {
    const ident = node.getChild("Identifier");
    const matchersNode = node.getChild("LabelMatchers");
    const matchers: LabelMatcher[] = [];
    let name: string | undefined = ident === null ? undefined : this.text(ident);
    if (matchersNode !== null) {
      for (const c of children(matchersNode)) {
        if (c.name === "UnquotedLabelMatcher" || c.name === "QuotedLabelMatcher") {
          const nameNode = c.firstChild;
          const opNode = c.getChild("MatchOp")?.firstChild;
          const valueNode = c.getChild("StringLiteral");
          if (nameNode === null || opNode == null || valueNode === null)
            throw this.fail(c, "malformed label matcher");
          const labelName =
            nameNode.name === "QuotedLabelName"
              ? this.string(nameNode.getChild("StringLiteral") ?? nameNode)
              : this.text(nameNode);
          const op = MATCH_OPS[opNode.name];
          if (op === undefined) throw this.fail(opNode, "unknown label matching operator");
          matchers.push({ name: labelName, op, value: this.string(valueNode) });
        } else if (c.name === "QuotedLabelName") {
          const s = c.getChild("StringLiteral");
          const metric = s === null ? "" : this.string(s);
          if (name !== undefined) {
            throw this.fail(c, `metric name must not be set twice: "${name}" or "${metric}"`);
          }
          name = metric;
        }
      }
    }
    if (name !== undefined) {
      for (const m of matchers) {
        if (m.name === "__name__") {
          throw this.fail(node, `metric name must not be set twice: "${name}" or "${m.value}"`);
        }
      }
      matchers.unshift({ name: "__name__", op: "=", value: name });
    }
    return { kind: "VectorSelector", name, matchers, offsetMs: 0, at: undefined, pos: this.pos(node) };
  }

  /** Evaluates a duration expression (literal, parenthesised or arithmetic) to milliseconds. */
  private duration(node: SyntaxNode): number {
    const kids = children(node);
    if (node.name === "NumberDurationLiteralInDurationContext") {
      const ms = parseDurationOrSeconds(this.text(node));
      if (ms === undefined) throw this.fail(node, `bad duration syntax: "${this.text(node)}"`);
      return ms;
    }
    const unary = kids[0]?.name === "UnaryOp" ? kids[0] : undefined;
    if (unary !== undefined && kids[1] !== undefined) {
      const v = this.duration(kids[1]);
      return this.text(unary) === "-" ? -v : v;
    }
    if (kids.length === 3 && kids[1] !== undefined && BINARY_OPS[kids[1].name] !== undefined) {
      const [a, opNode, b] = kids;
      if (a === undefined || b === undefined || opNode === undefined) throw this.fail(node, "bad duration");
      const x = this.duration(a) / 1000;
      const y = this.duration(b) / 1000;
      const results: Readonly<Record<string, number>> = {
        Add: x + y,
        Sub: x - y,
        Mul: x * y,
        Div: x / y,
        Mod: x % y,
        Pow: x ** y,
      };
      const r = results[opNode.name];
      if (r === undefined || !Number.isFinite(r)) throw this.fail(node, "invalid duration expression");
      return Math.round(r * 1000);
    }
    const only = kids.find(
      (k) =>
        k.name === "DurationExpr" ||
        k.name === "OffsetDurationExpr" ||
        k.name === "NumberDurationLiteralInDurationContext",
    );
    if (
      kids.length >= 1 &&
      (kids[0]?.name.startsWith("Duration") ?? false) &&
      kids[0]?.name !== "DurationExpr"
    ) {
      throw this.fail(node, "step(), range(), min_of() and max_of() in durations are not supported");
    }
    if (only === undefined) throw this.fail(node, `bad duration syntax: "${this.text(node)}"`);
    return this.duration(only);
  }
}
