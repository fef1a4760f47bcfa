import { describe, expect, it } from "vitest";
import { PromqlError } from "../promql-error.js";
import type { Binary, Expr } from "./ast.js";
import { typeOf } from "./check-types.js";
import { parseExpr } from "./parse-expr.js";

function errorOf(query: string): string {
  try {
    parseExpr(query);
  } catch (err) {
    expect(err).toBeInstanceOf(PromqlError);
    return (err as PromqlError).message;
  }
  throw new Error(`expected ${query} not to parse`);
}

function evalConst(e: Expr): number {
  switch (e.kind) {
    case "NumberLiteral":
      return e.value;
    case "Paren":
      return evalConst(e.expr);
    case "Unary":
      return e.op === "-" ? -evalConst(e.expr) : evalConst(e.expr);
    case "Binary": {
      const a = evalConst(e.lhs);
      const b = evalConst(e.rhs);
      const ops: Record<string, number> = { "+": a + b, "-": a - b, "*": a * b, "/": a / b, "^": a ** b };
      return ops[e.op] ?? Number.NaN;
    }
    default:
      throw new Error(`not constant: ${e.kind}`);
  }
}

describe("parseExpr", () => {
  it("builds a typed tree for selectors, aggregations, calls and vector matching", () => {
    const e = parseExpr(
      'sum by (job) (rate(http_requests_total{code=~"5.."}[5m] offset -1m)) / on(job) group_left(team) owners',
    ) as Binary;
    expect(e.kind).toBe("Binary");
    expect(e.op).toBe("/");
    expect(e.matching).toEqual({ card: "many-to-one", on: true, labels: ["job"], include: ["team"] });
    expect(e.lhs).toMatchObject({ kind: "Aggregate", op: "sum", grouping: ["job"], without: false });
    const call = e.lhs.kind === "Aggregate" ? e.lhs.expr : undefined;
    expect(call).toMatchObject({ kind: "Call", func: "rate" });
    const arg = call?.kind === "Call" ? call.args[0] : undefined;
    expect(arg).toMatchObject({
      kind: "MatrixSelector",
      rangeMs: 300_000,
      selector: {
        name: "http_requests_total",
        offsetMs: -60_000,
        matchers: [
          { name: "__name__", op: "=", value: "http_requests_total" },
          { name: "code", op: "=~", value: "5.." },
        ],
      },
    });
  });

  it("reads number literals like Prometheus: hex, underscores, Inf, NaN, trailing dot, durations", () => {
    expect(evalConst(parseExpr("0x1F"))).toBe(31);
    expect(evalConst(parseExpr("1_000"))).toBe(1000);
    expect(evalConst(parseExpr("2."))).toBe(2);
    expect(evalConst(parseExpr(".5e1"))).toBe(5);
    expect(evalConst(parseExpr("-Inf"))).toBe(Number.NEGATIVE_INFINITY);
    expect(Number.isNaN(evalConst(parseExpr("nan")))).toBe(true);
    expect(evalConst(parseExpr("1h30m"))).toBe(5400);
  });

  it("binds unary minus looser than ^, and ^ to the right", () => {
    expect(evalConst(parseExpr("-2^2"))).toBe(-4);
    expect(evalConst(parseExpr("2^3^2"))).toBe(512);
    expect(evalConst(parseExpr("2 - -1"))).toBe(3);
  });

  it("binds offset, @ and ranges to the rightmost operand", () => {
    const e = parseExpr("a offset 1m + b offset 2m") as Binary;
    expect(e.lhs).toMatchObject({ kind: "VectorSelector", offsetMs: 60_000 });
    expect(e.rhs).toMatchObject({ kind: "VectorSelector", offsetMs: 120_000 });
    expect(parseExpr("x @ start()")).toMatchObject({ at: { kind: "start" } });
    expect(parseExpr("x @ 100")).toMatchObject({ at: { kind: "timestamp", ms: 100_000 } });
    expect(parseExpr("rate(x[5m])[30m:1m] offset 5m")).toMatchObject({
      kind: "Subquery",
      rangeMs: 1_800_000,
      stepMs: 60_000,
      offsetMs: 300_000,
    });
  });

  it("decodes Go string escapes and raw strings", () => {
    expect(parseExpr('"a\\nb\\u00e9\\x41"')).toMatchObject({ value: "a\nbéA" });
    expect(parseExpr("`a\\nb`")).toMatchObject({ value: "a\\nb" });
    expect(parseExpr("'it\\'s'")).toMatchObject({ value: "it's" });
  });

  it("types expressions", () => {
    expect(typeOf(parseExpr("1 + 2"))).toBe("scalar");
    expect(typeOf(parseExpr("x + 2"))).toBe("vector");
    expect(typeOf(parseExpr("x[5m]"))).toBe("matrix");
    expect(typeOf(parseExpr("scalar(x)"))).toBe("scalar");
    expect(typeOf(parseExpr('"s"'))).toBe("string");
  });
});

describe("parse errors", () => {
  it("report the position as line:column", () => {
    expect(errorOf("foo(bar)")).toBe('1:1: parse error: unknown function with name "foo"');
    expect(errorOf("sum(x) + rate(x)")).toBe(
      '1:15: parse error: expected type range vector in call to function "rate", got instant vector',
    );
    expect(errorOf("1 +")).toMatch(/^1:4: parse error: unexpected end of input/);
  });

  it("reject operands of the wrong type", () => {
    expect(errorOf("x[5m] + 1")).toBe(
      "1:1: parse error: binary expression must contain only scalar and instant vector types",
    );
    expect(errorOf("1 > 2")).toMatch(/comparisons between scalars must use BOOL modifier/);
    expect(errorOf("x and 1")).toMatch(/set operator "and" not allowed in binary scalar expression/);
    expect(errorOf("x + bool y")).toMatch(/bool modifier can only be used on comparison operators/);
    expect(errorOf('-"a"')).toMatch(
      /unary expression only allowed on expressions of type scalar or instant vector/,
    );
    expect(errorOf("rate(x[5m])[5m]")).toMatch(/ranges only allowed for vector selectors/);
    expect(errorOf('x[5m:] + "a"')).toMatch(
      /binary expression must contain only scalar and instant vector types/,
    );
    expect(errorOf("sum(x[5m])")).toMatch(
      /expected type instant vector in aggregation expression, got range vector/,
    );
    expect(errorOf('topk("a", x)')).toMatch(/expected type scalar in aggregation parameter, got string/);
  });

  it("check argument counts and matching clauses", () => {
    expect(errorOf("topk(x)")).toMatch(
      /wrong number of arguments for aggregate expression provided, expected 2, got 1/,
    );
    expect(errorOf('label_join(x, "a")')).toMatch(
      /expected at least 3 argument\(s\) in call to "label_join", got 2/,
    );
    expect(errorOf("round(x, 1, 2)")).toMatch(/expected at most 2 argument\(s\) in call to "round", got 3/);
    expect(errorOf("abs(x, y)")).toMatch(/expected 1 argument\(s\) in call to "abs", got 2/);
    expect(errorOf("x + on(a) group_left(a) y")).toMatch(
      /label "a" must not occur in ON and GROUP clause at once/,
    );
    expect(errorOf("x and on(a) group_left y")).toMatch(/no grouping allowed for "and" operation/);
  });

  it("check selectors and modifiers", () => {
    expect(errorOf("{}")).toMatch(/vector selector must contain at least one non-empty matcher/);
    expect(errorOf('{a=~".*"}')).toMatch(/vector selector must contain at least one non-empty matcher/);
    expect(errorOf('foo{__name__="bar"}')).toMatch(/metric name must not be set twice/);
    expect(errorOf("sum(x) offset 5m")).toMatch(
      /offset modifier must be preceded by an instant vector selector/,
    );
    expect(errorOf("x offset 1m offset 2m")).toMatch(/offset may not be set multiple times/);
    expect(errorOf("x @ 1 @ 2")).toMatch(/@ <timestamp> may not be set multiple times/);
    expect(errorOf('"\\q"')).toMatch(/unknown escape sequence/);
  });

  it("name native-histogram-only features as unsupported", () => {
    expect(errorOf("histogram_count(x)")).toMatch(/not supported/);
    expect(errorOf("x + fill(0) y")).toMatch(/not supported|unexpected/);
  });
});
