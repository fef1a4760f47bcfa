import { type Labels, labelsFrom } from "../labels.js";
import { parseDuration, parseNumber, unquoteString } from "../parse/literals.js";

/**
 * Parser for Prometheus's promqltest scripting language (`load`, `clear`, `eval …`), as documented in
 * prometheus/prometheus `promql/promqltest/README.md`.
 */

/** One value of a series definition: a float, a staleness marker, a native histogram, or nothing. */
export type SequenceValue =
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "stale" }
  | { readonly kind: "histogram" }
  | { readonly kind: "omitted" };

export interface SeriesDefinition {
  readonly labels: Labels;
  readonly values: readonly SequenceValue[];
  readonly line: number;
}

export interface LoadCommand {
  readonly kind: "load";
  readonly stepMs: number;
  readonly withNhcb: boolean;
  readonly series: readonly SeriesDefinition[];
  readonly line: number;
}

export interface ClearCommand {
  readonly kind: "clear";
  readonly line: number;
}

export interface Expectation {
  readonly type: "fail" | "warn" | "no_warn" | "info" | "no_info" | "ordered";
  readonly message?: string;
  readonly regex?: RegExp;
}

export interface EvalCommand {
  readonly kind: "eval";
  readonly line: number;
  readonly expr: string;
  readonly range: { readonly start: number; readonly end: number; readonly step: number } | undefined;
  /** Instant evaluation time (ms). */
  readonly at: number;
  readonly modifier: "fail" | "warn" | "ordered" | "info" | undefined;
  readonly expectedFailMessage: string | undefined;
  readonly expectedFailRegexp: RegExp | undefined;
  readonly expectations: readonly Expectation[];
  /** A bare number on the first expectation line. */
  readonly expectedScalar: number | undefined;
  /** Expected series with their position (1-based) among the expected lines. */
  readonly expectedSeries: ReadonlyArray<SeriesDefinition & { readonly position: number }>;
  readonly expectsHistograms: boolean;
}

export type TestCommand = LoadCommand | ClearCommand | EvalCommand;

export class TestFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const PAT_LOAD = /^load(?:_(with_nhcb))?\s+(.+?)$/;
const PAT_EVAL_INSTANT = /^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;
const PAT_EVAL_RANGE = /^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$/;
const PAT_EXPECT = /^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$/;

function duration(text: string, line: number): number {
  const d = parseDuration(text.trim());
  if (d === undefined) throw new TestFileError(line, `invalid duration ${JSON.stringify(text)}`);
  return d;
}

export function parseTestFile(input: string): TestCommand[] {
  const lines = input.split("\n").map((l) => {
    const t = l.trim();
    return t.startsWith("#") ? "" : t;
  });
  const cmds: TestCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l === "") continue;
    const word = (l.split(/[\t ]+/, 1)[0] ?? "").toLowerCase();
    if (word === "clear") cmds.push({ kind: "clear", line: i + 1 });
    else if (word.startsWith("load")) {
      const m = PAT_LOAD.exec(l);
      if (m === null)
        throw new TestFileError(i + 1, "invalid load command. (load[_with_nhcb] <step:duration>)");
      const stepMs = duration(m[2] ?? "", i + 1);
      const series: SeriesDefinition[] = [];
      const start = i + 1;
      while (i + 1 < lines.length && lines[i + 1] !== "") {
        i++;
        series.push(parseSeriesLine(lines[i] as string, i + 1));
      }
      cmds.push({ kind: "load", stepMs, withNhcb: m[1] === "with_nhcb", series, line: start });
    } else if (word.startsWith("eval")) {
      const parsed = parseEval(lines, i);
      cmds.push(parsed.cmd);
      i = parsed.next;
    } else throw new TestFileError(i + 1, `invalid command ${JSON.stringify(l)}`);
  }
  return cmds;
}

function parseEval(lines: readonly string[], index: number): { cmd: EvalCommand; next: number } {
  const line = index + 1;
  const l = lines[index] as string;
  const inst = PAT_EVAL_INSTANT.exec(l);
  const rng = inst === null ? PAT_EVAL_RANGE.exec(l) : null;
  if (inst === null && rng === null) throw new TestFileError(line, "invalid evaluation command");
  let expr: string;
  let at = 0;
  let range: EvalCommand["range"];
  let modifier: EvalCommand["modifier"];
  if (inst !== null) {
    modifier = inst[1] as EvalCommand["modifier"];
    at = duration(inst[2] ?? "0s", line);
    expr = inst[3] ?? "";
  } else {
    const r = rng as RegExpExecArray;
    modifier = r[1] as EvalCommand["modifier"];
    range = {
      start: duration(r[2] ?? "", line),
      end: duration(r[3] ?? "", line),
      step: duration(r[4] ?? "", line),
    };
    expr = r[5] ?? "";
  }
  let expectedFailMessage: string | undefined;
  let expectedFailRegexp: RegExp | undefined;
  const expectations: Expectation[] = [];
  let expectedScalar: number | undefined;
  const expectedSeries: Array<SeriesDefinition & { position: number }> = [];
  let expectsHistograms = false;
  let i = index;
  let position = 0;
  while (i + 1 < lines.length && lines[i + 1] !== "") {
    i++;
    const def = lines[i] as string;
    if (modifier === "fail" && def.startsWith("expected_fail_message")) {
      expectedFailMessage = def.slice("expected_fail_message".length).trim();
      break;
    }
    if (modifier === "fail" && def.startsWith("expected_fail_regexp")) {
      expectedFailRegexp = new RegExp(def.slice("expected_fail_regexp".length).trim());
      break;
    }
    if (def.split(" ")[0] === "expect") {
      const m = PAT_EXPECT.exec(def);
      if (m === null) throw new TestFileError(i + 1, "invalid expect statement");
      const type = m[1] as Expectation["type"];
      const text = m[3]?.trim();
      if (m[2] === "msg") expectations.push({ type, message: text ?? "" });
      else if (m[2] === "regex") expectations.push({ type, regex: new RegExp(text ?? "") });
      else expectations.push({ type });
      continue;
    }
    position++;
    const num = parseNumber(def);
    if (num !== undefined && !/\s/.test(def)) {
      expectedScalar = num;
      break;
    }
    const series = parseSeriesLine(def, i + 1);
    if (series.values.some((v) => v.kind === "histogram")) expectsHistograms = true;
    expectedSeries.push({ ...series, position });
  }
  return {
    cmd: {
      kind: "eval",
      line,
      expr,
      range,
      at,
      modifier,
      expectedFailMessage,
      expectedFailRegexp,
      expectations,
      expectedScalar,
      expectedSeries,
      expectsHistograms,
    },
    next: i,
  };
}

/** Parses `metric{label="value", …} <values…>`. */
export function parseSeriesLine(text: string, line: number): SeriesDefinition {
  let i = 0;
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  const pairs: Array<[string, string]> = [];
  if (nameMatch !== null) {
    pairs.push(["__name__", nameMatch[0]]);
    i = nameMatch[0].length;
  }
  while (text[i] === " " || text[i] === "\t") i++;
  if (text[i] === "{" && text[i + 1] !== "{") {
    i++;
    for (;;) {
      while (/[\s,]/.test(text[i] ?? "")) i++;
      if (text[i] === "}") {
        i++;
        break;
      }
      if (i >= text.length) throw new TestFileError(line, "unterminated label set");
      let name: string;
      const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/.exec(text.slice(i));
      if (quoted !== null) {
        name = unquoteString(quoted[0]);
        i += quoted[0].length;
      } else {
        const ident = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
        if (ident === null)
          throw new TestFileError(line, `bad label name at ${JSON.stringify(text.slice(i))}`);
        name = ident[0];
        i += ident[0].length;
      }
      while (/\s/.test(text[i] ?? "")) i++;
      if (text[i] !== "=") {
        // A lone quoted string is the metric name.
        pairs.push(["__name__", name]);
        continue;
      }
      i++;
      while (/\s/.test(text[i] ?? "")) i++;
      const value = /^("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/.exec(text.slice(i));
      if (value === null)
        throw new TestFileError(line, `bad label value at ${JSON.stringify(text.slice(i))}`);
      pairs.push([name, unquoteString(value[0])]);
      i += value[0].length;
    }
  }
  return { labels: labelsFrom(pairs), values: parseValues(text.slice(i), line), line };
}

/** Splits on whitespace, keeping `{{ … }}` histogram literals in one token. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of text) {
    if (ch === "{") depth++;
    if (ch === "}") depth--;
    if (depth === 0 && (ch === " " || ch === "\t")) {
      if (cur !== "") tokens.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur !== "") tokens.push(cur);
  return tokens;
}

function num(text: string): number | undefined {
  if (!/^[+-]?(\d|\.\d|inf|nan)/i.test(text) || /x/i.test(text)) return undefined;
  return parseNumber(text);
}

function parseValues(text: string, line: number): SequenceValue[] {
  const out: SequenceValue[] = [];
  for (const token of tokenize(text.trim())) {
    if (token.includes("{{")) {
      const rep = /\}\}x(\d+)$/.exec(token);
      const n = rep === null ? 1 : Number(rep[1]) + 1;
      for (let k = 0; k < n; k++) out.push({ kind: "histogram" });
      continue;
    }
    if (token === "_") {
      out.push({ kind: "omitted" });
      continue;
    }
    if (token === "stale") {
      out.push({ kind: "stale" });
      continue;
    }
    const omitted = /^_x(\d+)$/.exec(token);
    if (omitted !== null) {
      for (let k = 0; k < Number(omitted[1]); k++) out.push({ kind: "omitted" });
      continue;
    }
    const single = num(token);
    if (single !== undefined) {
      out.push({ kind: "float", value: single });
      continue;
    }
    const xIdx = token.lastIndexOf("x");
    const times = Number(token.slice(xIdx + 1));
    const base = token.slice(0, xIdx);
    if (xIdx <= 0 || !Number.isInteger(times))
      throw new TestFileError(line, `bad value ${JSON.stringify(token)}`);
    const plain = num(base);
    if (plain !== undefined) {
      for (let k = 0; k <= times; k++) out.push({ kind: "float", value: plain });
      continue;
    }
    let parsed: [number, number] | undefined;
    for (let p = 1; p < base.length && parsed === undefined; p++) {
      const c = base[p];
      if ((c !== "+" && c !== "-") || /[eE]/.test(base[p - 1] ?? "")) continue;
      const a = num(base.slice(0, p));
      const d = num(base.slice(p + 1));
      if (a !== undefined && d !== undefined) parsed = [a, c === "-" ? -d : d];
    }
    if (parsed === undefined) throw new TestFileError(line, `bad value ${JSON.stringify(token)}`);
    const [start, delta] = parsed;
    // Accumulate like Prometheus does, so that rounding matches its series.
    let v = start;
    for (let k = 0; k <= times; k++) {
      out.push({ kind: "float", value: v });
      v += delta;
    }
  }
  return out;
}
