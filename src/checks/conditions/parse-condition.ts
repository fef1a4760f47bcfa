import type { ProbeType } from "../probes/probe-result.js";
import { DNS_RCODES } from "../probes/probe-result.js";
import {
  type Condition,
  type ConditionError,
  type Literal,
  OPERATORS,
  type Operand,
  type Operator,
  type ParseConditionResult,
  PLACEHOLDER_NAMES,
  PLACEHOLDERS,
  type PathSegment,
  type PlaceholderName,
  type ValueRef,
} from "./condition.js";
import { parseDuration } from "./duration.js";

const OPERATOR_LIST = OPERATORS.join(", ");
const PLACEHOLDER_LIST = PLACEHOLDER_NAMES.map((name) => `[${name}]`).join(", ");
const ORDERING: readonly Operator[] = ["<", "<=", ">", ">="];

class ParseError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/**
 * Parses one condition at config time. With `probeType`, placeholders the type does not produce are errors
 * too (`[DNS_RCODE]` on an http check). Errors carry a 1-based column and say what is allowed there.
 *
 * @example
 * parseCondition("[STATUS] == 200", { probeType: "http" }) // { ok: true, condition: {...} }
 * parseCondition("[STATUS] = 200")  // { ok: false, error: { message: 'unknown operator "="; use one of ==, …', column: 10 } }
 */
export function parseCondition(text: string, options: { probeType?: ProbeType } = {}): ParseConditionResult {
  try {
    const condition = new Parser(text).parse();
    const typeError = options.probeType ? validateCondition(condition, options.probeType) : null;
    return typeError ? { ok: false, error: typeError } : { ok: true, condition };
  } catch (error) {
    if (error instanceof ParseError)
      return { ok: false, error: { message: error.message, column: error.column } };
    throw error;
  }
}

/** Checks that every placeholder of a parsed condition exists for this probe type. */
export function validateCondition(condition: Condition, probeType: ProbeType): ConditionError | null {
  const refs = [condition.left, ...(condition.right.kind === "ref" ? [condition.right] : [])];
  for (const ref of refs) {
    const types: readonly ProbeType[] = PLACEHOLDERS[ref.placeholder].types;
    if (!types.includes(probeType)) {
      const allowed = PLACEHOLDER_NAMES.filter((name) =>
        (PLACEHOLDERS[name].types as readonly ProbeType[]).includes(probeType),
      );
      return {
        message: `[${ref.placeholder}] is not available for ${probeType} checks; use one of ${allowed.map((n) => `[${n}]`).join(", ")}`,
        column: ref.column,
      };
    }
  }
  return null;
}

/** The placeholders a probe type produces, for editors and error messages. */
export function placeholdersFor(probeType: ProbeType): PlaceholderName[] {
  return PLACEHOLDER_NAMES.filter((name) =>
    (PLACEHOLDERS[name].types as readonly ProbeType[]).includes(probeType),
  );
}

class Parser {
  private pos = 0;
  private rightIndex = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  parse(): Condition {
    this.skipSpaces();
    if (this.pos >= this.text.length)
      throw this.error("empty condition; write e.g. [STATUS] == 200", this.pos);
    const left = this.parseRef("left");
    this.skipSpaces();
    const operator = this.parseOperator(left);
    this.skipSpaces();
    const right = this.parseRight(operator);
    this.check(left, operator, right);
    return { text: this.text.trim(), left, operator, right };
  }

  private parseRef(side: "left" | "right"): ValueRef {
    const start = this.pos;
    const fnMatch = /^(len|has)\(/.exec(this.rest());
    if (!fnMatch && /^(pat|any)\(/.test(this.rest())) {
      throw this.error(
        `${this.rest().slice(0, 3)}() goes on the right side of == or !=, e.g. [BODY] == pat(*ok*)`,
        start,
      );
    }
    const fn = fnMatch ? (fnMatch[1] as "len" | "has") : null;
    if (fnMatch) this.pos += fnMatch[0].length;
    if (this.text[this.pos] !== "[") {
      const what = side === "left" ? "a condition starts with" : "expected";
      throw this.error(`${what} a placeholder (${PLACEHOLDER_LIST}) or len(…)/has(…) of one`, this.pos);
    }
    const nameStart = this.pos;
    const close = this.text.indexOf("]", this.pos);
    if (close < 0) throw this.error("unterminated placeholder: missing ]", nameStart);
    const name = this.text.slice(this.pos + 1, close).toUpperCase();
    if (!(name in PLACEHOLDERS)) {
      throw this.error(
        `unknown placeholder [${this.text.slice(this.pos + 1, close)}]; use one of ${PLACEHOLDER_LIST}`,
        nameStart,
      );
    }
    const placeholder = name as PlaceholderName;
    this.pos = close + 1;
    const path = this.parsePath(placeholder);
    if (fn) {
      if (this.text[this.pos] !== ")") throw this.error(`${fn}( is not closed: expected )`, this.pos);
      this.pos++;
    }
    return { kind: "ref", placeholder, path, fn, column: start + 1, text: this.text.slice(start, this.pos) };
  }

  private parsePath(placeholder: PlaceholderName): PathSegment[] {
    const path: PathSegment[] = [];
    for (;;) {
      const char = this.text[this.pos];
      if (char !== "." && char !== "[") return path;
      if (placeholder !== "BODY") {
        throw this.error(`only [BODY] takes a JSON path; [${placeholder}] is a single value`, this.pos);
      }
      if (char === "[") {
        const match = /^\[(\d+)\]/.exec(this.rest());
        if (!match?.[1]) throw this.error("expected an array index such as [0]", this.pos);
        path.push({ kind: "index", index: Number(match[1]) });
        this.pos += match[0].length;
      } else {
        const match = /^\.([^.[\]\s()]+)/.exec(this.rest());
        if (!match?.[1]) throw this.error("expected a key after . in the JSON path", this.pos + 1);
        path.push({ kind: "key", key: match[1] });
        this.pos += match[0].length;
      }
    }
  }

  private parseOperator(left: ValueRef): Operator {
    const start = this.pos;
    if (start >= this.text.length) {
      throw this.error(`missing operator after ${left.text}; use one of ${OPERATOR_LIST}`, start);
    }
    const rest = this.rest();
    const word = /^(not\s+contains|contains)(?=\s|$)/i.exec(rest);
    if (word?.[1]) {
      this.pos += word[1].length;
      return word[1].toLowerCase().startsWith("not") ? "not contains" : "contains";
    }
    const symbol = /^[=!<>]+/.exec(rest)?.[0] ?? /^\S+/.exec(rest)?.[0] ?? "";
    const operator = OPERATORS.find((op) => op === symbol);
    if (!operator) throw this.error(`unknown operator "${symbol}"; use one of ${OPERATOR_LIST}`, start);
    this.pos += symbol.length;
    return operator;
  }

  private parseRight(operator: Operator): Operand {
    const start = this.pos;
    this.rightIndex = start;
    const rest = this.rest().trimEnd();
    if (rest === "") throw this.error(`missing value after ${operator}`, start);
    if (rest.startsWith('"')) {
      const literal = this.parseQuoted();
      this.skipSpaces();
      if (this.pos < this.text.trimEnd().length)
        throw this.error("unexpected text after the quoted value", this.pos);
      return literal;
    }
    const fn = /^(pat|any)\(/.exec(rest);
    if (fn) {
      if (!rest.endsWith(")")) throw this.error(`${fn[1]}( is not closed: expected ) at the end`, start);
      if (operator !== "==" && operator !== "!=") {
        throw this.error(`${fn[1]}() works only with == and !=`, start);
      }
      const inner = rest.slice(4, -1);
      this.pos = this.text.length;
      if (fn[1] === "pat") return { kind: "pattern", pattern: inner };
      const options = inner.split(",").map((option) => literal(unquote(option.trim())));
      if (options.some((o) => o.value === ""))
        throw this.error("any() needs values separated by commas, e.g. any(200, 204)", start);
      return { kind: "any", options };
    }
    if (/^(\[|len\(|has\()/.test(rest)) {
      const ref = this.parseRef("right");
      this.skipSpaces();
      if (this.pos < this.text.trimEnd().length)
        throw this.error("unexpected text after the placeholder", this.pos);
      return ref;
    }
    this.pos = this.text.length;
    return literal(rest);
  }

  private parseQuoted(): Literal {
    const start = this.pos;
    let value = "";
    this.pos++;
    while (this.pos < this.text.length) {
      const char = this.text[this.pos];
      if (char === "\\" && this.pos + 1 < this.text.length) {
        const next = this.text[this.pos + 1] ?? "";
        value += next === "n" ? "\n" : next === "t" ? "\t" : next;
        this.pos += 2;
        continue;
      }
      if (char === '"') {
        this.pos++;
        return { ...literal(value), number: null, isDuration: false };
      }
      value += char;
      this.pos++;
    }
    throw this.error('unterminated quote: missing closing "', start);
  }

  /** Rejects comparisons that can never make sense, so the mistake shows at config time, not at 3 a.m. */
  private check(left: ValueRef, operator: Operator, right: Operand): void {
    const kind =
      left.fn === "len" ? "number" : left.fn === "has" ? "boolean" : PLACEHOLDERS[left.placeholder].kind;
    const at = this.rightIndex;
    if (ORDERING.includes(operator)) {
      if (kind === "boolean" || kind === "rcode" || (kind === "text" && left.path.length === 0)) {
        throw this.error(`${left.text} is not a number; use ==, != or contains with it`, left.column - 1);
      }
      if (right.kind === "literal" && right.number === null) {
        throw this.error(
          `${operator} needs a number or a duration such as 30s, 5m, 48h, 7d; got "${right.value}"`,
          at,
        );
      }
    }
    if ((operator === "contains" || operator === "not contains") && right.kind !== "literal") {
      throw this.error(`${operator} needs a text value on the right, e.g. "ok"`, at);
    }
    const literals = right.kind === "literal" ? [right] : right.kind === "any" ? right.options : [];
    for (const lit of literals) {
      if (lit.isDuration && kind !== "duration") {
        throw this.error(`${left.text} is not a duration; compare it with a plain number`, at);
      }
      if (kind === "rcode" && !(DNS_RCODES as readonly string[]).includes(lit.value.toUpperCase())) {
        throw this.error(`unknown DNS rcode "${lit.value}"; use one of ${DNS_RCODES.join(", ")}`, at);
      }
      if (kind === "rcode") lit.value = lit.value.toUpperCase();
      if (kind === "boolean" && lit.value !== "true" && lit.value !== "false") {
        throw this.error(`${left.text} is true or false; got "${lit.value}"`, at);
      }
    }
  }

  private rest(): string {
    return this.text.slice(this.pos);
  }

  private skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }

  private error(message: string, index: number): ParseError {
    return new ParseError(message, index + 1);
  }
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}

function literal(value: string): Literal {
  if (/^-?\d+(\.\d+)?$/.test(value))
    return { kind: "literal", value, number: Number(value), isDuration: false };
  const duration = parseDuration(value);
  if (duration !== null) return { kind: "literal", value, number: duration, isDuration: true };
  return { kind: "literal", value, number: null, isDuration: false };
}
