import type { NotificationRequest, NotifiedAlert } from "../alerting/routing/index.js";
import {
  ALERT_TEMPLATE_FUNCTIONS,
  type FunctionSpec,
  GoMap,
  GoStruct,
  GoTemplate,
  type GoValue,
  goTimeValue,
  TemplateError,
  withMethods,
} from "../alerting/rules/index.js";

/**
 * Message text for notifications: Alertmanager's data model (template/template.go: `.Status`, `.Alerts` with
 * `.Firing`/`.Resolved`, `.CommonLabels` with `SortedPairs`/`Remove`/`Names`/`Values`, `.ExternalURL`…) and its
 * template functions, for custom Go templates in an integration's title/text fields, and the default title
 * and bodies that every notifier starts from.
 */

const str = (v: GoValue): string =>
  typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);

function stringList(v: GoValue, fn: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
    throw new Error(`${fn} needs a list of strings ([]string)`);
  return v as string[];
}

/** x/text/cases Title, as Alertmanager's `title`: each word's first letter upper case, the rest lower. */
function titleCase(text: string): string {
  const chars = [...text];
  const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}\p{M}_]/u.test(c);
  let out = "";
  let inWord = false;
  chars.forEach((c, i) => {
    // An apostrophe, period or colon between letters does not end a word (Unicode word boundaries).
    const joiner = /['.:\u2019]/.test(c) && inWord && isWordChar(chars[i + 1]);
    if (isWordChar(c)) {
      out += inWord ? c.toLowerCase() : c.toUpperCase();
      inWord = true;
    } else {
      out += c;
      inWord = joiner;
    }
  });
  return out;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "'": "&#39;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&#34;",
};

/** Go's text/template HTMLEscapeString, as the `html` builtin writes it (NUL becomes U+FFFD). */
function htmlEscapeGo(text: string): string {
  return text.replace(/[&'<>"]/g, (c) => HTML_ESCAPES[c] ?? c).replaceAll("\u0000", "\uFFFD");
}

/**
 * Alertmanager's DefaultFuncs (template/template.go) over Go's builtins and Prometheus's functions. 0.25 has
 * no trimSpace (later versions do); Nines offers it, so templates written for either work.
 */
export const NOTIFY_TEMPLATE_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  ...ALERT_TEMPLATE_FUNCTIONS,
  title: { arity: 1, fn: ([s]) => titleCase(str(s)) },
  trimSpace: { arity: 1, fn: ([s]) => str(s).trim() },
  join: { arity: 2, fn: ([sep, list]) => stringList(list, "join").join(str(sep)) },
  stringSlice: { fn: (args) => args.map(str) },
  html: { fn: (args) => htmlEscapeGo(args.map(str).join("")) },
  safeUrl: { arity: 1, fn: ([s]) => str(s) },
  urlUnescape: { arity: 1, fn: ([s]) => decodeURIComponent(str(s)) },
};

/** Go's RFC 3339 with the fraction trimmed, as encoding/json writes a time.Time; zero time for 0. */
export function goTime(ms: number): string {
  if (!ms) return "0001-01-01T00:00:00Z";
  const iso = new Date(ms).toISOString(); // …THH:MM:SS.mmmZ, or ±YYYYYY-… beyond year 9999
  const millis = ms % 1000;
  if (millis === 0) return `${iso.slice(0, -5)}Z`;
  // Trailing zeros of the fraction go, as Go's RFC3339Nano writes it (.5, .25, .125).
  const fraction = iso.slice(-4, -1);
  return `${iso.slice(0, -4)}${fraction.endsWith("00") ? fraction[0] : fraction.endsWith("0") ? fraction.slice(0, 2) : fraction}Z`;
}

/** template.Pairs: a list of `{Name, Value}` with Names and Values; Alertmanager 0.25 prints it as Go does. */
function pairsValue(pairs: ReadonlyArray<readonly [string, string]>): readonly GoValue[] {
  const list = pairs.map(
    ([name, value]) =>
      new GoStruct(
        "template.Pair",
        new Map<string, GoValue>([
          ["Name", name],
          ["Value", value],
        ]),
      ),
  );
  return withMethods(list, {
    typeName: "template.Pairs",
    methods: {
      Names: { arity: 0, fn: () => pairs.map(([n]) => n) },
      Values: { arity: 0, fn: () => pairs.map(([, v]) => v) },
    },
  });
}

/** KV.SortedPairs: alertname first, then the other names in byte order. */
function sortedPairs(kv: Readonly<Record<string, string>>): Array<[string, string]> {
  const names = Object.keys(kv)
    .filter((k) => k !== "alertname")
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if ("alertname" in kv) names.unshift("alertname");
  return names.map((k) => [k, kv[k] ?? ""]);
}

/** template.KV: a label or annotation set, indexable by name, with Alertmanager's methods. */
export function kvValue(kv: Readonly<Record<string, string>>): GoMap {
  return withMethods(GoMap.of(kv), {
    typeName: "template.KV",
    methods: {
      SortedPairs: { arity: 0, fn: () => pairsValue(sortedPairs(kv)) },
      Names: { arity: 0, fn: () => sortedPairs(kv).map(([n]) => n) },
      Values: { arity: 0, fn: () => sortedPairs(kv).map(([, v]) => v) },
      Remove: {
        arity: 1,
        fn: ([keys]) => {
          const drop = new Set(stringList(keys, "Remove"));
          return kvValue(Object.fromEntries(Object.entries(kv).filter(([k]) => !drop.has(k))));
        },
      },
    },
  });
}

function alertStruct(a: NotifiedAlert): GoStruct {
  return new GoStruct(
    "template.Alert",
    new Map<string, GoValue>([
      ["Status", a.status],
      ["Labels", kvValue(a.labels)],
      ["Annotations", kvValue(a.annotations)],
      ["StartsAt", goTimeValue(a.startsAt)],
      ["EndsAt", goTimeValue(a.endsAt)],
      ["GeneratorURL", a.generatorURL ?? ""],
      ["Fingerprint", a.fingerprint],
    ]),
  );
}

/** template.Alerts: the list, with Firing and Resolved. */
function alertsValue(alerts: readonly NotifiedAlert[]): readonly GoValue[] {
  const of = (list: readonly NotifiedAlert[]) => list.map(alertStruct);
  return withMethods(of(alerts), {
    typeName: "template.Alerts",
    methods: {
      Firing: { arity: 0, fn: () => of(alerts.filter((a) => a.status === "firing")) },
      Resolved: { arity: 0, fn: () => of(alerts.filter((a) => a.status === "resolved")) },
    },
  });
}

/** Go's regexp.QuoteMeta, which Alertmanager applies to `.Receiver`. */
const quoteMeta = (text: string) => text.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");

/** Alertmanager's template.Data for a notification. */
export function templateData(request: NotificationRequest, externalURL: string): GoStruct {
  return new GoStruct(
    "*template.Data",
    new Map<string, GoValue>([
      ["Receiver", quoteMeta(request.receiver)],
      ["Status", request.status],
      ["Alerts", alertsValue(request.alerts)],
      ["GroupLabels", kvValue(request.groupLabels)],
      ["CommonLabels", kvValue(request.commonLabels)],
      ["CommonAnnotations", kvValue(request.commonAnnotations)],
      ["ExternalURL", externalURL],
      // Not in Alertmanager's data; Nines has always offered it, and an extra field breaks no template.
      ["GroupKey", request.groupKey],
    ]),
  );
}

/** `{{ template "slack.default.title" . }}` and the like name Alertmanager's defaults: Nines uses its own. */
const DEFAULT_REFERENCE = /^\s*\{\{-?\s*template\s+"([^"]*default[^"]*)"\s+\.\s*-?\}\}\s*$/;

/** An Alertmanager template file (`templates:` in its configuration): its `{{ define }}` blocks. */
export interface TemplateFile {
  name: string;
  text: string;
}

/**
 * An integration's title/text field: undefined, or a reference to one of Alertmanager's default templates
 * that `library` does not redefine, gives Nines's default; anything else is a Go template over
 * Alertmanager's data, which may call the templates defined in `library`. A broken template does not stop
 * the notification: the default is sent with the error appended, so the operator sees it.
 */
export function renderText(
  template: string | undefined,
  fallback: () => string,
  request: NotificationRequest,
  externalURL: string,
  library: readonly TemplateFile[] = [],
): string {
  if (template === undefined) return fallback();
  if (!template.includes("{{")) return template;
  try {
    const parsed = GoTemplate.parse("notification", template, NOTIFY_TEMPLATE_FUNCTIONS, library);
    const reference = DEFAULT_REFERENCE.exec(template)?.[1];
    if (reference !== undefined && !parsed.defines(reference)) return fallback();
    return parsed.execute(templateData(request, externalURL));
  } catch (error) {
    if (error instanceof TemplateError) return `${fallback()}\n\n(template error: ${error.message})`;
    throw error;
  }
}

const sortedValues = (labels: Record<string, string>, skip: Record<string, string> = {}): string[] =>
  Object.keys(labels)
    .filter((k) => !(k in skip))
    .sort()
    .map((k) => labels[k] ?? "");

/** Alertmanager's __subject: `[FIRING:2] HighLatency api (prod critical)`. */
export function defaultTitle(request: NotificationRequest): string {
  const status = request.status === "firing" ? `FIRING:${request.firingCount}` : request.status.toUpperCase();
  const group = sortedValues(request.groupLabels).join(" ");
  const extra = sortedValues(request.commonLabels, request.groupLabels);
  return `[${status}] ${group}${extra.length > 0 ? ` (${extra.join(" ")})` : ""}`.trim();
}

/** What each alert is about, as the default bodies show it. */
export interface AlertSummary {
  status: "firing" | "resolved";
  name: string;
  summary: string | undefined;
  description: string | undefined;
  labels: Array<[string, string]>;
  runbookURL: string | undefined;
  generatorURL: string | undefined;
  startsAt: string;
  endsAt: string | undefined;
}

export function summarizeAlerts(request: NotificationRequest): AlertSummary[] {
  return request.alerts.map((a) => ({
    status: a.status,
    name: a.labels.alertname ?? "alert",
    summary: a.annotations.summary,
    description: a.annotations.description ?? a.annotations.message,
    labels: Object.keys(a.labels)
      .filter((k) => k !== "alertname")
      .sort()
      .map((k): [string, string] => [k, a.labels[k] ?? ""]),
    runbookURL: a.annotations.runbook_url,
    generatorURL: a.generatorURL || undefined,
    startsAt: new Date(a.startsAt).toISOString(),
    endsAt: a.status === "resolved" ? new Date(a.endsAt).toISOString() : undefined,
  }));
}

/** A counts line: "2 firing, 1 resolved". */
export function countsLine(request: NotificationRequest): string {
  const parts: string[] = [];
  if (request.firingCount > 0) parts.push(`${request.firingCount} firing`);
  if (request.resolvedCount > 0) parts.push(`${request.resolvedCount} resolved`);
  return parts.join(", ");
}

/** The default plain-text body: one block per alert, resolved ones marked. */
export function defaultText(request: NotificationRequest, externalURL: string): string {
  const lines: string[] = [`${countsLine(request)} (receiver ${request.receiver})`, ""];
  for (const a of summarizeAlerts(request)) {
    lines.push(`[${a.status.toUpperCase()}] ${a.name}${a.summary ? `: ${a.summary}` : ""}`);
    if (a.description) lines.push(`  ${a.description}`);
    if (a.labels.length > 0) lines.push(`  Labels: ${a.labels.map(([k, v]) => `${k}=${v}`).join(", ")}`);
    lines.push(a.endsAt ? `  Started ${a.startsAt}, resolved ${a.endsAt}` : `  Since ${a.startsAt}`);
    if (a.runbookURL) lines.push(`  Runbook: ${a.runbookURL}`);
    if (a.generatorURL) lines.push(`  Source: ${a.generatorURL}`);
    lines.push("");
  }
  if (externalURL) lines.push(`Alerts: ${externalURL}`);
  return lines.join("\n").trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The default HTML body (email): the same content as the text body. */
export function defaultHtml(request: NotificationRequest, externalURL: string): string {
  const title = escapeHtml(defaultTitle(request));
  const blocks = summarizeAlerts(request).map((a) => {
    const color = a.status === "firing" ? "#d9534f" : "#5cb85c";
    const rows = [
      a.description ? `<p>${escapeHtml(a.description)}</p>` : "",
      a.labels.length > 0
        ? `<p style="color:#555">${a.labels.map(([k, v]) => `${escapeHtml(k)}=<b>${escapeHtml(v)}</b>`).join(", ")}</p>`
        : "",
      `<p style="color:#777">${a.endsAt ? `Started ${a.startsAt}, resolved ${a.endsAt}` : `Since ${a.startsAt}`}</p>`,
      a.runbookURL ? `<p><a href="${escapeHtml(a.runbookURL)}">Runbook</a></p>` : "",
      a.generatorURL ? `<p><a href="${escapeHtml(a.generatorURL)}">Source</a></p>` : "",
    ].join("");
    return `<div style="border-left:4px solid ${color};padding:4px 12px;margin:12px 0"><h3 style="margin:4px 0">[${a.status.toUpperCase()}] ${escapeHtml(a.name)}${a.summary ? `: ${escapeHtml(a.summary)}` : ""}</h3>${rows}</div>`;
  });
  const link = externalURL ? `<p><a href="${escapeHtml(externalURL)}">View in Nines</a></p>` : "";
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body style="font-family:sans-serif"><h2>${title}</h2><p>${escapeHtml(countsLine(request))}</p>${blocks.join("")}${link}</body></html>`;
}
