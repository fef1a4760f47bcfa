import { readFile } from "node:fs/promises";
import { Engine, type QueryResult, type QueryValue } from "../eval/engine.js";
import { almostEqual } from "../eval/float-math.js";
import { compareLabels, formatLabels, type Labels, labelsKey } from "../labels.js";
import { matcherTest, MemoryStorage } from "../memory-storage.js";
import type { Expr, VectorSelector } from "../parse/ast.js";
import { AT_MODIFIER_UNSAFE_FUNCTIONS } from "../parse/functions.js";
import { parseExpr } from "../parse/parse-expr.js";
import { isPromqlError } from "../promql-error.js";
import { STALE_NAN } from "../storage.js";
import { type EvalCommand, type LoadCommand, parseTestFile, TestFileError } from "./parse-test-file.js";

export interface TestFailure {
  readonly line: number;
  readonly message: string;
}

export interface TestFileResult {
  readonly file: string;
  readonly passed: number;
  readonly failed: number;
  /** Evals that load or expect native histograms; never counted as passed. */
  readonly skipped: number;
  readonly failures: TestFailure[];
  readonly skips: TestFailure[];
}

const EPSILON = 1e-6;
const MINUTE = 60_000;

/**
 * Runs one promqltest `.test` file with the reference harness's rules: time starts at 0, 5m lookback,
 * 1m default subquery step, relative tolerance 1e-6, and every instant eval also run as a range query
 * from t-1m to t+1m (step 1m). Each `eval` counts once: it passes only if all of its variants pass.
 */
export async function runPromqlTestFile(path: string): Promise<TestFileResult> {
  const text = await readFile(path, "utf8");
  return runPromqlTest(text, path);
}

export async function runPromqlTest(text: string, file = "<input>"): Promise<TestFileResult> {
  const result = {
    file,
    passed: 0,
    failed: 0,
    skipped: 0,
    failures: [] as TestFailure[],
    skips: [] as TestFailure[],
  };
  let commands: ReturnType<typeof parseTestFile>;
  try {
    commands = parseTestFile(text);
  } catch (err) {
    const line = err instanceof TestFileError ? err.line : 0;
    result.failed++;
    result.failures.push({ line, message: `cannot parse test file: ${errorMessage(err)}` });
    return result;
  }
  const storage = new MemoryStorage();
  const engine = new Engine(storage, { maxSamples: 50_000_000, noStepSubqueryIntervalMs: MINUTE });
  const histogramSeries: Labels[] = [];
  let nhcbLoaded = false;
  for (const cmd of commands) {
    if (cmd.kind === "clear") {
      storage.clear();
      histogramSeries.length = 0;
      nhcbLoaded = false;
      continue;
    }
    if (cmd.kind === "load") {
      load(storage, cmd, histogramSeries);
      nhcbLoaded ||= cmd.withNhcb;
      continue;
    }
    const skipReason = skipReasonFor(cmd, histogramSeries, nhcbLoaded);
    if (skipReason !== undefined) {
      result.skipped++;
      result.skips.push({ line: cmd.line, message: skipReason });
      continue;
    }
    const failure = await runEval(engine, cmd);
    if (failure === undefined) result.passed++;
    else {
      result.failed++;
      result.failures.push({ line: cmd.line, message: failure });
    }
  }
  return result;
}

function load(storage: MemoryStorage, cmd: LoadCommand, histogramSeries: Labels[]): void {
  for (const s of cmd.series) {
    if (s.values.some((v) => v.kind === "histogram")) histogramSeries.push(s.labels);
    s.values.forEach((v, i) => {
      const t = i * cmd.stepMs;
      if (v.kind === "float") storage.append(s.labels, t, v.value);
      else if (v.kind === "stale") storage.append(s.labels, t, STALE_NAN);
    });
  }
}

function selectorsOf(expr: Expr): VectorSelector[] {
  const out: VectorSelector[] = [];
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "VectorSelector":
        out.push(e);
        return;
      case "MatrixSelector":
        out.push(e.selector);
        return;
      case "Subquery":
      case "Paren":
      case "Unary":
        visit(e.expr);
        return;
      case "Call":
        e.args.forEach(visit);
        return;
      case "Aggregate":
        visit(e.expr);
        if (e.param !== undefined) visit(e.param);
        return;
      case "Binary":
        visit(e.lhs);
        visit(e.rhs);
        return;
      default:
        return;
    }
  };
  visit(expr);
  return out;
}

function skipReasonFor(
  cmd: EvalCommand,
  histogramSeries: readonly Labels[],
  nhcbLoaded: boolean,
): string | undefined {
  if (nhcbLoaded) return "data loaded with load_with_nhcb (native histograms)";
  if (cmd.expectsHistograms) return "expects native histogram values";
  let expr: Expr;
  try {
    expr = parseExpr(cmd.expr);
  } catch {
    return undefined;
  }
  for (const vs of selectorsOf(expr)) {
    const tests = vs.matchers.map(matcherTest);
    const hit = histogramSeries.find((labels) => tests.every((t) => t(labels)));
    if (hit !== undefined) return `selects series with native histogram samples: ${formatLabels(hit)}`;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The reference harness also checks that pinning every selector with `@ <t>` gives the same result when
 * evaluated one minute earlier and later, unless a function makes the result depend on the step time.
 */
export function atModifierVariants(source: string, t: number): Array<{ query: string | Expr; time: number }> {
  const base = { query: source, time: t };
  let expr: Expr;
  try {
    expr = parseExpr(source);
  } catch {
    return [base];
  }
  let unsafe = false;
  const at = { kind: "timestamp", ms: t } as const;
  const pin = (e: Expr): Expr => {
    switch (e.kind) {
      case "VectorSelector":
        return e.at === undefined ? { ...e, at } : e;
      case "MatrixSelector":
        return e.selector.at === undefined ? { ...e, selector: { ...e.selector, at } } : e;
      case "Subquery":
        // Selectors inside a pinned subquery stay as they are; only look for unsafe functions there.
        pin(e.expr);
        return e.at === undefined ? { ...e, at } : e;
      case "Paren":
        return { ...e, expr: pin(e.expr) };
      case "Unary":
        return { ...e, expr: pin(e.expr) };
      case "Call":
        if (AT_MODIFIER_UNSAFE_FUNCTIONS.has(e.func)) unsafe = true;
        return { ...e, args: e.args.map(pin) };
      case "Aggregate":
        return { ...e, expr: pin(e.expr), param: e.param === undefined ? undefined : pin(e.param) };
      case "Binary":
        return { ...e, lhs: pin(e.lhs), rhs: pin(e.rhs) };
      default:
        return e;
    }
  };
  const pinned = pin(expr);
  if (unsafe) return [base];
  return [base, { query: pinned, time: t - MINUTE }, { query: pinned, time: t + MINUTE }];
}

async function runEval(engine: Engine, cmd: EvalCommand): Promise<string | undefined> {
  if (cmd.range !== undefined) return runOne(engine, cmd, cmd.expr, cmd.at);
  for (const variant of atModifierVariants(cmd.expr, cmd.at)) {
    const failure = await runOne(engine, cmd, variant.query, variant.time);
    if (failure !== undefined) {
      return variant.query === cmd.expr
        ? failure
        : `with @ ${cmd.at / 1000} at t=${variant.time / 1000}s: ${failure}`;
    }
  }
  return undefined;
}

async function runOne(
  engine: Engine,
  cmd: EvalCommand,
  query: string | Expr,
  time: number,
): Promise<string | undefined> {
  const expectFail = cmd.modifier === "fail" || cmd.expectations.some((e) => e.type === "fail");
  let res: QueryResult;
  try {
    if (cmd.range !== undefined) {
      res = await engine.rangeQuery({ query: cmd.expr, ...cmd.range });
    } else {
      res = await engine.instantQuery({ query, time });
    }
  } catch (err) {
    if (!isPromqlError(err))
      return `internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    if (!expectFail) return `unexpected error: ${err.message}`;
    if (err.type === "bad_data" && err.message.includes("parse error")) {
      return `expected an evaluation error but the query does not parse: ${err.message}`;
    }
    return checkFailMessage(cmd, err.message);
  }
  if (expectFail) return "expected error evaluating query but got none";
  const annotations = checkAnnotations(cmd, res);
  if (annotations !== undefined) return annotations;
  const mismatch = compareResult(cmd, res.value);
  if (mismatch !== undefined) return mismatch;
  if (cmd.range !== undefined) return undefined;
  // The reference harness re-runs every instant eval as a range query and checks the middle step.
  let rangeRes: QueryResult;
  try {
    rangeRes = await engine.rangeQuery({ query, start: time - MINUTE, end: time + MINUTE, step: MINUTE });
  } catch (err) {
    return `error in range mode: ${errorMessage(err)}`;
  }
  const ordered = cmd.modifier === "ordered" || cmd.expectations.some((e) => e.type === "ordered");
  if (ordered || rangeRes.value.type !== "matrix") return undefined;
  const samples = rangeRes.value.series.flatMap((s) =>
    s.points.filter((p) => p.t === time).map((p) => ({ labels: s.labels, t: p.t, f: p.f })),
  );
  const asInstant: QueryValue =
    res.value.type === "scalar"
      ? { type: "scalar", t: time, f: samples[0]?.f ?? Number.NaN }
      : { type: "vector", samples };
  const rangeMismatch = compareResult(cmd, asInstant);
  return rangeMismatch === undefined ? undefined : `range mode: ${rangeMismatch}`;
}

function checkFailMessage(cmd: EvalCommand, message: string): string | undefined {
  if (cmd.expectedFailMessage !== undefined && cmd.expectedFailMessage !== message) {
    return `expected error ${JSON.stringify(cmd.expectedFailMessage)} but got ${JSON.stringify(message)}`;
  }
  if (cmd.expectedFailRegexp !== undefined && !cmd.expectedFailRegexp.test(message)) {
    return `expected error matching ${cmd.expectedFailRegexp} but got ${JSON.stringify(message)}`;
  }
  for (const e of cmd.expectations) {
    if (e.type !== "fail") continue;
    if (e.message !== undefined && e.message !== message)
      return `expected error ${JSON.stringify(e.message)}`;
    if (e.regex !== undefined && !e.regex.test(message)) return `expected error matching ${e.regex}`;
  }
  return undefined;
}

function checkAnnotations(cmd: EvalCommand, res: QueryResult): string | undefined {
  const expectWarn = cmd.expectations.filter((e) => e.type === "warn");
  const expectInfo = cmd.expectations.filter((e) => e.type === "info");
  const wantWarn = cmd.modifier === "warn" || expectWarn.length > 0;
  if (wantWarn && res.warnings.length === 0) return "expected warnings but got none";
  if (!wantWarn && res.warnings.length > 0) return `unexpected warnings: ${res.warnings.join("; ")}`;
  if ((cmd.modifier === "info" || expectInfo.length > 0) && res.infos.length === 0) {
    return "expected info annotations but got none";
  }
  const matches = (e: (typeof cmd.expectations)[number], text: string): boolean =>
    e.message !== undefined ? e.message === text : e.regex !== undefined ? e.regex.test(text) : true;
  for (const [expected, actual, kind] of [
    [expectWarn, res.warnings, "warn"],
    [expectInfo, res.infos, "info"],
  ] as const) {
    for (const e of expected) {
      if (!actual.some((a) => matches(e, a))) return `expected ${kind} annotation ${e.message ?? e.regex}`;
    }
    for (const a of actual) {
      if (expected.length > 0 && !expected.some((e) => matches(e, a)))
        return `unexpected ${kind} annotation ${a}`;
    }
  }
  if (cmd.expectations.some((e) => e.type === "no_warn") && res.warnings.length > 0)
    return "unexpected warnings";
  if (cmd.expectations.some((e) => e.type === "no_info") && res.infos.length > 0) return "unexpected infos";
  return undefined;
}

function fmt(v: number): string {
  return Number.isNaN(v) ? "NaN" : String(v);
}

function compareResult(cmd: EvalCommand, value: QueryValue): string | undefined {
  const expected = new Map(cmd.expectedSeries.map((s) => [labelsKey(s.labels), s]));
  switch (value.type) {
    case "scalar": {
      if (cmd.expectedScalar === undefined)
        return `expected vector or matrix result, but got scalar ${fmt(value.f)}`;
      if (!almostEqual(cmd.expectedScalar, value.f, EPSILON)) {
        return `expected scalar ${fmt(cmd.expectedScalar)} but got ${fmt(value.f)}`;
      }
      return undefined;
    }
    case "string":
      return "unexpected string result";
    case "vector": {
      if (cmd.expectedScalar !== undefined) return "expected scalar result, but got vector";
      const ordered = cmd.modifier === "ordered" || cmd.expectations.some((e) => e.type === "ordered");
      const seen = new Set<string>();
      for (const [pos, s] of value.samples.entries()) {
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        if (exp === undefined)
          return `unexpected metric ${formatLabels(s.labels)} in result, has value ${fmt(s.f)}`;
        if (ordered && exp.position !== pos + 1) {
          return `expected metric ${formatLabels(s.labels)} at position ${exp.position} but was at ${pos + 1}`;
        }
        const v0 = exp.values[0];
        const want = v0?.kind === "float" ? v0.value : Number.NaN;
        if (!almostEqual(want, s.f, EPSILON)) {
          return `expected ${fmt(want)} for ${formatLabels(s.labels)} but got ${fmt(s.f)}`;
        }
        seen.add(key);
      }
      for (const [key, exp] of expected) {
        if (!seen.has(key)) return `expected metric ${formatLabels(exp.labels)} not found`;
      }
      return undefined;
    }
    case "matrix": {
      if (cmd.range === undefined) return "unexpected range-vector result for an instant query";
      if (cmd.expectedScalar !== undefined) return "expected scalar result, but got matrix";
      for (let i = 1; i < value.series.length; i++) {
        const a = value.series[i - 1];
        const b = value.series[i];
        if (a !== undefined && b !== undefined && compareLabels(a.labels, b.labels) >= 0) {
          return "range query result is not sorted by labels";
        }
      }
      const range = cmd.range;
      const seen = new Set<string>();
      for (const s of value.series) {
        const key = labelsKey(s.labels);
        const exp = expected.get(key);
        if (exp === undefined) return `unexpected metric ${formatLabels(s.labels)} in result`;
        seen.add(key);
        const want: Array<{ t: number; f: number }> = [];
        for (const [i, v] of exp.values.entries()) {
          const t = range.start + i * range.step;
          if (t > range.end)
            return `expected ${exp.values.length} points for ${formatLabels(exp.labels)}: too many`;
          if (v.kind === "float") want.push({ t, f: v.value });
        }
        if (want.length !== s.points.length) {
          return `expected ${want.length} points for ${formatLabels(s.labels)} but got ${s.points.length}: ${s.points.map((p) => `${fmt(p.f)}@${p.t / 1000}`).join(" ")}`;
        }
        for (const [i, w] of want.entries()) {
          const p = s.points[i];
          if (p === undefined || p.t !== w.t)
            return `point ${i} of ${formatLabels(s.labels)} has the wrong timestamp`;
          if (!almostEqual(w.f, p.f, EPSILON)) {
            return `expected ${fmt(w.f)} at t=${w.t / 1000}s for ${formatLabels(s.labels)} but got ${fmt(p.f)}`;
          }
        }
      }
      for (const [key, exp] of expected) {
        if (!seen.has(key)) return `expected metric ${formatLabels(exp.labels)} not found`;
      }
      return undefined;
    }
  }
}
