/**
 * Literal values of the PromQL lexicon: numbers, durations and Go-style quoted strings.
 *
 * PromQL strings are byte strings. Bytes that are not valid UTF-8 (`"\xff"`) are kept as the lone
 * surrogates U+DC80..U+DCFF so that validation can reject them and messages can print them as Go would.
 */

const DURATION_UNITS: ReadonlyArray<readonly [string, number]> = [
  ["y", 365 * 24 * 3600_000],
  ["w", 7 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
  ["s", 1000],
  ["ms", 1],
];

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Parses a Prometheus duration (`1h30m`, `10s53ms`) into milliseconds, or undefined if it is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === "" || text === "0") return text === "0" ? 0 : undefined;
  const m = DURATION_RE.exec(text);
  if (m === null) return undefined;
  let total = 0;
  let any = false;
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    const part = m[i + 1];
    const unit = DURATION_UNITS[i];
    if (part === undefined || unit === undefined) continue;
    any = true;
    total += Number(part) * unit[1];
  }
  return any ? total : undefined;
}

/** Parses a number token: decimal, hexadecimal, Inf, NaN, digit separators, or a duration (in seconds). */
export function parseNumber(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (lower === "nan" || lower === "+nan" || lower === "-nan") return Number.NaN;
  let sign = 1;
  let body = text;
  if (body.startsWith("-") || body.startsWith("+")) {
    if (body.startsWith("-")) sign = -1;
    body = body.slice(1);
  }
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) return sign * Number.parseInt(body.slice(2), 16);
  const plain = body.replace(/(\d)_(?=\d)/g, "$1");
  if (/^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(plain)) return sign * Number(plain);
  const dur = parseDuration(body);
  if (dur !== undefined) return (sign * dur) / 1000;
  return undefined;
}

/** Parses a duration written either with units (`5m`) or as a number of seconds (`300`, `1.5`). */
export function parseDurationOrSeconds(text: string): number | undefined {
  const d = parseDuration(text);
  if (d !== undefined) return d;
  const n = parseNumber(text);
  if (n === undefined || !Number.isFinite(n)) return undefined;
  return Math.round(n * 1000);
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 7,
  b: 8,
  f: 12,
  n: 10,
  r: 13,
  t: 9,
  v: 11,
  "\\": 92,
  "'": 39,
  '"': 34,
};

/** Decodes a quoted PromQL string literal (`"…"`, `'…'` or `` `…` ``). Throws a message on bad escapes. */
export function unquoteString(literal: string): string {
  const quote = literal[0];
  if (literal.length < 2 || literal[literal.length - 1] !== quote)
    throw new Error("unterminated quoted string");
  const body = literal.slice(1, -1);
  if (quote === "`") return body;
  const bytes: number[] = [];
  const pushCodePoint = (cp: number): void => {
    for (const b of new TextEncoder().encode(String.fromCodePoint(cp))) bytes.push(b);
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== "\\") {
      const cp = body.codePointAt(i) ?? 0;
      pushCodePoint(cp);
      if (cp > 0xffff) i++;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) throw new Error("escape sequence not terminated");
    i++;
    const simple = SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      if ((next === "'" && quote === '"') || (next === '"' && quote === "'")) {
        throw new Error("unknown escape sequence");
      }
      bytes.push(simple);
      continue;
    }
    if (next === "x" || next === "u" || next === "U") {
      const len = next === "x" ? 2 : next === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error("invalid escape sequence");
      const value = Number.parseInt(hex, 16);
      if (next === "x") bytes.push(value);
      else {
        if (value > 0x10ffff || (value >= 0xd800 && value < 0xe000))
          throw new Error("invalid Unicode code point");
        pushCodePoint(value);
      }
      i += len;
      continue;
    }
    if (next >= "0" && next <= "7") {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new Error("invalid escape sequence");
      const value = Number.parseInt(oct, 8);
      if (value > 255) throw new Error("octal escape value > 255");
      bytes.push(value);
      i += 2;
      continue;
    }
    throw new Error("unknown escape sequence");
  }
  return decodeBytes(bytes);
}

/** UTF-8 decoding that keeps invalid bytes as lone surrogates U+DC80+byte. */
function decodeBytes(bytes: readonly number[]): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i] as number;
    let len = 0;
    let cp = 0;
    if (b0 < 0x80) {
      len = 1;
      cp = b0;
    } else if (b0 >= 0xc2 && b0 < 0xe0) {
      len = 2;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 < 0xf0) {
      len = 3;
      cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 < 0xf5) {
      len = 4;
      cp = b0 & 0x07;
    }
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      const b = bytes[i + k] as number;
      if ((b & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3f);
    }
    if (ok && len === 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ok = false;
    if (ok && len === 4 && (cp < 0x10000 || cp > 0x10ffff)) ok = false;
    if (!ok) {
      out += String.fromCharCode(0xdc80 + b0 - 0x80);
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string holds only valid Unicode (no byte kept from invalid UTF-8). */
export function isValidUtf8(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Quotes a string the way Go's `%q` does, so messages match Prometheus's. */
export function quoteGo(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0xdc80 && code <= 0xdcff && !isPairedLow(s, i)) {
      out += `\\x${(code - 0xdc00).toString(16).padStart(2, "0")}`;
      continue;
    }
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function isPairedLow(s: string, i: number): boolean {
  const prev = s.charCodeAt(i - 1);
  return i > 0 && prev >= 0xd800 && prev <= 0xdbff;
}

/**
 * Formats milliseconds as Prometheus does (model.Duration.String: `1h5m`, `0s`), with years and weeks only
 * when they are exact, so 90 days stay "90d" rather than "12w6d".
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = Math.abs(ms);
  let out = ms < 0 ? "-" : "";
  for (const [unit, size] of DURATION_UNITS) {
    if ((unit === "y" || unit === "w") && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
