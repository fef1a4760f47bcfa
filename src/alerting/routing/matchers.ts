import { CLASSIC_LABEL_NAME, compileAnchored, quoteGo } from "../../promql/index.js";
import { compareGo, type LabelSet } from "./fingerprint.js";

export type MatchType = "=" | "!=" | "=~" | "!~";

/** One label matcher as Alertmanager's pkg/labels defines it; a missing label matches as "". */
export interface Matcher {
  type: MatchType;
  name: string;
  value: string;
}

// Classic form, as pkg/labels/parse.go; a double-quoted name is the UTF-8 form of Alertmanager 0.27+.
const MATCHER = /^\s*("(?:[^"\\]|\\.)*"|[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

export function isValidLabelName(name: string): boolean {
  return CLASSIC_LABEL_NAME.test(name);
}

/**
 * Compiles a Go RE2 pattern anchored at both ends, refusing what RE2 refuses but JavaScript accepts
 * (lookaround, backreferences). Throws with Go's wording.
 */
const compiled = new Map<string, RegExp>();

export function compileGoRegexp(pattern: string): RegExp {
  const cached = compiled.get(pattern);
  if (cached !== undefined) return cached;
  const re = compileChecked(pattern);
  if (compiled.size > 10_000) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

function compileChecked(pattern: string): RegExp {
  if (/\(\?<?[=!]/.test(pattern)) {
    throw new Error(
      `error parsing regexp: invalid or unsupported Perl syntax: \`${/\(\?<?[=!]/.exec(pattern)?.[0]}\``,
    );
  }
  const backref = /(^|[^\\])(\\\\)*\\([1-9])/.exec(pattern);
  if (backref) throw new Error(`error parsing regexp: invalid escape sequence: \`\\${backref[3]}\``);
  try {
    return compileAnchored(pattern);
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(
      message.startsWith("error parsing regexp") ? message : `error parsing regexp: ${message}`,
    );
  }
}

/** Builds a matcher; throws on a regex that does not compile. */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  if (type === "=~" || type === "!~") compileGoRegexp(value);
  return { type, name, value };
}

export function matchesValue(m: Matcher, value: string): boolean {
  switch (m.type) {
    case "=":
      return value === m.value;
    case "!=":
      return value !== m.value;
    case "=~":
      return compileGoRegexp(m.value).test(value);
    case "!~":
      return !compileGoRegexp(m.value).test(value);
  }
}

export function matches(m: Matcher, labels: LabelSet): boolean {
  return matchesValue(m, labels[m.name] ?? "");
}

export function matchesAll(ms: readonly Matcher[], labels: LabelSet): boolean {
  return ms.every((m) => matches(m, labels));
}

/** Matcher.String(): `name="value"`, as Alertmanager prints it in route keys and group keys. */
export function matcherString(m: Matcher): string {
  const name = CLASSIC_LABEL_NAME.test(m.name) ? m.name : quoteGo(m.name);
  return `${name}${m.type}${quoteGo(m.value)}`;
}

export function matchersString(ms: readonly Matcher[]): string {
  return `{${ms.map(matcherString).join(",")}}`;
}

const TYPE_ORDER: Record<MatchType, number> = { "=": 0, "!=": 1, "=~": 2, "!~": 3 };

/** labels.Matchers sort order: by name, then value, then type. */
export function sortMatchers(ms: Matcher[]): Matcher[] {
  return ms.sort(
    (a, b) =>
      compareGo(a.name, b.name) || compareGo(a.value, b.value) || TYPE_ORDER[a.type] - TYPE_ORDER[b.type],
  );
}

/** labels.ParseMatcher: `name op value`, the value optionally double-quoted with \" \\ \n escapes. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`bad matcher format: ${text}`);
  const [, rawName = "", op = "=", rawValueAll = ""] = m;
  const name = rawName.startsWith('"') ? unquote(rawName, text) : rawName;
  let rawValue = rawValueAll;
  let expectTrailingQuote = false;
  if (rawValue.startsWith('"')) {
    rawValue = rawValue.slice(1);
    expectTrailingQuote = true;
  }
  let value = "";
  let escaped = false;
  const chars = [...rawValue];
  for (let i = 0; i < chars.length; i++) {
    const r = chars[i] as string;
    if (escaped) {
      escaped = false;
      if (r === "n") value += "\n";
      else if (r === '"' || r === "\\") value += r;
      else value += `\\${r}`;
      continue;
    }
    if (r === "\\") {
      if (i < chars.length - 1) {
        escaped = true;
        continue;
      }
      value += "\\";
    } else if (r === '"') {
      if (!expectTrailingQuote || i < chars.length - 1) {
        throw new Error(`matcher value contains unescaped double quote: ${rawValueAll}`);
      }
      expectTrailingQuote = false;
    } else value += r;
  }
  if (expectTrailingQuote) throw new Error(`matcher value contains unescaped double quote: ${rawValueAll}`);
  return newMatcher(op as MatchType, name, value);
}

function unquote(quoted: string, whole: string): string {
  try {
    const parsed: unknown = JSON.parse(quoted);
    if (typeof parsed === "string") return parsed;
  } catch {
    // fall through to the error below
  }
  throw new Error(`bad matcher format: ${whole}`);
}

/** labels.ParseMatchers: one or more comma-separated matchers, optionally wrapped in braces. */
export function parseMatchers(text: string): Matcher[] {
  let s = text;
  if (s.startsWith("{")) s = s.slice(1);
  if (s.endsWith("}")) s = s.slice(0, -1);
  const tokens: string[] = [];
  let insideQuotes = false;
  let escaped = false;
  let token = "";
  for (const r of s) {
    if (r === "," && !insideQuotes) {
      tokens.push(token);
      token = "";
      continue;
    }
    if (r === '"') {
      if (!escaped) insideQuotes = !insideQuotes;
      else escaped = false;
    } else if (r === "\\") escaped = !escaped;
    else escaped = false;
    token += r;
  }
  if (token.trim() !== "") tokens.push(token.trim());
  return tokens.map(parseMatcher);
}
