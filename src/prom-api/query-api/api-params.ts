import { type LabelMatcher, matcherTest, parseExpr, PromqlError, quoteGo } from "../../promql/index.js";

/**
 * The request's parameters as Go's `http.Request` sees them: `get` is `FormValue` (a form body's value
 * before the query string's), `getAll` is `Form[name]` (form values, then query-string values).
 */
export class ApiParams {
  constructor(
    private readonly query: URLSearchParams,
    private readonly form: URLSearchParams | undefined,
  ) {}

  /** Parses a request: the query string, and the body when it is a form. */
  static from(query: URLSearchParams, contentType: string | undefined, body: Buffer | undefined): ApiParams {
    const isForm = contentType?.split(";")[0]?.trim().toLowerCase() === "application/x-www-form-urlencoded";
    const form = isForm && body !== undefined ? new URLSearchParams(body.toString("utf8")) : undefined;
    return new ApiParams(query, form);
  }

  get(name: string): string {
    return this.form?.get(name) ?? this.query.get(name) ?? "";
  }

  getAll(name: string): string[] {
    return [...(this.form?.getAll(name) ?? []), ...this.query.getAll(name)];
  }
}

/** Bounds used when a metadata query gives no start or end: "all time". */
export const MIN_TIME = Number.MIN_SAFE_INTEGER;
export const MAX_TIME = Number.MAX_SAFE_INTEGER;

// Prometheus's own boundary times, which clients send because Go cannot print years beyond 9999.
const MIN_TIME_FORMATTED = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED = "292277025-08-18T07:12:54.999999999Z";

const GO_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/**
 * Prometheus's `parseTime`: unix seconds with a fraction (rounded to the millisecond) or RFC 3339; returns
 * milliseconds since the epoch, or throws the message Prometheus gives.
 */
export function parseTime(text: string): number {
  if (GO_FLOAT.test(text)) {
    const seconds = Number(text);
    if (Number.isFinite(seconds)) {
      const whole = Math.trunc(seconds);
      return whole * 1000 + Math.round((seconds - whole) * 1000);
    }
  }
  const m = RFC3339.exec(text);
  if (m !== null) {
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const ms = Number(`${m[7] ?? ""}000`.slice(0, 3));
    let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
    if (year < 100) t = new Date(t).setUTCFullYear(year);
    if (m[9] !== undefined) {
      const offset = (Number(m[10]) * 60 + Number(m[11])) * 60_000;
      t += m[9] === "+" ? -offset : offset;
    }
    const valid =
      month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60;
    if (valid && Number.isFinite(t)) return t;
  }
  if (text === MIN_TIME_FORMATTED) return MIN_TIME;
  if (text === MAX_TIME_FORMATTED) return MAX_TIME;
  throw new Error(`cannot parse ${quoteGo(text)} to a valid timestamp`);
}

/** Prometheus's `parseDuration`: float seconds or a duration such as `1m30s`; returns milliseconds. */
export function parseDuration(text: string): number {
  if (GO_FLOAT.test(text)) {
    const seconds = Number(text);
    if (Math.abs(seconds * 1e9) > 2 ** 63) {
      throw new Error(`cannot parse ${quoteGo(text)} to a valid duration. It overflows int64`);
    }
    // time.Duration holds whole nanoseconds.
    return Math.trunc(seconds * 1e9) / 1e6;
  }
  const m = text === "0" ? null : DURATION.exec(text);
  if (m !== null && text !== "") {
    let ms = 0;
    for (let i = 0; i < DURATION_UNITS_MS.length; i++) {
      const part = m[i + 1];
      if (part !== undefined) ms += Number(part) * (DURATION_UNITS_MS[i] as number);
    }
    return ms;
  }
  throw new Error(`cannot parse ${quoteGo(text)} to a valid duration`);
}

/** A time parameter with a default, with Prometheus's message on a bad value. */
export function timeParam(params: ApiParams, name: string, fallback: number): number {
  const text = params.get(name);
  if (text === "") return fallback;
  try {
    return parseTime(text);
  } catch (error) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(error as Error).message}`);
  }
}

/** `invalid parameter "name": message`, as Prometheus words a bad parameter. */
export function invalidParam(name: string, message: string): PromqlError {
  return new PromqlError("bad_data", `invalid parameter ${quoteGo(name)}: ${message}`);
}

/** Parses `match[]` selectors as Prometheus's `parseMatchersParam`. */
export function parseMatchers(selectors: readonly string[]): LabelMatcher[][] {
  const sets: LabelMatcher[][] = [];
  for (const text of selectors) {
    let expr: ReturnType<typeof parseExpr>;
    try {
      expr = parseExpr(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // PromQL refuses `{a=""}` while parsing; Prometheus's selector parser leaves that check to the API.
      if (message.endsWith("vector selector must contain at least one non-empty matcher")) {
        throw invalidParam("match[]", "match[] must contain at least one non-empty matcher");
      }
      throw invalidParam("match[]", message);
    }
    if (expr.kind !== "VectorSelector" || expr.offsetMs !== 0 || expr.at !== undefined) {
      throw invalidParam("match[]", `1:1: parse error: ${quoteGo(text)} is not a series selector`);
    }
    sets.push([...expr.matchers]);
  }
  for (const set of sets) {
    if (!set.some((m) => !matcherTest(m)([]))) {
      throw invalidParam("match[]", "match[] must contain at least one non-empty matcher");
    }
  }
  return sets;
}

/** The `limit` parameter of series and label queries: 0 (the default) means none. */
export function limitParam(params: ApiParams): number {
  const text = params.get("limit");
  if (text === "") return 0;
  if (!/^[+-]?\d+$/.test(text)) {
    throw invalidParam("limit", `strconv.Atoi: parsing ${quoteGo(text)}: invalid syntax`);
  }
  const limit = Number(text);
  if (limit < 0) throw invalidParam("limit", "limit must be non-negative");
  return limit;
}
