import type { ProbeResult } from "../probes/probe-result.js";
import type { Condition, Literal, Operand, ValueRef } from "./condition.js";
import { formatDuration } from "./duration.js";

export interface ConditionOutcome {
  /** The condition as written. */
  condition: string;
  ok: boolean;
  /** What the left side resolved to, for the user reading why a check failed: "503", "9d23h", "(none: timeout…)". */
  actual: string;
}

/** A resolved side of a comparison. `present: false` when the result holds no such value. */
interface Value {
  present: boolean;
  text: string;
  number: number | null;
  /** Elements, when the value is a list (a JSON array, or a DNS probe's answers). */
  list: string[] | null;
  /** What len() returns when it is not the text's length: a list's size, a JSON object's key count. */
  length: number | null;
  display: string;
}

const MAX_ACTUAL_LENGTH = 200;

/**
 * Evaluates parsed conditions against one probe result. A value the result lacks (no status after a refused
 * connection) makes its condition fail; has() is the way to ask whether a value exists.
 *
 * @example
 * evaluateConditions([cond("[STATUS] == 200")], result) // [{ condition: "[STATUS] == 200", ok: false, actual: "503" }]
 */
export function evaluateConditions(
  conditions: readonly Condition[],
  result: ProbeResult,
): ConditionOutcome[] {
  return conditions.map((condition) => evaluateCondition(condition, result));
}

export function evaluateCondition(condition: Condition, result: ProbeResult): ConditionOutcome {
  const left = resolveRef(condition.left, result);
  const outcome = (ok: boolean): ConditionOutcome => ({
    condition: condition.text,
    ok,
    actual: truncate(left.display),
  });
  if (!left.present) return outcome(false);
  const { operator, right } = condition;
  switch (operator) {
    case "==":
      return outcome(matches(left, right, result));
    case "!=":
      return outcome(!matches(left, right, result));
    case "contains":
    case "not contains": {
      const needle = right.kind === "literal" ? right.value : "";
      const found = left.list ? left.list.includes(needle) : left.text.includes(needle);
      return outcome(operator === "contains" ? found : !found);
    }
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const a = left.number;
      const b =
        right.kind === "ref"
          ? resolveRef(right, result).number
          : right.kind === "literal"
            ? right.number
            : null;
      if (a === null || b === null) return outcome(false);
      const holds = operator === "<" ? a < b : operator === "<=" ? a <= b : operator === ">" ? a > b : a >= b;
      return outcome(holds);
    }
  }
}

function matches(left: Value, right: Operand, result: ProbeResult): boolean {
  switch (right.kind) {
    case "pattern":
      return wildcardMatch(right.pattern, left.text);
    case "any":
      return right.options.some((option) => equalsLiteral(left, option));
    case "literal":
      return equalsLiteral(left, right);
    case "ref": {
      const other = resolveRef(right, result);
      if (!other.present) return false;
      if (left.number !== null && other.number !== null) return left.number === other.number;
      return left.text === other.text;
    }
  }
}

function equalsLiteral(left: Value, literal: Literal): boolean {
  if (left.number !== null && literal.number !== null) return left.number === literal.number;
  return left.text === literal.value;
}

/** Gatus's pat(): `*` is any run of characters, `?` any one character, and the pattern must match it all. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, "[\\s\\S]*")
    .replace(/\?/g, "[\\s\\S]");
  return new RegExp(`^${source}$`).test(text);
}

function resolveRef(ref: ValueRef, result: ProbeResult): Value {
  const base = resolvePlaceholder(ref, result);
  if (ref.fn === "has") {
    const has = base.present && (ref.path.length > 0 || base.text.trim() !== "");
    return scalar(String(has), null);
  }
  if (ref.fn === "len") {
    if (!base.present) return base;
    const length = base.length ?? [...base.text].length;
    return scalar(String(length), length);
  }
  return base;
}

function resolvePlaceholder(ref: ValueRef, result: ProbeResult): Value {
  switch (ref.placeholder) {
    case "STATUS":
      return result.type === "http" && result.status !== null
        ? scalar(String(result.status), result.status)
        : missing(result);
    case "RESPONSE_TIME": {
      const ms = Math.round(result.durationMs);
      return { ...scalar(String(ms), ms), display: `${ms}ms` };
    }
    case "CONNECTED":
      return scalar(String(result.connected), null);
    case "IP":
      return result.ip === null ? missing(result) : scalar(result.ip, null);
    case "DNS_RCODE":
      return result.type === "dns" && result.rcode !== null ? scalar(result.rcode, null) : missing(result);
    case "CERTIFICATE_EXPIRATION": {
      const tls = result.type === "dns" ? null : result.tls;
      if (!tls || !Number.isFinite(tls.earliestNotAfter)) return missing(result, "no certificate");
      const left = tls.earliestNotAfter - result.startedAt;
      return { ...scalar(String(left), left), display: formatDuration(left) };
    }
    case "BODY":
      return resolveBody(ref, result);
  }
}

interface Body {
  text: string;
  /** Parsed form for paths and len(): JSON for http/tcp when the text is JSON, the answers for dns. */
  data: () => unknown;
}

function resolveBody(ref: ValueRef, result: ProbeResult): Value {
  let body: Body;
  if (result.type === "http" || result.type === "tcp") {
    const text = result.type === "http" ? result.body : result.received;
    body = { text, data: () => parseJson(text) };
  } else if (result.type === "dns") {
    const answers = result.answers.map((a) => a.data);
    body = { text: answers.join("\n"), data: () => answers };
  } else return missing(result, "tls probes have no body");

  if (ref.path.length === 0) {
    if (result.type === "dns") return withShape(scalar(body.text, null), body.data());
    // len([BODY]) counts a JSON body's elements, as Gatus does; `contains` still searches the raw text.
    const value = scalar(body.text.trim(), null);
    return ref.fn === "len" ? { ...withShape(value, body.data()), list: null } : value;
  }
  let current: unknown = body.data();
  for (const segment of ref.path) {
    if (segment.kind === "index") current = Array.isArray(current) ? current[segment.index] : undefined;
    else if (Array.isArray(current) && /^\d+$/.test(segment.key)) current = current[Number(segment.key)];
    else
      current = isObject(current) && Object.hasOwn(current, segment.key) ? current[segment.key] : undefined;
    if (current === undefined)
      return { ...missing(result), display: `(none: ${ref.text} not found in the body)` };
  }
  const text = jsonText(current);
  const number =
    typeof current === "number"
      ? current
      : typeof current === "string" && /^-?\d+(\.\d+)?$/.test(current)
        ? Number(current)
        : null;
  return withShape(scalar(text, number), current);
}

/** Adds what a JSON array or object means for len() and contains. */
function withShape(value: Value, data: unknown): Value {
  if (Array.isArray(data)) return { ...value, list: data.map(jsonText), length: data.length };
  if (isObject(data)) return { ...value, length: Object.keys(data).length };
  return value;
}

function scalar(text: string, number: number | null): Value {
  return { present: true, text, number, list: null, length: null, display: text };
}

function missing(result: ProbeResult, why?: string): Value {
  const reason = why ?? result.failure?.reason ?? "not in the result";
  return { present: false, text: "", number: null, list: null, length: null, display: `(none: ${reason})` };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonText(value: unknown): string {
  return typeof value === "string" ? value : (JSON.stringify(value) ?? "null");
}

function truncate(text: string): string {
  return text.length > MAX_ACTUAL_LENGTH ? `${text.slice(0, MAX_ACTUAL_LENGTH)}…` : text;
}
