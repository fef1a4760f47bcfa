import { compareStrings, type Label } from "../../promql/index.js";
import {
  type ExposedSample,
  ExpositionError,
  METRIC_NAME_RE,
  type MetricMetadata,
  type MetricType,
  type ParsedPage,
} from "./exposition.js";
import { isNameChar, parseLabelSet } from "./openmetrics-parser.js";

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  counter: "counter",
  gauge: "gauge",
  histogram: "histogram",
  summary: "summary",
  untyped: "unknown",
};

const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;

/** A value as Go's strconv.ParseFloat reads it: decimal, hexadecimal with a p exponent, ±Inf, NaN. */
export function parseGoFloat(text: string): number | null {
  if (DECIMAL_RE.test(text)) return Number(text);
  const special = SPECIAL_RE.exec(text);
  if (special !== null) {
    if ((special[2] as string).toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  const hex = HEX_RE.exec(text);
  if (hex !== null) {
    const whole = hex[2] ?? "";
    const fraction = hex[3] ?? "";
    if (whole === "" && fraction === "") return null;
    const mantissa = Number.parseInt(`${whole}${fraction}` || "0", 16) / 16 ** fraction.length;
    const value = mantissa * 2 ** Number(hex[4]);
    return hex[1] === "-" ? -value : value;
  }
  return null;
}

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t";
}

/**
 * The Prometheus text format 0.0.4 as Prometheus's own parser reads it: `# HELP` and `# TYPE` lines, other
 * comments and blank lines ignored, spaces or tabs between tokens, an optional trailing comma in label sets,
 * timestamps in integer milliseconds. Histograms and summaries are their plain series.
 */
export function parsePrometheusText(text: string): ParsedPage {
  const samples: ExposedSample[] = [];
  const byName = new Map<string, { type: MetricType; help: string }>();
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    const lineNo = index + 1;
    const fail = (reason: string): never => {
      throw new ExpositionError(lineNo, reason);
    };
    let i = 0;
    while (isSpace(line[i])) i++;
    if (i === line.length) continue;
    if (line[i] === "#") {
      const words = line
        .slice(i + 1)
        .trimStart()
        .split(/[ \t]+/);
      const keyword = words[0];
      if (keyword !== "HELP" && keyword !== "TYPE") continue;
      const match = /^#[ \t]*(?:HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line.slice(i));
      if (match === null) fail(`# ${keyword} needs a metric name`);
      const [, name, rest] = match as RegExpExecArray;
      if (!METRIC_NAME_RE.test(name as string)) fail(`invalid metric name ${JSON.stringify(name)}`);
      const entry = byName.get(name as string) ?? { type: "unknown" as MetricType, help: "" };
      if (keyword === "HELP") {
        entry.help = (rest ?? "").replace(/\\([\\n])/g, (_m, ch: string) => (ch === "n" ? "\n" : "\\"));
      } else {
        const type = TEXT_TYPES[(rest ?? "").trim()];
        if (type === undefined) fail(`unknown metric type ${JSON.stringify(rest ?? "")}`);
        entry.type = type as MetricType;
      }
      byName.set(name as string, entry);
      continue;
    }
    const nameStart = i;
    while (i < line.length && isNameChar(line.charCodeAt(i))) i++;
    const name = line.slice(nameStart, i);
    if (!METRIC_NAME_RE.test(name)) fail(`invalid metric name ${JSON.stringify(name)}`);
    const labels: Label[] = [{ name: "__name__", value: name }];
    let brace = i;
    while (isSpace(line[brace])) brace++;
    if (line[brace] === "{") {
      const parsed = parseLabelSet(line, brace + 1, fail, { trailingComma: true, spaces: true });
      for (const [n, v] of parsed.labels) {
        if (n === "__name__") fail("__name__ may not be a label in the label set");
        if (v !== "") labels.push({ name: n, value: v });
      }
      i = parsed.end;
    }
    const rest = line.slice(i);
    if (!isSpace(rest[0])) fail("expected whitespace before the value");
    const tokens = rest.trim().split(/[ \t]+/);
    if (tokens.length > 2 || tokens[0] === "") fail("expected a value and an optional timestamp");
    const value = parseGoFloat(tokens[0] as string);
    if (value === null) fail(`invalid value ${JSON.stringify(tokens[0])}`);
    labels.sort((a, b) => compareStrings(a.name, b.name));
    const ts = tokens[1];
    if (ts !== undefined) {
      if (!/^[+-]?\d+$/.test(ts)) fail(`invalid timestamp ${JSON.stringify(ts)}: milliseconds as an integer`);
      samples.push({ labels, value: value as number, timestampMs: Number(ts) });
    } else samples.push({ labels, value: value as number });
  }
  const metadata: MetricMetadata[] = [...byName].map(([name, m]) => ({
    name,
    type: m.type,
    help: m.help,
    unit: "",
  }));
  return { format: "prometheus-text", samples, metadata };
}
