import { parseError } from "../promql-error.js";
import { type Expr, type ExprKind, isComparisonOp, isSetOp, type PosRange, type ValueType } from "./ast.js";
import { FUNCTIONS } from "./functions.js";

const DOCUMENTED: Readonly<Record<ValueType, string>> = {
  scalar: "scalar",
  vector: "instant vector",
  matrix: "range vector",
  string: "string",
};

/** The type an expression evaluates to. */
export function typeOf(expr: Expr): ValueType {
  return TYPE_OF[expr.kind](expr as never);
}

const TYPE_OF: { readonly [K in ExprKind]: (e: Extract<Expr, { kind: K }>) => ValueType } = {
  NumberLiteral: () => "scalar",
  StringLiteral: () => "string",
  VectorSelector: () => "vector",
  MatrixSelector: () => "matrix",
  Subquery: () => "matrix",
  Call: (e) => FUNCTIONS.get(e.func)?.returnType ?? "vector",
  Aggregate: () => "vector",
  Binary: (e) => (typeOf(e.lhs) === "scalar" && typeOf(e.rhs) === "scalar" ? "scalar" : "vector"),
  Unary: (e) => typeOf(e.expr),
  Paren: (e) => typeOf(e.expr),
};

/** Prometheus's static checks (`checkAST`): operand and argument types, matching clauses, selectors. */
export function checkExpr(query: string, root: Expr): void {
  const fail = (pos: PosRange, message: string): never => {
    throw parseError(query, pos, message);
  };
  const expectType = (e: Expr, want: ValueType, context: string): void => {
    const got = typeOf(e);
    if (got !== want) fail(e.pos, `expected type ${DOCUMENTED[want]} in ${context}, got ${DOCUMENTED[got]}`);
  };

  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "NumberLiteral":
      case "StringLiteral":
        return;
      case "VectorSelector": {
        if (!e.matchers.some((m) => !matchesEmpty(m.op, m.value))) {
          fail(e.pos, "vector selector must contain at least one non-empty matcher");
        }
        return;
      }
      case "MatrixSelector":
        visit(e.selector);
        return;
      case "Subquery": {
        const t = typeOf(e.expr);
        if (t !== "vector") fail(e.pos, `subquery is only allowed on instant vector, got ${t} instead`);
        visit(e.expr);
        return;
      }
      case "Paren":
        visit(e.expr);
        return;
      case "Unary": {
        const t = typeOf(e.expr);
        if (t !== "scalar" && t !== "vector") {
          fail(
            e.pos,
            `unary expression only allowed on expressions of type scalar or instant vector, got "${t}"`,
          );
        }
        visit(e.expr);
        return;
      }
      case "Call": {
        const fn = FUNCTIONS.get(e.func);
        if (fn === undefined) throw parseError(query, e.pos, `unknown function with name "${e.func}"`);
        const nargs = fn.argTypes.length;
        if (fn.variadic === 0) {
          if (nargs !== e.args.length) {
            fail(e.pos, `expected ${nargs} argument(s) in call to "${e.func}", got ${e.args.length}`);
          }
        } else {
          const min = nargs - 1;
          if (min > e.args.length) {
            fail(e.pos, `expected at least ${min} argument(s) in call to "${e.func}", got ${e.args.length}`);
          } else if (fn.variadic > 0 && min + fn.variadic < e.args.length) {
            fail(
              e.pos,
              `expected at most ${min + fn.variadic} argument(s) in call to "${e.func}", got ${e.args.length}`,
            );
          }
        }
        e.args.forEach((arg, i) => {
          const want = fn.argTypes[Math.min(i, nargs - 1)];
          if (want !== undefined) expectType(arg, want, `call to function "${e.func}"`);
          visit(arg);
        });
        return;
      }
      case "Aggregate": {
        expectType(e.expr, "vector", "aggregation expression");
        if (e.param !== undefined) {
          expectType(e.param, e.op === "count_values" ? "string" : "scalar", "aggregation parameter");
          visit(e.param);
        }
        visit(e.expr);
        return;
      }
      case "Binary": {
        const lt = typeOf(e.lhs);
        const rt = typeOf(e.rhs);
        if (e.returnBool && !isComparisonOp(e.op)) {
          fail(e.pos, "bool modifier can only be used on comparison operators");
        }
        if (isComparisonOp(e.op) && !e.returnBool && lt === "scalar" && rt === "scalar") {
          fail(e.pos, "comparisons between scalars must use BOOL modifier");
        }
        const m = e.matching;
        if (m?.on) {
          for (const l of m.labels) {
            if (m.include.includes(l))
              fail(e.pos, `label "${l}" must not occur in ON and GROUP clause at once`);
          }
        }
        if (lt !== "scalar" && lt !== "vector") {
          fail(e.lhs.pos, "binary expression must contain only scalar and instant vector types");
        }
        if (rt !== "scalar" && rt !== "vector") {
          fail(e.rhs.pos, "binary expression must contain only scalar and instant vector types");
        }
        if ((lt !== "vector" || rt !== "vector") && m !== undefined && (m.labels.length > 0 || m.on)) {
          if (m.labels.length > 0) fail(e.pos, "vector matching only allowed between instant vectors");
        } else if (
          isSetOp(e.op) &&
          m !== undefined &&
          (m.card === "one-to-many" || m.card === "many-to-one")
        ) {
          fail(e.pos, `no grouping allowed for "${e.op}" operation`);
        }
        if ((lt === "scalar" || rt === "scalar") && isSetOp(e.op)) {
          fail(e.pos, `set operator "${e.op}" not allowed in binary scalar expression`);
        }
        visit(e.lhs);
        visit(e.rhs);
        return;
      }
    }
  };
  visit(root);
}

function matchesEmpty(op: string, value: string): boolean {
  switch (op) {
    case "=":
      return value === "";
    case "!=":
      return value !== "";
    case "=~":
      return safeRegexTest(value, "");
    default:
      return !safeRegexTest(value, "");
  }
}

function safeRegexTest(pattern: string, s: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(s);
  } catch {
    return false;
  }
}
