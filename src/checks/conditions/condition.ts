import type { ProbeType } from "../probes/probe-result.js";

/**
 * The condition language, after Gatus: `[STATUS] == 200`, `[BODY].status == UP`, `len([BODY].items) > 0`,
 * `[CERTIFICATE_EXPIRATION] > 48h`. A condition compares one placeholder (optionally through len() or has())
 * with a value, a pattern, a list of options or another placeholder.
 */

export const PLACEHOLDERS = {
  STATUS: { kind: "number", types: ["http"], doc: "HTTP status code of the final response" },
  RESPONSE_TIME: {
    kind: "duration",
    types: ["http", "tcp", "dns", "tls"],
    doc: "duration of the run, in ms",
  },
  BODY: {
    kind: "text",
    types: ["http", "tcp", "dns"],
    doc: "response body (tcp: what was received; dns: answers)",
  },
  CERTIFICATE_EXPIRATION: {
    kind: "duration",
    types: ["http", "tcp", "tls"],
    doc: "time until the first certificate of the chain expires, in ms",
  },
  DNS_RCODE: { kind: "rcode", types: ["dns"], doc: "DNS response code: NOERROR, NXDOMAIN, SERVFAIL, …" },
  CONNECTED: {
    kind: "boolean",
    types: ["http", "tcp", "dns", "tls"],
    doc: "whether a connection was established",
  },
  IP: { kind: "text", types: ["http", "tcp", "tls"], doc: "address the probe connected to" },
} as const satisfies Record<string, { kind: string; types: readonly ProbeType[]; doc: string }>;

export type PlaceholderName = keyof typeof PLACEHOLDERS;
export const PLACEHOLDER_NAMES = Object.keys(PLACEHOLDERS) as PlaceholderName[];

export type PathSegment = { kind: "key"; key: string } | { kind: "index"; index: number };

/** A placeholder, maybe with a JSON path (only [BODY]) and maybe wrapped in len() or has(). */
export interface ValueRef {
  kind: "ref";
  placeholder: PlaceholderName;
  path: PathSegment[];
  fn: "len" | "has" | null;
  /** 1-based column of the reference in the condition text. */
  column: number;
  /** The reference as written, e.g. "len([BODY].items)". */
  text: string;
}

export interface Literal {
  kind: "literal";
  /** The text after unquoting; DNS rcodes upper-cased. */
  value: string;
  /** The value as a number when it is one (durations in ms), else null. */
  number: number | null;
  isDuration: boolean;
}

export type Operand =
  | ValueRef
  | Literal
  | { kind: "pattern"; pattern: string }
  | { kind: "any"; options: Literal[] };

export const OPERATORS = ["==", "!=", "<=", ">=", "<", ">", "contains", "not contains"] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Condition {
  /** The condition as the user wrote it, trimmed. */
  text: string;
  left: ValueRef;
  operator: Operator;
  right: Operand;
}

export interface ConditionError {
  message: string;
  /** 1-based column in the condition text where the mistake is. */
  column: number;
}

export type ParseConditionResult = { ok: true; condition: Condition } | { ok: false; error: ConditionError };
