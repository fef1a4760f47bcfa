import { formatGoG, GoMap, GoStruct, type GoValue, sprintfGo, sprintGo } from "./go-format.js";
import { type FunctionSpec, GoTemplate, goTruth, TemplateError } from "./go-template.js";

/**
 * Prometheus's alert templates: the functions of prometheus/template/template.go that work without a query
 * (humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, title, toUpper, toLower,
 * match, reReplaceAll, …) and Go's builtins (printf, print, len, index, eq, lt, and, or, not…), with the
 * variables Prometheus declares: $labels, $externalLabels, $externalURL, $value.
 */

/** Go's strconv.ParseFloat, whose errors templates show. */
function parseGoFloat(text: string): number {
  const t = text.replace(/_/g, "");
  if (/^[+-]?(inf|infinity)$/i.test(t))
    return t.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?0[xX][0-9a-fA-F]+$/.test(t))
    return Number(t);
  throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
}

function toFloat(v: GoValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string") return parseGoFloat(v);
  throw new Error(`can't convert ${v === undefined || v === null ? "<nil>" : typeof v} to float`);
}

const BIG_PREFIXES = ["k", "M", "G", "T", "P", "E", "Z", "Y"];
const SMALL_PREFIXES = ["m", "u", "n", "p", "f", "a", "z", "y"];

export function humanize(input: number): string {
  let v = input;
  if (v === 0 || !Number.isFinite(v)) return formatGoG(v, 4);
  let prefix = "";
  if (Math.abs(v) >= 1) {
    for (const p of BIG_PREFIXES) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (const p of SMALL_PREFIXES) {
      if (Math.abs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return `${formatGoG(v, 4)}${prefix}`;
}

export function humanize1024(input: number): string {
  let v = input;
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return formatGoG(v, 4);
  let prefix = "";
  for (const p of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${formatGoG(v, 4)}${prefix}`;
}

export function humanizeDuration(input: number): string {
  let v = input;
  if (!Number.isFinite(v)) return formatGoG(v, 4);
  if (v === 0) return `${formatGoG(v, 4)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? "-" : "";
    v = Math.abs(v);
    const duration = Math.trunc(v);
    const seconds = duration % 60;
    const minutes = Math.trunc(duration / 60) % 60;
    const hours = Math.trunc(duration / 3600) % 24;
    const days = Math.trunc(duration / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatGoG(v, 4)}s`;
  }
  let prefix = "";
  for (const p of SMALL_PREFIXES) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${formatGoG(v, 4)}${prefix}s`;
}

/** Go's time.Time String() in UTC: "2006-01-02 15:04:05.999999999 +0000 UTC". */
export function goTimeString(seconds: number): string {
  const whole = Math.floor(seconds);
  const nanos = Math.round((seconds - whole) * 1e9);
  const d = new Date(whole * 1000);
  const p2 = (n: number) => String(n).padStart(2, "0");
  const date = `${String(d.getUTCFullYear()).padStart(4, "0")}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  const time = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  const frac = nanos === 0 ? "" : `.${String(nanos).padStart(9, "0").replace(/0+$/, "")}`;
  return `${date} ${time}${frac} +0000 UTC`;
}

/** Go's strings.Title: the first letter of each word in upper case. */
function title(s: string): string {
  let out = "";
  let prev = " ";
  for (const ch of s) {
    const separator = !/[\p{L}\p{N}_]/u.test(prev);
    out += separator ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function compareValues(name: string, a: GoValue, b: GoValue): number {
  const kind = (v: GoValue) => (typeof v === "bigint" ? "int" : typeof v === "number" ? "float" : typeof v);
  if (kind(a) !== kind(b)) throw new Error("incompatible types for comparison");
  if (typeof a === "string" || typeof a === "number" || typeof a === "bigint") {
    const bb = b as typeof a;
    return a < bb ? -1 : a > bb ? 1 : 0;
  }
  if (typeof a === "boolean" && (name === "eq" || name === "ne")) return a === b ? 0 : 1;
  throw new Error("invalid type for comparison");
}

const str = (v: GoValue): string => (typeof v === "string" ? v : sprintGo(v));

function goRegexp(pattern: string): RegExp {
  // Prometheus anchors nothing here; Go's RE2 syntax is close enough to JavaScript's for these uses.
  return new RegExp(pattern.replace(/\(\?P</g, "(?<"), "u");
}

export const ALERT_TEMPLATE_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  humanize: { arity: 1, fn: ([v]) => humanize(toFloat(v)) },
  humanize1024: { arity: 1, fn: ([v]) => humanize1024(toFloat(v)) },
  humanizeDuration: { arity: 1, fn: ([v]) => humanizeDuration(toFloat(v)) },
  humanizePercentage: { arity: 1, fn: ([v]) => `${formatGoG(toFloat(v) * 100, 4)}%` },
  humanizeTimestamp: {
    arity: 1,
    fn: ([v]) => {
      const f = toFloat(v);
      return Number.isFinite(f) ? goTimeString(f) : formatGoG(f, 4);
    },
  },
  title: { arity: 1, fn: ([v]) => title(str(v)) },
  toUpper: { arity: 1, fn: ([v]) => str(v).toUpperCase() },
  toLower: { arity: 1, fn: ([v]) => str(v).toLowerCase() },
  safeHtml: { arity: 1, fn: ([v]) => str(v) },
  match: { arity: 2, fn: ([re, s]) => goRegexp(str(re)).test(str(s)) },
  reReplaceAll: {
    arity: 3,
    fn: ([re, repl, s]) =>
      str(s).replace(
        new RegExp(goRegexp(str(re)).source, "gu"),
        str(repl)
          .replace(/\$\{?(\w+)\}?/g, "$<$1>")
          .replace(/\$<(\d+)>/g, "$$$1"),
      ),
  },
  stripPort: {
    arity: 1,
    fn: ([v]) => {
      const s = str(v);
      const m = /^\[(.*)\]:\d+$/.exec(s) ?? /^([^:]*):\d+$/.exec(s);
      return m === null ? s : (m[1] ?? s);
    },
  },
  args: {
    fn: (args) => new GoMap(new Map(args.map((a, i) => [`arg${i}`, a]))),
  },
  printf: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: ([format, ...rest]) => sprintfGo(str(format), rest),
  },
  print: {
    fn: (args) =>
      args
        .map((a, i) => {
          const spaced = i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string";
          return (spaced ? " " : "") + sprintGo(a);
        })
        .join(""),
  },
  println: { fn: (args) => `${args.map(sprintGo).join(" ")}\n` },
  len: {
    arity: 1,
    fn: ([v]) => {
      if (typeof v === "string") return BigInt(Buffer.byteLength(v));
      if (v instanceof GoMap) return BigInt(v.entries.size);
      if (Array.isArray(v)) return BigInt(v.length);
      throw new Error(`len of type ${typeof v}`);
    },
  },
  index: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: ([v, ...keys]) => {
      let cur: GoValue = v;
      for (const k of keys) {
        if (cur instanceof GoMap) cur = cur.entries.has(str(k)) ? cur.entries.get(str(k)) : "";
        else if (Array.isArray(cur) && typeof k === "bigint") cur = cur[Number(k)];
        else throw new Error(`can't index item of type ${typeof cur}`);
      }
      return cur;
    },
  },
  not: { arity: 1, fn: ([v]) => !goTruth(v) },
  and: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: (args) => {
      for (const a of args) if (!goTruth(a)) return a;
      return args[args.length - 1];
    },
  },
  or: {
    arity: [1, Number.POSITIVE_INFINITY],
    fn: (args) => {
      for (const a of args) if (goTruth(a)) return a;
      return args[args.length - 1];
    },
  },
  eq: {
    arity: [2, Number.POSITIVE_INFINITY],
    fn: ([a, ...rest]) => rest.some((b) => compareValues("eq", a, b) === 0),
  },
  ne: { arity: 2, fn: ([a, b]) => compareValues("ne", a, b) !== 0 },
  lt: { arity: 2, fn: ([a, b]) => compareValues("lt", a, b) < 0 },
  le: { arity: 2, fn: ([a, b]) => compareValues("le", a, b) <= 0 },
  gt: { arity: 2, fn: ([a, b]) => compareValues("gt", a, b) > 0 },
  ge: { arity: 2, fn: ([a, b]) => compareValues("ge", a, b) >= 0 },
  urlquery: { fn: (args) => encodeURIComponent(args.map(str).join("")).replace(/%20/g, "+") },
};

/** What an alert's labels and annotations are expanded with. */
export interface AlertTemplateData {
  labels: Readonly<Record<string, string>>;
  externalLabels: Readonly<Record<string, string>>;
  externalURL: string;
  value: number;
}

/** Parses a label or annotation template as Prometheus does at load time; throws TemplateError. */
export function parseAlertTemplate(ruleName: string, text: string): GoTemplate {
  return GoTemplate.parse(`__alert_${ruleName}`, text, ALERT_TEMPLATE_FUNCTIONS);
}

/** Expands one template; a failure becomes the text Prometheus puts in its place. */
export function expandAlertTemplate(
  template: GoTemplate | string,
  ruleName: string,
  data: AlertTemplateData,
): string {
  try {
    const tmpl = typeof template === "string" ? parseAlertTemplate(ruleName, template) : template;
    const labels = GoMap.of(data.labels);
    const externalLabels = GoMap.of(data.externalLabels);
    const dot = new GoStruct(
      "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
      new Map<string, GoValue>([
        ["Labels", labels],
        ["ExternalLabels", externalLabels],
        ["ExternalURL", data.externalURL],
        ["Value", data.value],
      ]),
    );
    return tmpl.execute(dot, {
      $labels: labels,
      $externalLabels: externalLabels,
      $externalURL: data.externalURL,
      $value: data.value,
    });
  } catch (error) {
    if (error instanceof TemplateError) return `<error expanding template: ${error.message}>`;
    throw error;
  }
}
