import type { z } from "zod";
import type { ConfigProblem } from "../../config/index.js";
import { didYouMean } from "../../config/index.js";
import { formatModelDuration, parseModelDuration } from "./duration.js";
import {
  type AlertmanagerFile,
  AlertmanagerFile as AlertmanagerFileSchema,
  type InhibitRuleConfig,
  type ReceiverConfig,
  type RouteConfig,
} from "./am-config-schema.js";
import {
  isValidLabelName,
  type Matcher,
  matchersString,
  newMatcher,
  parseMatchers,
  sortMatchers,
} from "./matchers.js";
import { type CompiledInterval, compileInterval } from "./time-intervals.js";
import { type Path, parseYamlWithPositions } from "./yaml-positions.js";

/** Alertmanager's defaults (config/config.go DefaultRouteOpts and DefaultGlobalConfig). */
export const DEFAULTS = {
  groupWaitMs: 30_000,
  groupIntervalMs: 5 * 60_000,
  repeatIntervalMs: 4 * 3_600_000,
  resolveTimeoutMs: 5 * 60_000,
} as const;

/** A node of the route tree with what it inherited from its parents filled in (dispatch/route.go). */
export interface RouteNode {
  /** Position in the tree: "0" for the root, "0.2.1" for the root's third child's second child. */
  id: string;
  /** Alertmanager's Route.Key(): the parents' keys and this route's sorted matchers, e.g. `{}/{team="db"}`. */
  key: string;
  receiver: string;
  groupBy: string[];
  groupByAll: boolean;
  matchers: Matcher[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  muteTimeIntervals: string[];
  activeTimeIntervals: string[];
  continue: boolean;
  routes: RouteNode[];
}

export interface InhibitRule {
  name?: string;
  index: number;
  sourceMatchers: Matcher[];
  targetMatchers: Matcher[];
  equal: string[];
}

/** A validated Alertmanager configuration, ready for routing. */
export interface RoutingConfig {
  route: RouteNode;
  receivers: Map<string, ReceiverConfig>;
  inhibitRules: InhibitRule[];
  timeIntervals: Map<string, CompiledInterval[]>;
  resolveTimeoutMs: number;
  templates: string[];
  /** The file as written (after schema parsing), for export and import. */
  source: AlertmanagerFile;
}

export interface PathProblem {
  path: Array<string | number>;
  message: string;
  /** Report at the mapping key named here (unknown fields) rather than at the value. */
  key?: string;
}

type Ok<T> = { ok: true; value: T } | { ok: false; error: string };

function duration(
  text: string | undefined,
  path: Array<string | number>,
  problems: PathProblem[],
): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseModelDuration(text);
  if (typeof parsed === "number") return parsed;
  problems.push({ path, message: parsed.error });
  return undefined;
}

function tryMatcher(f: () => Matcher[]): Ok<Matcher[]> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** match, match_re and matchers of a route or an inhibit rule side, as one sorted list. */
function collectMatchers(
  match: Record<string, string> | undefined,
  matchRe: Record<string, string> | undefined,
  matchers: string[] | undefined,
  base: Array<string | number>,
  names: { match: string; matchRe: string; matchers: string },
  problems: PathProblem[],
): Matcher[] {
  const out: Matcher[] = [];
  for (const [name, value] of Object.entries(match ?? {})) {
    if (!isValidLabelName(name))
      problems.push({ path: [...base, names.match], key: name, message: `invalid label name "${name}"` });
    else out.push({ type: "=", name, value });
  }
  for (const [name, value] of Object.entries(matchRe ?? {})) {
    const r = tryMatcher(() => [newMatcher("=~", name, value)]);
    if (!isValidLabelName(name))
      problems.push({ path: [...base, names.matchRe], key: name, message: `invalid label name "${name}"` });
    else if (!r.ok) problems.push({ path: [...base, names.matchRe, name], message: r.error });
    else out.push(...r.value);
  }
  (matchers ?? []).forEach((text, i) => {
    const r = tryMatcher(() => parseMatchers(text));
    if (!r.ok) problems.push({ path: [...base, names.matchers, i], message: r.error });
    else out.push(...r.value);
  });
  return sortMatchers(out);
}

const ROUTE_NAMES = { match: "match", matchRe: "match_re", matchers: "matchers" };

function buildRoute(
  cr: RouteConfig,
  parent: RouteNode | undefined,
  id: string,
  path: Array<string | number>,
  problems: PathProblem[],
): RouteNode {
  const groupBy: string[] = [];
  let groupByAll = false;
  const seen = new Set<string>();
  (cr.group_by ?? []).forEach((label, i) => {
    if (label === "...") groupByAll = true;
    else if (!isValidLabelName(label))
      problems.push({
        path: [...path, "group_by", i],
        message: `invalid label name "${label}" in group_by list`,
      });
    else if (seen.has(label))
      problems.push({ path: [...path, "group_by", i], message: `duplicated label "${label}" in group_by` });
    else {
      seen.add(label);
      groupBy.push(label);
    }
  });
  if (groupBy.length > 0 && groupByAll)
    problems.push({
      path: [...path, "group_by"],
      message: "cannot have wildcard group_by (`...`) and other labels at the same time",
    });
  const groupWait = duration(cr.group_wait, [...path, "group_wait"], problems);
  const groupInterval = duration(cr.group_interval, [...path, "group_interval"], problems);
  const repeatInterval = duration(cr.repeat_interval, [...path, "repeat_interval"], problems);
  if (groupInterval === 0)
    problems.push({ path: [...path, "group_interval"], message: "group_interval cannot be zero" });
  if (repeatInterval === 0)
    problems.push({ path: [...path, "repeat_interval"], message: "repeat_interval cannot be zero" });
  const matchers = collectMatchers(cr.match, cr.match_re, cr.matchers, path, ROUTE_NAMES, problems);

  const hasOwnGroupBy = groupBy.length > 0;
  const node: RouteNode = {
    id,
    key: parent ? `${parent.key}/${matchersString(matchers)}` : matchersString(matchers),
    receiver: cr.receiver || parent?.receiver || "",
    groupBy: hasOwnGroupBy ? groupBy : (parent?.groupBy ?? []),
    groupByAll: hasOwnGroupBy ? false : groupByAll || (parent?.groupByAll ?? false),
    matchers,
    groupWaitMs: groupWait ?? parent?.groupWaitMs ?? DEFAULTS.groupWaitMs,
    groupIntervalMs: groupInterval || parent?.groupIntervalMs || DEFAULTS.groupIntervalMs,
    repeatIntervalMs: repeatInterval || parent?.repeatIntervalMs || DEFAULTS.repeatIntervalMs,
    muteTimeIntervals: cr.mute_time_intervals ?? [],
    activeTimeIntervals: cr.active_time_intervals ?? [],
    continue: cr.continue ?? false,
    routes: [],
  };
  node.routes = (cr.routes ?? []).map((child, i) =>
    buildRoute(child, node, `${id}.${i}`, [...path, "routes", i], problems),
  );
  return node;
}

function checkUrl(text: string | undefined, path: Array<string | number>, problems: PathProblem[]): void {
  if (text === undefined || text === "<secret>") return;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push({ path, message: `parse "${text}": invalid URL` });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    problems.push({ path, message: `unsupported scheme "${url.protocol.slice(0, -1)}" for URL` });
  else if (url.host === "") problems.push({ path, message: "missing host for URL" });
}

/** The per-integration checks of config/notifiers.go and Config.UnmarshalYAML for the integrations Nines delivers. */
export function checkReceiver(
  rcv: ReceiverConfig,
  global: AlertmanagerFile["global"],
  base: Array<string | number>,
  problems: PathProblem[],
): void {
  const g = global ?? {};
  const both = (a: unknown, b: unknown) => a !== undefined && a !== "" && b !== undefined && b !== "";
  const neither = (a: unknown, b: unknown) => (a === undefined || a === "") && (b === undefined || b === "");
  rcv.webhook_configs?.forEach((c, i) => {
    const at = [...base, "webhook_configs", i];
    if (neither(c.url, c.url_file))
      problems.push({ path: at, message: "one of url or url_file must be configured" });
    if (both(c.url, c.url_file))
      problems.push({ path: at, message: "at most one of url & url_file must be configured" });
    checkUrl(c.url, [...at, "url"], problems);
    if (c.timeout !== undefined) duration(c.timeout, [...at, "timeout"], problems);
  });
  rcv.email_configs?.forEach((c, i) => {
    const at = [...base, "email_configs", i];
    if (!c.to) problems.push({ path: at, message: "missing to address in email config" });
    if (!c.smarthost && !g.smtp_smarthost)
      problems.push({ path: at, message: "no global SMTP smarthost set" });
    if (!c.from && !g.smtp_from) problems.push({ path: at, message: "no global SMTP from set" });
    const smarthost = c.smarthost ?? g.smtp_smarthost;
    if (smarthost && !/^(\[[^\]]+\]|[^:]*):\d+$/.test(smarthost))
      problems.push({ path: [...at, "smarthost"], message: `address ${smarthost}: missing port in address` });
    const seen = new Set<string>();
    for (const header of Object.keys(c.headers ?? {})) {
      const normal = header.toLowerCase();
      if (seen.has(normal))
        problems.push({
          path: [...at, "headers"],
          key: header,
          message: `duplicate header "${header}" in email config`,
        });
      seen.add(normal);
    }
  });
  rcv.slack_configs?.forEach((c, i) => {
    const at = [...base, "slack_configs", i];
    if (
      neither(c.api_url, c.api_url_file) &&
      neither(c.app_token, c.app_token_file) &&
      neither(g.slack_api_url, g.slack_api_url_file) &&
      neither(g.slack_app_token, g.slack_app_token_file)
    )
      problems.push({ path: at, message: "no global Slack API URL set either inline or in a file" });
    if (both(c.api_url, c.api_url_file))
      problems.push({ path: at, message: "at most one of api_url/api_url_file must be configured" });
    checkUrl(c.api_url, [...at, "api_url"], problems);
  });
  rcv.pagerduty_configs?.forEach((c, i) => {
    const at = [...base, "pagerduty_configs", i];
    if (neither(c.routing_key, c.routing_key_file) && neither(c.service_key, c.service_key_file))
      problems.push({ path: at, message: "missing service or routing key in PagerDuty config" });
    if (both(c.routing_key, c.routing_key_file))
      problems.push({
        path: at,
        message: "at most one of routing_key & routing_key_file must be configured",
      });
    if (both(c.service_key, c.service_key_file))
      problems.push({
        path: at,
        message: "at most one of service_key & service_key_file must be configured",
      });
    checkUrl(c.url, [...at, "url"], problems);
  });
  rcv.opsgenie_configs?.forEach((c, i) => {
    const at = [...base, "opsgenie_configs", i];
    if (neither(c.api_key, c.api_key_file) && neither(g.opsgenie_api_key, g.opsgenie_api_key_file))
      problems.push({ path: at, message: "no global OpsGenie API Key set either inline or in a file" });
    if (both(c.api_key, c.api_key_file))
      problems.push({ path: at, message: "at most one of api_key & api_key_file must be configured" });
    checkUrl(c.api_url, [...at, "api_url"], problems);
    if (c.priority !== undefined && !/^P[1-5]$/.test(c.priority) && !c.priority.includes("{{"))
      problems.push({
        path: [...at, "priority"],
        message: `invalid priority "${c.priority}": must be P1 to P5 or a template`,
      });
    c.responders?.forEach((r, j) => {
      const rat = [...at, "responders", j];
      if (!r.id && !r.name && !r.username)
        problems.push({
          path: rat,
          message: `opsGenieConfig responder ${j} has to have at least one of id, username or name specified`,
        });
      if (
        !["team", "teams", "user", "escalation", "schedule"].includes(r.type.toLowerCase()) &&
        !r.type.includes("{{")
      )
        problems.push({
          path: [...rat, "type"],
          message: `opsGenieConfig responder ${j} type does not match valid options team,teams,user,escalation,schedule`,
        });
    });
  });
  rcv.telegram_configs?.forEach((c, i) => {
    const at = [...base, "telegram_configs", i];
    if (neither(c.bot_token, c.bot_token_file))
      problems.push({ path: at, message: "missing bot_token or bot_token_file on telegram_config" });
    if (both(c.bot_token, c.bot_token_file))
      problems.push({ path: at, message: "at most one of bot_token & bot_token_file must be configured" });
    if (!c.chat_id && !c.chat_id_file)
      problems.push({ path: at, message: "missing chat_id on telegram_config" });
    if (c.parse_mode !== undefined && !["", "Markdown", "MarkdownV2", "HTML"].includes(c.parse_mode))
      problems.push({
        path: [...at, "parse_mode"],
        message: "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string",
      });
    checkUrl(c.api_url, [...at, "api_url"], problems);
  });
  for (const field of ["discord_configs", "msteams_configs", "msteamsv2_configs"] as const) {
    const kind = field.replace("_configs", "");
    rcv[field]?.forEach((c, i) => {
      const at = [...base, field, i];
      if (neither(c.webhook_url, c.webhook_url_file))
        problems.push({ path: at, message: `no ${kind} webhook URL or URLFile provided` });
      if (both(c.webhook_url, c.webhook_url_file))
        problems.push({
          path: at,
          message: "at most one of webhook_url & webhook_url_file must be configured",
        });
      checkUrl(c.webhook_url, [...at, "webhook_url"], problems);
    });
  }
  rcv.ntfy_configs?.forEach((c, i) => {
    const at = [...base, "ntfy_configs", i];
    checkUrl(c.url, [...at, "url"], problems);
    if (both(c.token, c.token_file))
      problems.push({ path: at, message: "at most one of token & token_file must be configured" });
  });
}

function buildInhibitRule(r: InhibitRuleConfig, index: number, problems: PathProblem[]): InhibitRule {
  const base = ["inhibit_rules", index];
  const equal: string[] = [];
  (r.equal ?? []).forEach((label, i) => {
    if (!isValidLabelName(label))
      problems.push({ path: [...base, "equal", i], message: `invalid label name "${label}" in equal list` });
    else equal.push(label);
  });
  const rule: InhibitRule = {
    index,
    sourceMatchers: collectMatchers(
      r.source_match,
      r.source_match_re,
      r.source_matchers,
      base,
      { match: "source_match", matchRe: "source_match_re", matchers: "source_matchers" },
      problems,
    ),
    targetMatchers: collectMatchers(
      r.target_match,
      r.target_match_re,
      r.target_matchers,
      base,
      { match: "target_match", matchRe: "target_match_re", matchers: "target_matchers" },
      problems,
    ),
    equal,
  };
  if (r.name !== undefined) rule.name = r.name;
  return rule;
}

function walkRoutes(
  cr: RouteConfig,
  path: Array<string | number>,
  visit: (r: RouteConfig, path: Array<string | number>) => void,
): void {
  visit(cr, path);
  for (const [i, child] of (cr.routes ?? []).entries()) walkRoutes(child, [...path, "routes", i], visit);
}

/** Every check Alertmanager's config.Load makes, collected rather than stopping at the first. */
export function compileAlertmanagerConfig(file: AlertmanagerFile): {
  config?: RoutingConfig;
  problems: PathProblem[];
} {
  const problems: PathProblem[] = [];
  const global = file.global ?? {};
  const resolveTimeoutMs =
    duration(global.resolve_timeout, ["global", "resolve_timeout"], problems) ?? DEFAULTS.resolveTimeoutMs;
  for (const key of [
    "pagerduty_url",
    "opsgenie_api_url",
    "slack_api_url",
    "telegram_api_url",
    "wechat_api_url",
    "victorops_api_url",
    "webex_api_url",
    "jira_api_url",
    "rocketchat_api_url",
  ] as const) {
    checkUrl(global[key], ["global", key], problems);
  }
  if (global.slack_api_url && global.slack_api_url_file)
    problems.push({
      path: ["global"],
      message: "at most one of slack_api_url & slack_api_url_file must be configured",
    });
  if (global.opsgenie_api_key && global.opsgenie_api_key_file)
    problems.push({
      path: ["global"],
      message: "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
    });
  if (global.smtp_auth_password && global.smtp_auth_password_file)
    problems.push({
      path: ["global"],
      message: "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
    });

  const receivers = new Map<string, ReceiverConfig>();
  (file.receivers ?? []).forEach((rcv, i) => {
    if (receivers.has(rcv.name))
      problems.push({
        path: ["receivers", i, "name"],
        message: `notification config name "${rcv.name}" is not unique`,
      });
    checkReceiver(rcv, file.global, ["receivers", i], problems);
    receivers.set(rcv.name, rcv);
  });

  const timeIntervals = new Map<string, CompiledInterval[]>();
  const addIntervals = (
    list: AlertmanagerFile["time_intervals"],
    field: "mute_time_intervals" | "time_intervals",
  ) => {
    (list ?? []).forEach((ti, i) => {
      const at = [field, i];
      if (ti.name === "")
        problems.push({
          path: at,
          message: `missing name in ${field === "time_intervals" ? "" : "mute "}time interval`,
        });
      if (timeIntervals.has(ti.name))
        problems.push({
          path: [...at, "name"],
          message: `${field === "time_intervals" ? "" : "mute "}time interval "${ti.name}" is not unique`,
        });
      const compiled: CompiledInterval[] = [];
      ti.time_intervals.forEach((entry, j) => {
        const r = compileInterval(entry);
        for (const p of r.problems)
          problems.push({ path: [...at, "time_intervals", j, ...p.path], message: p.message });
        compiled.push(r.interval);
      });
      timeIntervals.set(ti.name, compiled);
    });
  };
  addIntervals(file.mute_time_intervals, "mute_time_intervals");
  addIntervals(file.time_intervals, "time_intervals");

  const inhibitRules = (file.inhibit_rules ?? []).map((r, i) => buildInhibitRule(r, i, problems));

  if (file.route === undefined) {
    problems.push({ path: [], message: "no route provided in config: add a route with a receiver" });
    return { problems };
  }
  const root = file.route;
  if (!root.receiver)
    problems.push({ path: ["route"], message: "root route must specify a default receiver" });
  if (root.match || root.match_re || (root.matchers && root.matchers.length > 0))
    problems.push({ path: ["route"], message: "root route must not have any matchers" });
  if (root.mute_time_intervals && root.mute_time_intervals.length > 0)
    problems.push({
      path: ["route", "mute_time_intervals"],
      message: "root route must not have any mute time intervals",
    });
  if (root.active_time_intervals && root.active_time_intervals.length > 0)
    problems.push({
      path: ["route", "active_time_intervals"],
      message: "root route must not have any active time intervals",
    });
  if (root.continue)
    problems.push({ path: ["route", "continue"], message: "cannot have continue in root route" });
  const receiverNames = [...receivers.keys()];
  const intervalNames = [...timeIntervals.keys()];
  walkRoutes(root, ["route"], (r, path) => {
    if (r.receiver && !receivers.has(r.receiver)) {
      const close = didYouMean(r.receiver, receiverNames);
      problems.push({
        path: [...path, "receiver"],
        message: `undefined receiver "${r.receiver}" used in route${close ? `. Did you mean "${close}"?` : ""}`,
      });
    }
    for (const field of ["mute_time_intervals", "active_time_intervals"] as const) {
      (r[field] ?? []).forEach((name, i) => {
        if (!timeIntervals.has(name)) {
          const close = didYouMean(name, intervalNames);
          problems.push({
            path: [...path, field, i],
            message: `undefined time interval "${name}" used in route${close ? `. Did you mean "${close}"?` : ""}`,
          });
        }
      });
    }
  });
  const route = buildRoute(root, undefined, "0", ["route"], problems);
  if (problems.length > 0) return { problems };
  return {
    config: {
      route,
      receivers,
      inhibitRules,
      timeIntervals,
      resolveTimeoutMs,
      templates: file.templates ?? [],
      source: file,
    },
    problems,
  };
}

/** Turns zod issues into path problems, with "did you mean" for unknown fields. */
export function zodProblems(error: z.ZodError, known: (path: Path) => string[]): PathProblem[] {
  const out: PathProblem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p));
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const close = didYouMean(key, known(path));
        const where = path.length > 0 ? ` in ${path.join(".")}` : " at the top level";
        out.push({
          path,
          key,
          message: `field ${key} not found${where}.${close ? ` Did you mean "${close}"?` : ""}`,
        });
      }
      continue;
    }
    const where = path.length > 0 ? `${path.join(".")}: ` : "";
    out.push({ path, message: `${where}${issue.message}` });
  }
  return out;
}

/** The field names Alertmanager accepts at a path inside its file, for "did you mean". */
export function knownFields(path: Path): string[] {
  const shapeOf = (schema: unknown): Record<string, unknown> | undefined => {
    let s = schema as { _zod?: { def?: Record<string, unknown> } } | undefined;
    for (let i = 0; i < 8 && s?._zod?.def; i++) {
      const def = s._zod.def;
      if (def.type === "object") return def.shape as Record<string, unknown>;
      if (def.type === "lazy") s = (def.getter as () => typeof s)();
      else if (def.type === "pipe") s = def.in as typeof s;
      else if (def.type === "array") s = def.element as typeof s;
      else if ("innerType" in def) s = def.innerType as typeof s;
      else return undefined;
    }
    return undefined;
  };
  let schema: unknown = AlertmanagerFileSchema;
  for (const segment of path) {
    if (typeof segment === "number") continue;
    const shape = shapeOf(schema);
    schema = shape?.[segment];
  }
  return Object.keys(shapeOf(schema) ?? {});
}

export interface LoadResult {
  config?: RoutingConfig;
  problems: ConfigProblem[];
}

/** Reads an Alertmanager configuration file as it is; every problem with file:line:column. */
export function loadAlertmanagerConfig(text: string, file = "alertmanager.yml"): LoadResult {
  const yaml = parseYamlWithPositions(text, file);
  if (yaml.problems.length > 0) return { problems: yaml.problems };
  const toProblem = (p: PathProblem): ConfigProblem => {
    const pos = p.key !== undefined ? yaml.locateKey(p.path, p.key) : yaml.locate(p.path);
    return { file, ...pos, severity: "error", message: p.message };
  };
  const parsed = AlertmanagerFileSchema.safeParse(yaml.value ?? {});
  if (!parsed.success) return { problems: zodProblems(parsed.error, knownFields).map(toProblem) };
  const compiled = compileAlertmanagerConfig(parsed.data);
  const problems = compiled.problems.map(toProblem).sort((a, b) => a.line - b.line || a.column - b.column);
  return compiled.config ? { config: compiled.config, problems } : { problems };
}

/** The route tree as `amtool config routes show` prints it, for docs and debugging. */
export function describeRoute(node: RouteNode, indent = ""): string {
  const opts = [
    node.groupByAll
      ? "group_by: ..."
      : node.groupBy.length > 0
        ? `group_by: [${node.groupBy.join(", ")}]`
        : "",
    `wait ${formatModelDuration(node.groupWaitMs)}, interval ${formatModelDuration(node.groupIntervalMs)}, repeat ${formatModelDuration(node.repeatIntervalMs)}`,
    node.continue ? "continue" : "",
  ].filter((s) => s !== "");
  const line = `${indent}${matchersString(node.matchers)} -> ${node.receiver} (${opts.join("; ")})`;
  return [line, ...node.routes.map((r) => describeRoute(r, `${indent}  `))].join("\n");
}
