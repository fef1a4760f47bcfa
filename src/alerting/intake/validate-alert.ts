import { CLASSIC_LABEL_NAME } from "../../promql/index.js";
import type { IncomingAlert } from "../alert-model.js";
import { type CheckedAlert, fingerprint, sortedLabelNames } from "../routing/index.js";

/** What validateAlert returns: the routing dispatcher takes it as it is (receiveChecked). */
export type ValidAlert = CheckedAlert;

function parseTime(text: unknown, field: string): number | undefined | { error: string } {
  if (text === undefined || text === null || text === "") return undefined;
  if (typeof text !== "string") return { error: `${field}: not an RFC 3339 time: ${JSON.stringify(text)}` };
  // Go's zero time, as some senders write "no time".
  if (text.startsWith("0001-01-01")) return undefined;
  const t = Date.parse(text);
  return Number.isNaN(t) ? { error: `${field}: not an RFC 3339 time: ${text}` } : t;
}

function checkLabelSet(set: Record<string, unknown>): string | undefined {
  for (const name in set) {
    const value = set[name];
    if (!CLASSIC_LABEL_NAME.test(name)) return `invalid name ${JSON.stringify(name)}`;
    if (typeof value !== "string" || !isWellFormed(value)) return `invalid value ${JSON.stringify(value)}`;
  }
  return undefined;
}

function isWellFormed(s: string): boolean {
  // Lone surrogates are what JavaScript strings hold where Go's utf8.ValidString fails.
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * One alert of POST /api/v2/alerts as Alertmanager 0.25 takes it (api/v2/api.go postAlertsHandler and
 * types.Alert.Validate): empty label values dropped, startsAt defaulted to endsAt or now, then the checks in
 * Alertmanager's order with its wording. Returns the reason when the alert is refused.
 */
export function validateAlert(incoming: IncomingAlert | unknown, now: number): ValidAlert | string {
  const alert = asRecord(incoming);
  if (alert === undefined) return "an alert must be a JSON object";
  const rawLabels = asRecord(alert.labels) ?? {};
  // Copied in Go's name order, which fingerprint() then need not sort again.
  const labels: Record<string, string> = {};
  let labelCount = 0;
  for (const name of sortedLabelNames(rawLabels)) {
    const value = rawLabels[name];
    if (value === "") continue;
    labels[name] = value as string;
    labelCount++;
  }
  const starts = parseTime(alert.startsAt, "startsAt");
  const ends = parseTime(alert.endsAt, "endsAt");
  if (typeof starts === "object") return starts.error;
  if (typeof ends === "object") return ends.error;
  const startsAt = starts ?? ends ?? now;
  if (ends !== undefined && ends < startsAt) return "start time must be before end time";
  const labelProblem = checkLabelSet(labels);
  if (labelProblem !== undefined) return `invalid label set: ${labelProblem}`;
  if (labelCount === 0) return "at least one label pair required";
  const annotations = asRecord(alert.annotations) ?? {};
  const annotationProblem = checkLabelSet(annotations);
  if (annotationProblem !== undefined) return `invalid annotations: ${annotationProblem}`;
  const generatorURL =
    typeof alert.generatorURL === "string" && alert.generatorURL !== "" ? alert.generatorURL : null;
  return {
    fingerprint: fingerprint(labels),
    labels,
    annotations: annotations as Record<string, string>,
    startsAt,
    endsAt: ends ?? null,
    generatorURL,
  };
}

/** The alert as the routing dispatcher receives it (it applies the same defaults). */
export function toIncoming(alert: ValidAlert): IncomingAlert {
  const out: IncomingAlert = {
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: new Date(alert.startsAt).toISOString(),
  };
  if (alert.endsAt !== null) out.endsAt = new Date(alert.endsAt).toISOString();
  if (alert.generatorURL !== null) out.generatorURL = alert.generatorURL;
  return out;
}
