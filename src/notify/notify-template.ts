import type { NotificationRequest, NotifiedAlert } from "../alerting/routing/index.js";
import {
  ALERT_TEMPLATE_FUNCTIONS,
  type FunctionSpec,
  GoMap,
  GoStruct,
  GoTemplate,
  type GoValue,
  TemplateError,
} from "../alerting/rules/index.js";

/**
 * Message text for notifications: Alertmanager's data model (`.Status`, `.Alerts`, `.CommonLabels`,
 * `.GroupLabels`, `.ExternalURL`…) for custom Go templates in an integration's title/text fields, and the
 * default title and bodies that every notifier starts from.
 */

const str = (v: GoValue): string =>
  typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);

/** Alertmanager's template functions beyond Prometheus's (template/template.go DefaultFuncs). */
const NOTIFY_TEMPLATE_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  ...ALERT_TEMPLATE_FUNCTIONS,
  trimSpace: { arity: 1, fn: ([s]) => str(s).trim() },
  join: {
    arity: 2,
    fn: ([sep, list]) =>
      Array.isArray(list) ? (list as readonly GoValue[]).map(str).join(str(sep)) : str(list),
  },
  stringSlice: { fn: (args) => args.map(str) },
  safeUrl: { arity: 1, fn: ([s]) => str(s) },
  urlUnescape: { arity: 1, fn: ([s]) => decodeURIComponent(str(s)) },
};

/** Go's RFC 3339 with the fraction trimmed, as encoding/json writes a time.Time; zero time for 0. */
export function goTime(ms: number): string {
  if (!ms) return "0001-01-01T00:00:00Z";
  return new Date(ms).toISOString().replace(/\.?0*Z$/, "Z");
}

function alertStruct(a: NotifiedAlert): GoStruct {
  return new GoStruct(
    "template.Alert",
    new Map<string, GoValue>([
      ["Status", a.status],
      ["Labels", GoMap.of(a.labels)],
      ["Annotations", GoMap.of(a.annotations)],
      ["StartsAt", goTime(a.startsAt)],
      ["EndsAt", goTime(a.endsAt)],
      ["GeneratorURL", a.generatorURL ?? ""],
      ["Fingerprint", a.fingerprint],
    ]),
  );
}

/** Alertmanager's template.Data for a notification. `.Alerts` is a list (no `.Alerts.Firing` method). */
export function templateData(request: NotificationRequest, externalURL: string): GoStruct {
  return new GoStruct(
    "*template.Data",
    new Map<string, GoValue>([
      ["Receiver", request.receiver],
      ["Status", request.status],
      ["Alerts", request.alerts.map(alertStruct)],
      ["GroupLabels", GoMap.of(request.groupLabels)],
      ["CommonLabels", GoMap.of(request.commonLabels)],
      ["CommonAnnotations", GoMap.of(request.commonAnnotations)],
      ["ExternalURL", externalURL],
      ["GroupKey", request.groupKey],
    ]),
  );
}

/** `{{ template "slack.default.title" . }}` and the like name Alertmanager's defaults: Nines uses its own. */
const DEFAULT_REFERENCE = /^\s*\{\{-?\s*template\s+"[^"]*default[^"]*"\s+\.\s*-?\}\}\s*$/;

/**
 * An integration's title/text field: undefined or a reference to a default template gives the default;
 * anything else is a Go template over Alertmanager's data. A broken template does not stop the
 * notification: the default is sent with the error appended, so the operator sees it.
 */
export function renderText(
  template: string | undefined,
  fallback: () => string,
  request: NotificationRequest,
  externalURL: string,
): string {
  if (template === undefined || DEFAULT_REFERENCE.test(template)) return fallback();
  if (!template.includes("{{")) return template;
  try {
    return GoTemplate.parse("notification", template, NOTIFY_TEMPLATE_FUNCTIONS).execute(
      templateData(request, externalURL),
    );
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
