/**
 * Go's `fmt` number formatting, as alert templates print values: `{{ $value }}` uses `%v` (shortest digits,
 * exponent form from 1e+06 up and below 1e-04), `humanize` uses `%.4g`, `printf` takes Go verbs.
 */

/** toExponential, but an exact tie rounds half to even as Go's strconv does (JavaScript rounds it up). */
function toExponentialGo(v: number, fracDigits: number): string {
  const normal = v.toExponential(fracDigits);
  if (fracDigits + 30 > 100) return normal;
  const [m = "", e = ""] = v.toExponential(fracDigits + 30).split("e");
  const digits = m.replace("-", "").replace(".", "");
  if (!/^50*$/.test(digits.slice(fracDigits + 1))) return normal;
  const kept = digits.slice(0, fracDigits + 1);
  if (Number(kept[kept.length - 1]) % 2 === 1) return normal;
  return `${m.startsWith("-") ? "-" : ""}${kept[0] ?? ""}${fracDigits > 0 ? `.${kept.slice(1)}` : ""}e${e}`;
}

/** toFixed with Go's half-to-even rounding of exact ties. */
function toFixedGo(v: number, frac: number): string {
  const normal = v.toFixed(frac);
  if (frac + 30 > 100 || Math.abs(v) >= 1e21) return normal;
  const [intPart = "", fracPart = ""] = v.toFixed(frac + 30).split(".");
  if (!/^50*$/.test(fracPart.slice(frac))) return normal;
  const last = frac > 0 ? fracPart[frac - 1] : intPart[intPart.length - 1];
  if (Number(last) % 2 === 1) return normal;
  return frac > 0 ? `${intPart}.${fracPart.slice(0, frac)}` : intPart;
}

/** Go's `%v`/`%g` for a float64, with `prec` significant digits (-1: the shortest exact representation). */
export function formatGoG(v: number, prec = -1): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  const p = prec === 0 ? 1 : prec;
  const exp = p < 0 ? v.toExponential() : toExponentialGo(v, p - 1);
  const [mantissa = "0", e = "0"] = exp.split("e");
  const x = Number(e);
  const eprec = p < 0 ? 6 : p;
  if (x < -4 || x >= eprec)
    return `${trimZeros(mantissa)}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
  if (p < 0) return Object.is(v, -0) ? "-0" : String(v);
  return trimZeros(toFixedGo(v, Math.max(p - 1 - x, 0)));
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** Go's `%e` with `prec` digits after the point (default 6; -1: the shortest exact digits). */
export function formatGoE(v: number, prec = 6): string {
  if (!Number.isFinite(v)) return formatGoG(v);
  const [mantissa = "0", e = "0"] = (prec < 0 ? v.toExponential() : toExponentialGo(v, prec)).split("e");
  const x = Number(e);
  return `${mantissa}e${x < 0 ? "-" : "+"}${String(Math.abs(x)).padStart(2, "0")}`;
}

/** Go's `%f` with `prec` digits after the point (default 6). */
export function formatGoF(v: number, prec = 6): string {
  if (!Number.isFinite(v)) return formatGoG(v);
  if (Math.abs(v) >= 1e21) {
    // toFixed switches to exponent form past 1e21; BigInt keeps the integer digits exact.
    return `${BigInt(Math.trunc(v)).toString()}${prec > 0 ? `.${"0".repeat(prec)}` : ""}`;
  }
  return toFixedGo(v, prec);
}

/** What Go's `fmt.Sprint` writes for a template value. */
export type GoValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | undefined
  | GoMap
  | GoStruct
  | readonly GoValue[];

/** A `map[string]string` (labels) or any other string-keyed map; Go prints it with sorted keys. */
export class GoMap {
  constructor(readonly entries: ReadonlyMap<string, GoValue>) {}
  static of(record: Readonly<Record<string, string>>): GoMap {
    return new GoMap(new Map(Object.entries(record)));
  }
  sortedKeys(): string[] {
    return [...this.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** A struct: fields by name, as the template's `.Labels`, `.Value`… */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: ReadonlyMap<string, GoValue>,
  ) {}
}

/** A Go method a template can call as `.Name` (Alertmanager's `Alerts.Firing`, `KV.SortedPairs`…). */
export interface GoMethod {
  arity: number;
  fn: (args: readonly GoValue[]) => GoValue;
}

/** The Go type of a value that has methods: its name, for errors, and its methods by name. */
export interface GoMethodSet {
  typeName: string;
  methods: Readonly<Record<string, GoMethod>>;
}

// Kept beside the values rather than in them, so that plain arrays stay arrays for range, len and index.
const METHOD_SETS = new WeakMap<object, GoMethodSet>();

/** Gives a map, struct or list Go methods; a `String` method is what printing the value writes, as in Go. */
export function withMethods<T extends GoMap | GoStruct | readonly GoValue[]>(value: T, set: GoMethodSet): T {
  METHOD_SETS.set(value, set);
  return value;
}

export function methodSetOf(value: GoValue): GoMethodSet | undefined {
  return typeof value === "object" && value !== null ? METHOD_SETS.get(value) : undefined;
}

export function sprintGo(value: GoValue): string {
  const stringer = methodSetOf(value)?.methods.String;
  if (stringer !== undefined && stringer.arity === 0) return sprintGo(stringer.fn([]));
  if (value === undefined) return "<no value>";
  if (value === null) return "<nil>";
  if (typeof value === "string") return value;
  if (typeof value === "number") return formatGoG(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof GoMap)
    return `map[${value
      .sortedKeys()
      .map((k) => `${k}:${sprintGo(value.entries.get(k))}`)
      .join(" ")}]`;
  if (value instanceof GoStruct) return `{${[...value.fields.values()].map(sprintGo).join(" ")}}`;
  return `[${value.map(sprintGo).join(" ")}]`;
}

export function goTypeName(value: GoValue): string {
  const set = methodSetOf(value);
  if (set !== undefined) return set.typeName;
  if (value === undefined || value === null) return "<nil>";
  if (typeof value === "string") return "string";
  if (typeof value === "number") return "float64";
  if (typeof value === "bigint") return "int";
  if (typeof value === "boolean") return "bool";
  if (value instanceof GoMap) return "map[string]string";
  if (value instanceof GoStruct) return value.typeName;
  return "[]interface {}";
}

/** Go's `fmt.Sprintf` for the verbs templates use: %s %q %v %d %f %F %e %g %x %X %t %%, flags, width, precision. */
export function sprintfGo(format: string, args: readonly GoValue[]): string {
  let out = "";
  let argIndex = 0;
  const verbRe = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/y;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf("%", i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    verbRe.lastIndex = pct;
    const m = verbRe.exec(format);
    if (m === null) {
      out += "%!(NOVERB)";
      break;
    }
    i = verbRe.lastIndex;
    const flags = m[1] ?? "";
    const verb = m[4] ?? "v";
    if (verb === "%") {
      out += "%";
      continue;
    }
    const takeInt = (spec: string | undefined): number | undefined => {
      if (spec === undefined) return undefined;
      if (spec !== "*") return Number(spec);
      const a = args[argIndex++];
      return typeof a === "bigint" ? Number(a) : undefined;
    };
    const width = takeInt(m[2]);
    const precision = m[3] === undefined && format[verbRe.lastIndex - 2] === "." ? 0 : takeInt(m[3]);
    if (argIndex >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argIndex++];
    out += pad(formatVerb(verb, flags, precision, arg), width, flags);
  }
  if (argIndex < args.length) {
    out += `%!(EXTRA ${args
      .slice(argIndex)
      .map((a) => `${goTypeName(a)}=${sprintGo(a)}`)
      .join(", ")})`;
  }
  return out;
}

function pad(text: string, width: number | undefined, flags: string): string {
  if (width === undefined || text.length >= width) return text;
  if (flags.includes("-")) return text.padEnd(width);
  if (flags.includes("0") && /^[+-]?[\d.]/.test(text)) {
    const sign = /^[+-]/.test(text) ? (text[0] as string) : "";
    return sign + text.slice(sign.length).padStart(width - sign.length, "0");
  }
  return text.padStart(width);
}

function withSign(text: string, flags: string): string {
  if (text.startsWith("-") || text.startsWith("+")) return text;
  if (flags.includes("+")) return `+${text}`;
  if (flags.includes(" ")) return ` ${text}`;
  return text;
}

function formatVerb(verb: string, flags: string, precision: number | undefined, arg: GoValue): string {
  const bad = () => `%!${verb}(${goTypeName(arg)}=${sprintGo(arg)})`;
  switch (verb) {
    case "v":
      return typeof arg === "number" ? withSign(formatGoG(arg), flags) : sprintGo(arg);
    case "s":
      return typeof arg === "number" || typeof arg === "bigint" ? bad() : sprintGo(arg);
    case "q":
      return typeof arg === "string" ? JSON.stringify(arg) : bad();
    case "t":
      return typeof arg === "boolean" ? String(arg) : bad();
    case "d":
      return typeof arg === "bigint" ? withSign(arg.toString(), flags) : bad();
    case "x":
    case "X": {
      let text: string;
      if (typeof arg === "bigint") text = arg.toString(16);
      else if (typeof arg === "string") text = Buffer.from(arg, "utf8").toString("hex");
      else return bad();
      return verb === "X" ? text.toUpperCase() : text;
    }
    case "f":
    case "F":
      return typeof arg === "number" ? withSign(formatGoF(arg, precision ?? 6), flags) : bad();
    case "e":
    case "E": {
      if (typeof arg !== "number") return bad();
      const text = withSign(formatGoE(arg, precision ?? 6), flags);
      return verb === "E" ? text.toUpperCase() : text;
    }
    case "g":
    case "G": {
      if (typeof arg !== "number") return bad();
      const text = withSign(formatGoG(arg, precision ?? -1), flags);
      return verb === "G" ? text.toUpperCase() : text;
    }
    default:
      return bad();
  }
}
