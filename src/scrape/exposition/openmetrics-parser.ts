import { CLASSIC_LABEL_NAME, compareStrings, type Label } from "../../promql/index.js";
import {
  type ExposedSample,
  ExpositionError,
  METRIC_NAME_RE,
  type MetricMetadata,
  type MetricType,
  type ParsedPage,
} from "./exposition.js";

/** Label pairs in the order written; values unescaped, empty ones kept (a stateset may need them). */
type RawLabels = Array<readonly [string, string]>;

interface OmSample {
  name: string;
  labels: RawLabels;
  value: number;
  /** Seconds, as written; null without one. */
  ts: number | null;
  exemplar: boolean;
  line: number;
}

const TYPES = new Set<MetricType>([
  "counter",
  "gauge",
  "histogram",
  "gaugehistogram",
  "summary",
  "info",
  "stateset",
  "unknown",
]);

const TYPE_SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  counter: ["_total", "_created"],
  summary: ["", "_count", "_sum", "_created"],
  histogram: ["_count", "_sum", "_bucket", "_created"],
  gaugehistogram: ["_gcount", "_gsum", "_bucket"],
  info: ["_info"],
};

const COUNTER_LIKE = new Set(["_total", "_sum", "_count", "_bucket", "_gcount", "_gsum"]);
const NUMBER_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;
const TIMESTAMP_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MAX_EXEMPLAR_LABEL_CHARS = 128;

/** An OpenMetrics number: decimal, or ±Inf/Infinity/NaN in any case; no hex, no underscores, no spaces. */
export function parseOmNumber(text: string): number | null {
  if (!NUMBER_RE.test(text)) return null;
  const lower = text.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.includes("inf")) return lower.startsWith("-") ? -Infinity : Infinity;
  return Number(text);
}

class Family {
  type: MetricType | null = null;
  help: string | null = null;
  unit: string | null = null;
  allowed: string[];
  readonly samples: OmSample[] = [];
  group: string | null = null;
  readonly seenGroups = new Set<string>();
  groupTs: number | null = null;

  constructor(
    readonly name: string,
    type: MetricType | null = null,
  ) {
    this.type = type;
    this.allowed = [name];
  }
}

/**
 * The OpenMetrics 1.0 text format, as strictly as the reference parser that the OpenMetrics test suite was
 * written against: `# EOF` last, no blank lines, metadata before a family's samples and at most once, typed
 * suffixes (`_total`, `_bucket`…), grouped and ordered samples, valid histograms, exemplars only where allowed.
 * Exemplars are checked and dropped; timestamps are seconds and come out in milliseconds.
 */
export function parseOpenMetrics(text: string): ParsedPage {
  const lines = text.split("\n");
  let end = lines.length;
  if (lines[end - 1] === "") end--;
  const samples: ExposedSample[] = [];
  const metadata: MetricMetadata[] = [];
  const seenNames = new Set<string>();
  let family: Family | null = null;
  let eof = false;

  const finish = (f: Family, line: number) => {
    const type = f.type ?? "unknown";
    for (const suffix of new Set([...(TYPE_SUFFIXES[type] ?? []), ""])) {
      const name = f.name + suffix;
      if (seenNames.has(name))
        throw new ExpositionError(line, `metric name ${name} clashes with an earlier family`);
      seenNames.add(name);
    }
    const unit = f.unit ?? "";
    if (unit !== "" && !f.name.endsWith(`_${unit}`))
      throw new ExpositionError(line, `metric ${f.name} does not end with its unit _${unit}`);
    if (unit !== "" && (type === "info" || type === "stateset"))
      throw new ExpositionError(line, `a ${type} metric has no unit (${f.name})`);
    if (type === "histogram" || type === "gaugehistogram") checkHistogram(f);
    metadata.push({ name: f.name, type, help: f.help ?? "", unit });
    for (const s of f.samples) samples.push(toExposed(s));
  };

  for (let index = 0; index < end; index++) {
    const line = lines[index] as string;
    const lineNo = index + 1;
    const fail = (reason: string): never => {
      throw new ExpositionError(lineNo, reason);
    };
    if (eof) fail("text after # EOF");
    if (line === "") fail("blank line");
    if (line === "# EOF") {
      eof = true;
      continue;
    }
    if (line.startsWith("#")) {
      const parts = splitMetadata(line);
      if (parts === null) fail(`not a # HELP, # TYPE or # UNIT line: ${JSON.stringify(line)}`);
      const [keyword, name, rest] = parts as [string, string, string];
      if (!METRIC_NAME_RE.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
      if (family !== null && family.name === name && family.samples.length > 0)
        fail(`# ${keyword} for ${name} after its samples`);
      if (family === null || family.name !== name) {
        if (family !== null) finish(family, lineNo);
        family = new Family(name);
      }
      const f: Family = family;
      if (keyword === "HELP") {
        if (f.help !== null) fail(`second # HELP for ${name}`);
        f.help = unescapeHelp(rest);
      } else if (keyword === "TYPE") {
        if (f.type !== null) fail(`second # TYPE for ${name}`);
        if (!TYPES.has(rest as MetricType)) fail(`unknown metric type ${JSON.stringify(rest)}`);
        f.type = rest as MetricType;
        f.allowed = (TYPE_SUFFIXES[f.type] ?? [""]).map((s) => name + s);
      } else if (keyword === "UNIT") {
        if (f.unit !== null) fail(`second # UNIT for ${name}`);
        f.unit = rest;
      } else fail(`unknown metadata keyword # ${keyword}`);
      continue;
    }
    const sample = parseSampleLine(line, lineNo);
    if (family === null || !family.allowed.includes(sample.name)) {
      if (family !== null) finish(family, lineNo);
      family = new Family(sample.name, "unknown");
    }
    checkSample(family, sample, fail);
  }
  if (family !== null) finish(family, end + 1);
  if (!eof) throw new ExpositionError(end + 1, "missing # EOF at the end");
  return { format: "openmetrics", samples, metadata };
}

/** `# KEYWORD name rest`: exactly single spaces, a rest that may be empty but must be there. */
function splitMetadata(line: string): [string, string, string] | null {
  const a = line.indexOf(" ");
  if (a !== 1) return null;
  const b = line.indexOf(" ", a + 1);
  if (b < 0) return null;
  const c = line.indexOf(" ", b + 1);
  if (c < 0) return null;
  return [line.slice(a + 1, b), line.slice(b + 1, c), line.slice(c + 1)];
}

function unescapeHelp(text: string): string {
  return text.replace(/\\([\\n"])/g, (_m, ch: string) => (ch === "n" ? "\n" : ch));
}

function labelOf(labels: RawLabels, name: string): string | undefined {
  for (const [n, v] of labels) if (n === name) return v;
  return undefined;
}

function groupKey(sample: OmSample, f: Family): string {
  const type = f.type;
  if (type === "info") return "";
  let drop: string | null = null;
  if (type === "summary" && sample.name === f.name) drop = "quantile";
  else if (type === "stateset") drop = f.name;
  else if ((type === "histogram" || type === "gaugehistogram") && sample.name === `${f.name}_bucket`)
    drop = "le";
  return labelSetKey(sample.labels, drop);
}

/** An identity for a label set regardless of its order, leaving out one label name. */
function labelSetKey(labels: RawLabels, drop: string | null): string {
  const kept = labels.length < 2 ? labels : [...labels].sort((a, b) => compareStrings(a[0], b[0]));
  let key = "";
  for (const [n, v] of kept) if (n !== drop) key += `${n}\u0001${v}\u0000`;
  return key;
}

function checkSample(f: Family, s: OmSample, fail: (reason: string) => never): void {
  const type = f.type;
  if (type === "stateset" && labelOf(s.labels, f.name) === undefined)
    fail(`stateset sample without its ${f.name} label`);
  if ((type === "histogram" || type === "gaugehistogram") && s.name === `${f.name}_bucket`) {
    const le = labelOf(s.labels, "le");
    const bound = le === undefined ? null : parseOmNumber(le);
    if (bound === null || Number.isNaN(bound) || (bound === Infinity && le !== "+Inf"))
      fail(`bucket with a missing or invalid le label`);
  }
  if (type === "summary" && s.name === f.name) {
    const text = labelOf(s.labels, "quantile");
    const q = text === undefined ? null : parseOmNumber(text);
    if (q === null || !(q >= 0 && q <= 1)) fail("quantile label missing or not between 0 and 1");
  }
  const g = groupKey(s, f);
  if (f.group !== null && g !== f.group && f.seenGroups.has(g))
    fail("samples of one series group are not together");
  if (f.group !== null && g === f.group) {
    if ((s.ts === null) !== (f.groupTs === null)) fail("a group mixes samples with and without timestamps");
    if (f.groupTs !== null && s.ts !== null && f.groupTs > s.ts && type !== "info")
      fail("timestamps went backwards within a group");
  }
  f.samples.push(s);
  f.group = g;
  f.groupTs = s.ts;
  f.seenGroups.add(g);

  if (type === "stateset" && s.value !== 0 && s.value !== 1) fail("stateset values are 0 or 1");
  if (type === "info" && s.value !== 1) fail("info values are 1");
  if (type === "summary" && s.name === f.name && s.value < 0) fail("quantile values cannot be negative");
  const suffix = s.name.slice(f.name.length);
  if (COUNTER_LIKE.has(suffix) && Number.isNaN(s.value)) fail(`${s.name} cannot be NaN`);
  if (COUNTER_LIKE.has(suffix) && suffix !== "_gsum" && s.value < 0) fail(`${s.name} cannot be negative`);
  if (
    s.exemplar &&
    !(
      ((type === "histogram" || type === "gaugehistogram") && s.name.endsWith("_bucket")) ||
      (type === "counter" && s.name.endsWith("_total"))
    )
  )
    fail("only histogram buckets and counter totals may have exemplars");
}

/** Per group (and timestamp): increasing bounds ending at +Inf, cumulative counts, _count/_sum coherent. */
function checkHistogram(f: Family): void {
  let group: string | null = null;
  let ts: number | null | undefined;
  let count: number | null = null;
  let bucket: number | null = null;
  let value = 0;
  let negativeBuckets = false;
  let hasSum = false;
  let hasGsum = false;
  let negativeGsum = false;
  let line = 0;
  const fail = (reason: string): never => {
    throw new ExpositionError(line, `histogram ${f.name}: ${reason}`);
  };
  const check = () => {
    if (bucket !== Infinity) fail("the +Inf bucket is missing");
    if (count !== null && value !== count) fail("_count does not match the +Inf bucket");
    if (hasSum && count === null) fail("_count must be present with _sum");
    if (hasGsum && count === null) fail("_gcount must be present with _gsum");
    if (!(hasSum || hasGsum) && count !== null) fail("_sum must be present with _count");
    if (negativeBuckets && hasSum) fail("no _sum with negative buckets");
    if (!negativeBuckets && negativeGsum) fail("a negative _gsum needs negative buckets");
  };
  for (const s of f.samples) {
    const suffix = s.name.slice(f.name.length);
    const g = labelSetKey(s.labels, suffix === "_bucket" ? "le" : null);
    if (g !== group || s.ts !== ts) {
      if (group !== null) check();
      count = null;
      bucket = null;
      negativeBuckets = false;
      hasSum = false;
      hasGsum = false;
      negativeGsum = false;
      value = 0;
    }
    group = g;
    ts = s.ts;
    line = s.line;
    if (suffix === "_bucket") {
      const b = parseOmNumber(labelOf(s.labels, "le") ?? "") ?? Number.NaN;
      if (b < 0) negativeBuckets = true;
      if (bucket !== null && b <= bucket) fail("buckets out of order");
      if (s.value < value) fail("bucket counts decrease");
      bucket = b;
      value = s.value;
    } else if (suffix === "_count" || suffix === "_gcount") count = s.value;
    else if (suffix === "_sum") hasSum = true;
    else if (suffix === "_gsum") {
      hasGsum = true;
      if (s.value < 0) negativeGsum = true;
    }
  }
  if (group !== null) check();
}

function toExposed(s: OmSample): ExposedSample {
  const labels: Label[] = [{ name: "__name__", value: s.name }];
  for (const [name, value] of s.labels) if (value !== "") labels.push({ name, value });
  labels.sort((a, b) => compareStrings(a.name, b.name));
  return s.ts === null
    ? { labels, value: s.value }
    : { labels, value: s.value, timestampMs: Math.trunc(s.ts * 1000) };
}

export function isNameChar(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 95 ||
    code === 58
  );
}

/** `{name="value",…}` from just after the brace; returns the labels and the index after the closing brace. */
export function parseLabelSet(
  line: string,
  start: number,
  fail: (reason: string) => never,
  options: { trailingComma: boolean; spaces: boolean },
): { labels: RawLabels; end: number } {
  const labels: RawLabels = [];
  let i = start;
  const skip = () => {
    if (options.spaces) while (line[i] === " " || line[i] === "\t") i++;
  };
  skip();
  if (line[i] === "}") return { labels, end: i + 1 };
  for (;;) {
    const nameStart = i;
    while (i < line.length && isNameChar(line.charCodeAt(i)) && line[i] !== ":") i++;
    const name = line.slice(nameStart, i);
    if (!CLASSIC_LABEL_NAME.test(name)) fail(`invalid label name ${JSON.stringify(name)}`);
    skip();
    if (line[i] !== "=") fail(`expected = after label ${name}`);
    i++;
    skip();
    if (line[i] !== '"') fail(`label ${name}'s value must be in double quotes`);
    i++;
    let value = "";
    let closed = false;
    let from = i;
    // Whole runs of plain characters are sliced at once; only escapes are handled one by one.
    while (i < line.length) {
      const code = line.charCodeAt(i);
      if (code === 34) {
        value += line.slice(from, i);
        closed = true;
        i++;
        break;
      }
      if (code === 92) {
        const next = line[i + 1];
        if (next === undefined) break;
        value +=
          line.slice(from, i) + (next === "n" ? "\n" : next === "\\" || next === '"' ? next : `\\${next}`);
        i += 2;
        from = i;
        continue;
      }
      i++;
    }
    if (!closed) fail(`label ${name}'s value is not closed`);
    if (labels.some(([n]) => n === name)) fail(`duplicate label name ${name}`);
    labels.push([name, value]);
    skip();
    if (line[i] === ",") {
      i++;
      skip();
      if (options.trailingComma && line[i] === "}") return { labels, end: i + 1 };
      continue;
    }
    if (line[i] === "}") return { labels, end: i + 1 };
    fail("expected , or } in the label set");
  }
}

function parseSampleLine(line: string, lineNo: number): OmSample {
  const fail = (reason: string): never => {
    throw new ExpositionError(lineNo, reason);
  };
  const strict = { trailingComma: false, spaces: false };
  let i = 0;
  while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
  const name = line.slice(0, i);
  if (!METRIC_NAME_RE.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
  let labels: RawLabels = [];
  if (line[i] === "{") {
    const parsed = parseLabelSet(line, i + 1, fail, strict);
    labels = parsed.labels;
    i = parsed.end;
  }
  if (line[i] !== " ") fail("expected one space before the value");
  i++;
  const token = (): string => {
    let j = line.indexOf(" ", i);
    if (j < 0) j = line.length;
    const t = line.slice(i, j);
    i = j;
    return t;
  };
  const number = (text: string, what: string): number => {
    const v = parseOmNumber(text);
    if (v === null) fail(`invalid ${what} ${JSON.stringify(text)}`);
    return v as number;
  };
  const timestamp = (text: string): number => {
    if (!TIMESTAMP_RE.test(text)) fail(`invalid timestamp ${JSON.stringify(text)}`);
    return Number(text);
  };
  const value = number(token(), "value");
  let ts: number | null = null;
  let exemplar = false;
  if (i < line.length) {
    i++;
    if (line[i] !== "#") {
      ts = timestamp(token());
      if (i < line.length) {
        i++;
        if (line[i] !== "#") fail("unexpected text after the timestamp");
      }
    }
    if (i < line.length) {
      if (!line.startsWith("# {", i)) fail('an exemplar starts with "# {"');
      const parsed = parseLabelSet(line, i + 3, fail, strict);
      let chars = 0;
      for (const [n, v] of parsed.labels) chars += [...n].length + [...v].length;
      if (chars > MAX_EXEMPLAR_LABEL_CHARS) fail("exemplar labels longer than 128 characters");
      i = parsed.end;
      if (line[i] !== " ") fail("expected a space before the exemplar value");
      i++;
      number(token(), "exemplar value");
      if (i < line.length) {
        i++;
        timestamp(line.slice(i));
      }
      exemplar = true;
    }
  }
  return { name, labels, value, ts, exemplar, line: lineNo };
}
