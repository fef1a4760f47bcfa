import { readFile } from "node:fs/promises";
import { isMap, isScalar, isSeq, LineCounter, type Node, type Pair, parseDocument, type Scalar } from "yaml";
import type { ConfigProblem } from "../../config/index.js";
import {
  CLASSIC_LABEL_NAME,
  type Expr,
  formatPromDuration,
  isPromqlError,
  parseExpr,
} from "../../promql/index.js";
import { parseAlertTemplate } from "./alert-template.js";
import { TemplateError } from "./go-template.js";

/**
 * Prometheus's rule file format (`groups: [{name, interval, limit, rules: [{record|alert, expr, for,
 * keep_firing_for, labels, annotations}]}]`), validated as Prometheus's rulefmt does, each problem at the
 * file:line:column where it was written.
 */

export interface RuleDefinition {
  kind: "recording" | "alerting";
  /** The record name or the alert name. */
  name: string;
  expr: string;
  /** The parsed expression, so that evaluation does not parse it again. */
  query: Expr;
  forMs: number;
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroupDefinition {
  name: string;
  /** The file (or config object) the group came from; part of its identity, as in Prometheus. */
  file: string;
  /** undefined: the manager's default evaluation interval. */
  intervalMs: number | undefined;
  /** Most series (recording) or alerts (alerting) one rule may produce; 0: no limit. */
  limit: number;
  rules: RuleDefinition[];
}

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Prometheus's model.Duration: "30s", "1h30m", "0"; undefined when malformed. */
export function parseRuleDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const m = DURATION.exec(text);
  if (m === null || text === "") return undefined;
  let ms = 0;
  UNITS.forEach((unit, i) => {
    ms += Number(m[i + 1] ?? 0) * unit;
  });
  return ms;
}

/** Prometheus's model.Duration String(): largest units first, "0s" for zero. */
export function formatRuleDuration(ms: number): string {
  return formatPromDuration(ms);
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** One rule as written: the fields a RuleGroup spec and a rule file share. */
export interface RawRule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  keep_firing_for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A problem inside one rule, at a path below the rule and, for PromQL errors, an offset in the expression. */
export interface RuleProblem {
  path: Array<string | number>;
  message: string;
  /** Offset of a PromQL parse error inside `expr`. */
  exprOffset?: number;
}

/** Checks one rule as rulefmt's RuleNode.Validate does and builds its definition (undefined if invalid). */
export function checkRule(raw: RawRule): { rule?: RuleDefinition; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  const record = raw.record ?? "";
  const alert = raw.alert ?? "";
  if (record !== "" && alert !== "")
    problems.push({ path: ["record"], message: "only one of 'record' and 'alert' must be set" });
  if (record === "" && alert === "")
    problems.push({ path: [], message: "one of 'record' or 'alert' must be set" });
  let query: Expr | undefined;
  if (raw.expr === "") problems.push({ path: ["expr"], message: "field 'expr' must be set in rule" });
  else {
    try {
      query = parseExpr(raw.expr);
    } catch (error) {
      if (!isPromqlError(error)) throw error;
      problems.push({
        path: ["expr"],
        message: `could not parse expression: ${error.message}`,
        exprOffset: error.pos?.start,
      });
    }
  }
  const durationOf = (field: "for" | "keep_firing_for"): number => {
    const text = raw[field];
    if (text === undefined) return 0;
    const ms = parseRuleDuration(text);
    if (ms === undefined) {
      problems.push({ path: [field], message: `not a valid duration string: ${JSON.stringify(text)}` });
      return 0;
    }
    return ms;
  };
  const forMs = durationOf("for");
  const keepFiringForMs = durationOf("keep_firing_for");
  const labels = raw.labels ?? {};
  const annotations = raw.annotations ?? {};
  if (record !== "") {
    if (Object.keys(annotations).length > 0)
      problems.push({ path: ["annotations"], message: "invalid field 'annotations' in recording rule" });
    if (forMs !== 0) problems.push({ path: ["for"], message: "invalid field 'for' in recording rule" });
    if (keepFiringForMs !== 0)
      problems.push({
        path: ["keep_firing_for"],
        message: "invalid field 'keep_firing_for' in recording rule",
      });
    if (!METRIC_NAME_RE.test(record))
      problems.push({ path: ["record"], message: `invalid recording rule name: ${record}` });
  }
  for (const name of Object.keys(labels)) {
    if (!CLASSIC_LABEL_NAME.test(name) || name === "__name__")
      problems.push({ path: ["labels", name], message: `invalid label name: ${name}` });
  }
  for (const name of Object.keys(annotations)) {
    if (!CLASSIC_LABEL_NAME.test(name))
      problems.push({ path: ["annotations", name], message: `invalid annotation name: ${name}` });
  }
  const name = record !== "" ? record : alert;
  if (alert !== "") {
    for (const [field, map] of [
      ["labels", labels],
      ["annotations", annotations],
    ] as const) {
      for (const [key, text] of Object.entries(map)) {
        try {
          parseAlertTemplate(name, text);
        } catch (error) {
          if (!(error instanceof TemplateError)) throw error;
          problems.push({ path: [field, key], message: error.message });
        }
      }
    }
  }
  if (problems.length > 0 || query === undefined) return { problems };
  return {
    rule: {
      kind: record !== "" ? "recording" : "alerting",
      name,
      expr: raw.expr,
      query,
      forMs,
      keepFiringForMs,
      labels: { ...labels },
      annotations: { ...annotations },
    },
    problems,
  };
}

// ---------- YAML with positions

interface Located {
  node: Node | Pair["key"] | null | undefined;
}

/**
 * Parses one Prometheus rule file. Problems carry positions; groups with problems are left out, so a file
 * with any error should not be used (Prometheus refuses the whole file).
 */
export function parseRuleFile(
  file: string,
  content: string,
): { groups: RuleGroupDefinition[]; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { file, line: pos.line, column: pos.col };
  };
  const problem = (where: Located["node"] | number, message: string) => {
    const offset = typeof where === "number" ? where : ((where as Node | null | undefined)?.range?.[0] ?? 0);
    problems.push({ ...at(offset), severity: "error", message });
  };
  for (const error of doc.errors) problem(error.pos[0], `YAML: ${error.message.split("\n")[0] ?? ""}`);
  if (doc.errors.length > 0) return { groups: [], problems };
  const root = doc.contents;
  const groups: RuleGroupDefinition[] = [];
  if (root === null || (isScalar(root) && root.value === null)) return { groups, problems };
  if (!isMap(root)) {
    problem(root, "a rule file is a mapping with a 'groups' list");
    return { groups, problems };
  }
  const rootFields = fields(root, ["groups"], problem);
  const groupsNode = rootFields.get("groups");
  if (groupsNode === undefined || (isScalar(groupsNode) && groupsNode.value === null))
    return { groups, problems };
  if (!isSeq(groupsNode)) {
    problem(groupsNode, "'groups' must be a list");
    return { groups, problems };
  }
  const seen = new Set<string>();
  for (const groupNode of groupsNode.items) {
    if (!isMap(groupNode)) {
      problem(groupNode as Node, "a group is a mapping with 'name' and 'rules'");
      continue;
    }
    const before = problems.length;
    const f = fields(groupNode, ["name", "interval", "query_offset", "limit", "rules"], problem);
    const name = scalarText(f.get("name"), problem, "name") ?? "";
    if (name === "") problem(f.get("name") ?? groupNode, "Groupname must not be empty");
    else if (seen.has(name)) problem(f.get("name"), `groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    let intervalMs: number | undefined;
    const intervalText = scalarText(f.get("interval"), problem, "interval");
    if (intervalText !== undefined) {
      intervalMs = parseRuleDuration(intervalText);
      if (intervalMs === undefined)
        problem(f.get("interval"), `not a valid duration string: "${intervalText}"`);
      else if (intervalMs === 0) intervalMs = undefined;
    }
    const limitText = scalarText(f.get("limit"), problem, "limit");
    const limit = limitText === undefined ? 0 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 0)
      problem(f.get("limit"), "limit must be a whole number, 0 or more");
    const rulesNode = f.get("rules");
    const rules: RuleDefinition[] = [];
    if (rulesNode !== undefined && !(isScalar(rulesNode) && rulesNode.value === null)) {
      if (!isSeq(rulesNode)) problem(rulesNode, "'rules' must be a list");
      else
        for (const ruleNode of rulesNode.items) {
          const rule = parseRuleNode(ruleNode as Node, content, lineCounter, problem);
          if (rule !== undefined) rules.push(rule);
        }
    }
    if (problems.length === before) groups.push({ name, file, intervalMs, limit, rules });
  }
  return { groups, problems };
}

type Report = (where: Node | null | undefined | number, message: string) => void;

function fields(map: Node, allowed: readonly string[], problem: Report): Map<string, Node> {
  const out = new Map<string, Node>();
  if (!isMap(map)) return out;
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (!allowed.includes(key)) {
      problem(
        pair.key as Node,
        `field ${key} not found in type ${allowed.includes("expr") ? "rulefmt.Rule" : allowed.includes("rules") ? "rulefmt.RuleGroup" : "rulefmt.RuleGroups"}`,
      );
      continue;
    }
    out.set(key, (pair.value ?? pair.key) as Node);
  }
  return out;
}

function scalarText(node: Node | undefined, problem: Report, field: string): string | undefined {
  if (node === undefined) return undefined;
  if (!isScalar(node)) {
    problem(node, `'${field}' must be a single value`);
    return undefined;
  }
  if (node.value === null) return undefined;
  return typeof node.value === "string"
    ? node.value
    : ((node as Scalar & { source?: string }).source ?? String(node.value));
}

function stringMap(node: Node | undefined, problem: Report, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (node === undefined || (isScalar(node) && node.value === null)) return out;
  if (!isMap(node)) {
    problem(node, `'${field}' must be a mapping of names to values`);
    return out;
  }
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    out[key] = scalarText((pair.value ?? undefined) as Node | undefined, problem, `${field}.${key}`) ?? "";
  }
  return out;
}

const RULE_FIELDS = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];

function parseRuleNode(
  node: Node,
  content: string,
  lineCounter: LineCounter,
  problem: Report,
): RuleDefinition | undefined {
  if (!isMap(node)) {
    problem(node, "a rule is a mapping with 'record' or 'alert' and 'expr'");
    return undefined;
  }
  const f = fields(node, RULE_FIELDS, problem);
  const raw: RawRule = {
    record: scalarText(f.get("record"), problem, "record"),
    alert: scalarText(f.get("alert"), problem, "alert"),
    expr: scalarText(f.get("expr"), problem, "expr") ?? "",
    for: scalarText(f.get("for"), problem, "for"),
    keep_firing_for: scalarText(f.get("keep_firing_for"), problem, "keep_firing_for"),
    labels: stringMap(f.get("labels"), problem, "labels"),
    annotations: stringMap(f.get("annotations"), problem, "annotations"),
  };
  const { rule, problems } = checkRule(raw);
  for (const p of problems) {
    const [field, key] = p.path;
    let target: Node | undefined = field === undefined ? node : (f.get(String(field)) ?? node);
    if (key !== undefined && isMap(target)) {
      const pair = target.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      target = (pair?.value ?? pair?.key ?? target) as Node;
    }
    if (p.exprOffset !== undefined && isScalar(target)) {
      problem(exprPosition(target, raw.expr, p.exprOffset, content, lineCounter), p.message);
    } else problem(target, p.message);
  }
  return rule;
}

/** Where, in the file, the character at `offset` of the expression was written. */
function exprPosition(
  node: Scalar,
  expr: string,
  offset: number,
  content: string,
  lineCounter: LineCounter,
): number {
  const start = node.range?.[0] ?? 0;
  const end = node.range?.[1] ?? start;
  const raw = content.slice(start, end);
  // Plain and quoted one-line scalars: the text sits right there (after the quote).
  const inline = raw.indexOf(expr.split("\n")[0] ?? expr);
  const exprLines = expr.slice(0, offset).split("\n");
  const lineInExpr = exprLines.length - 1;
  const colInLine = (exprLines[lineInExpr] ?? "").length;
  if (lineInExpr === 0 && inline >= 0 && !raw.startsWith("|") && !raw.startsWith(">"))
    return start + inline + colInLine;
  // Block scalars and folded lines: find the expression's line in the source below the node's start.
  const firstLine = lineCounter.linePos(start).line;
  const sourceLines = content.split("\n");
  const wanted = expr.split("\n")[lineInExpr] ?? "";
  for (let l = firstLine - 1; l < sourceLines.length; l++) {
    const text = sourceLines[l] ?? "";
    const idx = wanted === "" ? -1 : text.indexOf(wanted);
    if (
      idx >= 0 &&
      l >= firstLine - 1 + (raw.startsWith("|") || raw.startsWith(">") ? 1 : 0) + lineInExpr - 0
    ) {
      const lineStart = lineCounter.lineStarts[l] ?? 0;
      return lineStart + idx + colInLine;
    }
  }
  return start;
}

/** Reads plain Prometheus rule files; a file with any problem contributes no groups, as in Prometheus. */
export async function loadRuleFiles(
  paths: readonly string[],
): Promise<{ groups: RuleGroupDefinition[]; problems: ConfigProblem[] }> {
  const groups: RuleGroupDefinition[] = [];
  const problems: ConfigProblem[] = [];
  for (const path of paths) {
    let content: string;
    try {
      content = await readFile(path, "utf8");
    } catch (error) {
      problems.push({ file: path, line: 0, column: 0, severity: "error", message: (error as Error).message });
      continue;
    }
    const parsed = parseRuleFile(path, content);
    problems.push(...parsed.problems);
    if (parsed.problems.length === 0) groups.push(...parsed.groups);
  }
  return { groups, problems };
}
