import { readdir, readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, join } from "node:path";
import { isMap, isScalar, isSeq, type Node, parseDocument } from "yaml";
import { formatProblem } from "../../config/index.js";
import { compareLabels, type Labels, labelsFrom, parseSeriesLine, STALE_NAN } from "../../promql/index.js";
import { AppendError, localBackend, MemoryMetricsStore } from "../../tsdb/index.js";
import { formatGoE } from "./go-format.js";
import { AlertingRule } from "./rule-eval.js";
import {
  formatRuleDuration,
  parseRuleDuration,
  parseRuleFile,
  type RuleGroupDefinition,
} from "./rule-file.js";
import { type RuleGroup, RuleManager } from "./rule-manager.js";

/**
 * promtool's rule unit tests (`promtool test rules`): input series in the promqltest notation, rules evaluated
 * every evaluation_interval from time 0 in simulated time, firing alerts compared at each alert_rule_test's
 * eval_time and PromQL results compared exactly, with promtool's output and verdicts.
 */

interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

interface TestFileSpec {
  ruleFiles: string[];
  evaluationIntervalMs: number;
  groupEvalOrder: string[];
  tests: TestGroupSpec[];
}

interface TestGroupSpec {
  intervalMs: number;
  inputSeries: Array<{ series: string; values: string }>;
  alertRuleTests: Array<{
    evalTimeMs: number;
    alertname: string;
    expAlerts: Array<{ labels: Record<string, string>; annotations: Record<string, string> }>;
  }>;
  promqlExprTests: Array<{
    expr: string;
    evalTimeMs: number;
    expSamples: Array<{ labels: string; value: number }>;
  }>;
  externalLabels: Record<string, string>;
  externalURL: string;
  name: string;
}

class UnitTestFileError extends Error {}

/** Runs each file; writes promtool's report; returns 0 when every test passed, 1 otherwise. */
export async function runRuleUnitTests(
  files: readonly string[],
  out: Output = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
): Promise<number> {
  let failed = false;
  for (const file of files) {
    out.stdout(`Unit Testing:  ${file}\n`);
    const errors = await ruleUnitTestFile(file);
    if (errors.length > 0) {
      out.stderr("  FAILED:\n");
      for (const e of errors) {
        out.stderr(`${e}\n`);
        out.stdout("\n");
      }
      failed = true;
    } else out.stdout("  SUCCESS\n");
    out.stdout("\n");
  }
  return failed ? 1 : 0;
}

/** The failures of one test file, as promtool words them; empty when it passed. */
export async function ruleUnitTestFile(file: string): Promise<string[]> {
  let spec: TestFileSpec;
  try {
    spec = parseTestFileSpec(await readFile(file, "utf8"));
  } catch (error) {
    return [(error as Error).message];
  }
  const ruleFiles: string[] = [];
  for (const pattern of spec.ruleFiles) {
    const path = pattern !== "" && !isAbsolute(pattern) ? join(dirname(file), pattern) : pattern;
    ruleFiles.push(...(await glob(path)));
  }
  const order = new Map<string, number>();
  for (const [i, name] of spec.groupEvalOrder.entries()) {
    if (order.has(name)) return [`group name repeated in evaluation order: ${name}`];
    order.set(name, i);
  }
  const errors: string[] = [];
  for (const test of spec.tests) errors.push(...(await runTestGroup(test, spec, ruleFiles, order)));
  return errors;
}

async function glob(path: string): Promise<string[]> {
  const base = basename(path);
  if (!/[*?[]/.test(base)) {
    try {
      await readFile(path);
      return [path];
    } catch {
      return [];
    }
  }
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, "[^/]*")
      .replace(/\?/g, "[^/]")}$`,
  );
  try {
    return (await readdir(dirname(path)))
      .filter((n) => re.test(n))
      .sort()
      .map((n) => join(dirname(path), n));
  } catch {
    return [];
  }
}

/** Go's time.Duration String(): "0s", "1m30s", "1h0m0s", "500ms". */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = `${String(rest / 1000)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

/** Prometheus's labels String(): {a="b", c="d"}. */
function labelsString(labels: Labels): string {
  return `{${labels.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ")}}`;
}

async function runTestGroup(
  test: TestGroupSpec,
  spec: TestFileSpec,
  ruleFiles: readonly string[],
  order: ReadonlyMap<string, number>,
): Promise<string[]> {
  const evalInterval = spec.evaluationIntervalMs;
  // Input series, in the order the lazy loader appends them.
  const samples: Array<{ labels: Labels; t: number; v: number }> = [];
  for (const [i, input] of test.inputSeries.entries()) {
    let def: ReturnType<typeof parseSeriesLine>;
    try {
      def = parseSeriesLine(`${input.series} ${input.values}`, i + 2);
    } catch (error) {
      return [(error as Error).message];
    }
    def.values.forEach((value, k) => {
      const t = k * test.intervalMs;
      if (value.kind === "float") samples.push({ labels: def.labels, t, v: value.value });
      else if (value.kind === "stale") samples.push({ labels: def.labels, t, v: STALE_NAN });
    });
  }
  samples.sort((a, b) => a.t - b.t);
  const groups: RuleGroupDefinition[] = [];
  const loadErrors: string[] = [];
  for (const file of ruleFiles) {
    const parsed = parseRuleFile(file, await readFile(file, "utf8"));
    loadErrors.push(...parsed.problems.map(formatProblem));
    groups.push(
      ...parsed.groups.map((g) => ({ ...g, intervalMs: g.intervalMs ?? (test.intervalMs || evalInterval) })),
    );
  }
  if (loadErrors.length > 0) return loadErrors;
  const store = new MemoryMetricsStore();
  const backend = localBackend(store, { noStepSubqueryIntervalMs: evalInterval });
  const manager = new RuleManager({
    backend,
    clock: { now: () => 0 },
    schedule: false,
    externalLabels: test.externalLabels,
    externalURL: test.externalURL,
    defaultIntervalMs: test.intervalMs > 0 ? test.intervalMs : 60_000,
  });
  await manager.sync(groups);
  const ordered = [...manager.ruleGroups()].sort(
    (a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0),
  );
  const maxT = Math.max(
    0,
    ...test.alertRuleTests.map((a) => a.evalTimeMs),
    ...test.promqlExprTests.map((p) => p.evalTimeMs),
  );
  const alertTimes = [...new Set(test.alertRuleTests.map((a) => a.evalTimeMs))].sort((a, b) => a - b);
  const errors: string[] = [];
  let loaded = 0;
  let curr = 0;
  for (let ts = 0; ts <= maxT; ts += evalInterval) {
    const app = store.appender();
    while (loaded < samples.length && (samples[loaded]?.t ?? 0) <= ts) {
      const s = samples[loaded++] as (typeof samples)[number];
      try {
        app.add(s.labels, s.t, s.v);
      } catch (error) {
        // A repeated timestamp (no interval given) keeps the first value, as promtool's loader does.
        if (!(error instanceof AppendError)) throw error;
      }
    }
    await app.commit();
    const evalErrors: string[] = [];
    for (const group of ordered) {
      const failures = await manager.evaluateAt(ts, [group]);
      for (const f of failures)
        evalErrors.push(`    rule: ${f.rule}, time: ${goDuration(ts)}, err: ${f.error}`);
    }
    errors.push(...evalErrors);
    if (evalErrors.length > 0) return errors;
    while (
      curr < alertTimes.length &&
      ts <= (alertTimes[curr] as number) &&
      (alertTimes[curr] as number) < ts + evalInterval
    ) {
      const t = alertTimes[curr] as number;
      errors.push(...checkAlerts(test, t, ordered));
      curr++;
    }
    if (evalInterval <= 0) break;
  }
  for (const tc of test.promqlExprTests) {
    const where = `    expr: ${JSON.stringify(tc.expr)}, time: ${formatRuleDuration(tc.evalTimeMs)}`;
    let got: Array<{ labels: Labels; value: number }>;
    try {
      const { value } = await backend.instantQuery({ query: tc.expr, time: tc.evalTimeMs });
      if (value.type === "vector") got = value.samples.map((s) => ({ labels: s.labels, value: s.f }));
      else if (value.type === "scalar") got = [{ labels: [], value: value.f }];
      else throw new Error("rule result is not a vector or scalar");
    } catch (error) {
      errors.push(`${where}, err: ${(error as Error).message}`);
      continue;
    }
    const exp: Array<{ labels: Labels; value: number }> = [];
    let bad = false;
    for (const s of tc.expSamples) {
      try {
        const def = parseSeriesLine(s.labels, 0);
        if (def.values.length > 0) throw new Error(`unexpected values after the label set`);
        exp.push({ labels: def.labels, value: s.value });
      } catch (error) {
        errors.push(`${where}, err: labels ${JSON.stringify(s.labels)}: ${(error as Error).message}`);
        bad = true;
        break;
      }
    }
    if (bad) continue;
    const byLabels = (a: { labels: Labels }, b: { labels: Labels }) => compareLabels(a.labels, b.labels);
    exp.sort(byLabels);
    got.sort(byLabels);
    const same =
      exp.length === got.length &&
      exp.every((e, i) => {
        const g = got[i] as (typeof got)[number];
        return compareLabels(e.labels, g.labels) === 0 && e.value === g.value;
      });
    if (!same) {
      errors.push(`${where},\n        exp: ${samplesString(exp)}\n        got: ${samplesString(got)}`);
    }
  }
  return errors;
}

function samplesString(samples: ReadonlyArray<{ labels: Labels; value: number }>): string {
  if (samples.length === 0) return "nil";
  return samples.map((s) => `${labelsString(s.labels)} ${formatGoE(s.value, -1).toUpperCase()}`).join(", ");
}

interface LabelsAndAnnotations {
  labels: Labels;
  annotations: Labels;
}

function checkAlerts(test: TestGroupSpec, t: number, groups: readonly RuleGroup[]): string[] {
  const errors: string[] = [];
  const got = new Map<string, LabelsAndAnnotations[]>();
  const wanted = new Set(test.alertRuleTests.filter((a) => a.evalTimeMs === t).map((a) => a.alertname));
  for (const group of groups) {
    for (const rule of group.rules) {
      if (!(rule instanceof AlertingRule) || !wanted.has(rule.name)) continue;
      const list = got.get(rule.name) ?? [];
      for (const a of rule.activeAlerts())
        if (a.state === "firing") list.push({ labels: a.labels, annotations: labelsFrom(a.annotations) });
      got.set(rule.name, list);
    }
  }
  const order = (a: LabelsAndAnnotations, b: LabelsAndAnnotations) =>
    compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations);
  for (const tc of test.alertRuleTests.filter((a) => a.evalTimeMs === t)) {
    const gotAlerts = [...(got.get(tc.alertname) ?? [])].sort(order);
    const expAlerts = tc.expAlerts
      .map((a) => ({
        labels: labelsFromMap({ ...a.labels, alertname: tc.alertname }),
        annotations: labelsFromMap(a.annotations),
      }))
      .sort(order);
    const same =
      gotAlerts.length === expAlerts.length &&
      gotAlerts.every((g, i) => order(g, expAlerts[i] as LabelsAndAnnotations) === 0);
    if (!same) {
      const name = test.name !== "" ? `    name: ${test.name},\n` : "";
      errors.push(
        `${name}    alertname: ${tc.alertname}, time: ${formatRuleDuration(t)}, \n        exp:${indentLines(alertsString(expAlerts), "            ")}, \n        got:${indentLines(alertsString(gotAlerts), "            ")}`,
      );
    }
  }
  return errors;
}

/** labels.FromMap: keeps empty values, unlike labelsFrom. */
function labelsFromMap(map: Readonly<Record<string, string>>): Labels {
  return Object.entries(map)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function alertsString(list: readonly LabelsAndAnnotations[]): string {
  if (list.length === 0) return "[]";
  const one = (l: LabelsAndAnnotations) =>
    `Labels:${labelsString(l.labels)}\nAnnotations:${labelsString(l.annotations)}`;
  let s = `[\n0:${indentLines(`\n${one(list[0] as LabelsAndAnnotations)}`, "  ")}`;
  list.slice(1).forEach((l, i) => {
    s += `,\n${i + 1}:${indentLines(`\n${one(l)}`, "  ")}`;
  });
  return `${s}\n]`;
}

function indentLines(lines: string, indent: string): string {
  return lines
    .split("\n")
    .map((l, i) => (i > 0 ? indent + l : l))
    .join("\n");
}

// ---------- the test file, read strictly as promtool's yaml.UnmarshalStrict does

function parseTestFileSpec(text: string): TestFileSpec {
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new UnitTestFileError(`yaml: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`);
  const root = doc.contents;
  const f = strictFields(
    root,
    ["rule_files", "evaluation_interval", "group_eval_order", "tests"],
    "main.unitTestFile",
  );
  return {
    ruleFiles: stringList(f.get("rule_files")),
    evaluationIntervalMs: durationField(f.get("evaluation_interval")) || 60_000,
    groupEvalOrder: stringList(f.get("group_eval_order")),
    tests: seqItems(f.get("tests")).map((node) => {
      const g = strictFields(
        node,
        [
          "interval",
          "input_series",
          "alert_rule_test",
          "promql_expr_test",
          "external_labels",
          "external_url",
          "name",
        ],
        "main.testGroup",
      );
      return {
        // promtool 2.42 does not default this: without it, every value of a series lands at time 0.
        intervalMs: durationField(g.get("interval")),
        inputSeries: seqItems(g.get("input_series")).map((s) => {
          const sf = strictFields(s, ["series", "values"], "main.series");
          return { series: scalar(sf.get("series")), values: scalar(sf.get("values")) };
        }),
        alertRuleTests: seqItems(g.get("alert_rule_test")).map((a) => {
          const af = strictFields(a, ["eval_time", "alertname", "exp_alerts"], "main.alertTestCase");
          return {
            evalTimeMs: durationField(af.get("eval_time")),
            alertname: scalar(af.get("alertname")),
            expAlerts: seqItems(af.get("exp_alerts")).map((e) => {
              const ef = strictFields(e, ["exp_labels", "exp_annotations"], "main.alert");
              return {
                labels: stringMap(ef.get("exp_labels")),
                annotations: stringMap(ef.get("exp_annotations")),
              };
            }),
          };
        }),
        promqlExprTests: seqItems(g.get("promql_expr_test")).map((p) => {
          const pf = strictFields(p, ["expr", "eval_time", "exp_samples"], "main.promqlTestCase");
          return {
            expr: scalar(pf.get("expr")),
            evalTimeMs: durationField(pf.get("eval_time")),
            expSamples: seqItems(pf.get("exp_samples")).map((s) => {
              const sf = strictFields(s, ["labels", "value"], "main.sample");
              const value = scalar(sf.get("value"));
              return { labels: scalar(sf.get("labels")), value: value === "" ? 0 : parseYamlFloat(value) };
            }),
          };
        }),
        externalLabels: stringMap(g.get("external_labels")),
        externalURL: scalar(g.get("external_url")),
        name: scalar(g.get("name")),
      };
    }),
  };
}

function parseYamlFloat(text: string): number {
  if (/^[-+]?\.inf$/i.test(text))
    return text.startsWith("-") ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  if (/^\.nan$/i.test(text)) return Number.NaN;
  const v = Number(text);
  if (text.trim() === "" || Number.isNaN(v))
    throw new UnitTestFileError(`yaml: cannot unmarshal !!str \`${text}\` into float64`);
  return v;
}

function strictFields(node: unknown, allowed: readonly string[], type: string): Map<string, Node> {
  const out = new Map<string, Node>();
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return out;
  if (!isMap(node)) throw new UnitTestFileError(`yaml: cannot unmarshal into ${type}`);
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!allowed.includes(key))
      throw new UnitTestFileError(`yaml: unmarshal errors:\n  field ${key} not found in type ${type}`);
    out.set(key, pair.value as Node);
  }
  return out;
}

function seqItems(node: Node | undefined): unknown[] {
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) throw new UnitTestFileError("yaml: expected a list");
  return node.items;
}

function scalar(node: Node | undefined): string {
  if (node === undefined || node === null) return "";
  if (!isScalar(node)) throw new UnitTestFileError("yaml: expected a single value");
  if (node.value === null) return "";
  return typeof node.value === "string"
    ? node.value
    : ((node as { source?: string }).source ?? String(node.value));
}

function stringList(node: Node | undefined): string[] {
  return seqItems(node).map((n) => scalar(n as Node));
}

function stringMap(node: Node | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (node === undefined || node === null || (isScalar(node) && node.value === null)) return out;
  if (!isMap(node)) throw new UnitTestFileError("yaml: expected a mapping");
  for (const pair of node.items)
    out[isScalar(pair.key) ? String(pair.key.value) : ""] = scalar(pair.value as Node);
  return out;
}

function durationField(node: Node | undefined): number {
  const text = scalar(node);
  if (text === "") return 0;
  const ms = parseRuleDuration(text);
  if (ms === undefined) throw new UnitTestFileError(`not a valid duration string: ${JSON.stringify(text)}`);
  return ms;
}
