import type { NotificationRequest, NotifiedAlert } from "../alerting/routing/index.js";
import type { OutboxPayload } from "./integrations.js";
import { goTime } from "./notify-template.js";

/**
 * An alert as Alertmanager's webhook (message version 4) sends it, keys in Go's field order: times in RFC 3339,
 * the zero time while it fires, an empty generatorURL when there is none.
 */
export interface WebhookAlert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export function webhookAlert(a: NotifiedAlert): WebhookAlert {
  return {
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: goTime(a.startsAt),
    endsAt: goTime(a.endsAt),
    generatorURL: a.generatorURL ?? "",
    fingerprint: a.fingerprint,
  };
}

const GO_ZERO_TIME = "0001-01-01T00:00:00Z";

function notifiedAlert(a: WebhookAlert): NotifiedAlert {
  const out: NotifiedAlert = {
    fingerprint: a.fingerprint,
    status: a.status,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt === GO_ZERO_TIME ? 0 : Date.parse(a.startsAt),
    endsAt: a.endsAt === GO_ZERO_TIME ? 0 : Date.parse(a.endsAt),
  };
  if (a.generatorURL !== "") out.generatorURL = a.generatorURL;
  return out;
}

/**
 * Each alert version's webhook JSON. The dispatcher hands every notification of one alert version the same
 * NotifiedAlert, so a storm renders each version once, however many group flushes carry it.
 */
const webhookAlertJsonCache = new WeakMap<NotifiedAlert, string>();
function webhookAlertJson(alert: NotifiedAlert): string {
  let json = webhookAlertJsonCache.get(alert);
  if (json === undefined) {
    json = JSON.stringify(webhookAlert(alert));
    webhookAlertJsonCache.set(alert, json);
  }
  return json;
}

/** A stored payload with its alerts left as the webhook JSON they were stored as. */
export interface StoredEnvelope extends Omit<OutboxPayload, "request"> {
  request: Omit<NotificationRequest, "alerts">;
}

/**
 * What a notification's stored request (notification_requests.request) holds: the payload without its
 * alerts, as JSON; a line break; then the alerts, as the JSON array that Alertmanager's webhook sends. JSON
 * text never holds a raw line break, so the first one splits the two. A webhook is sent by splicing that
 * array into its body, unparsed, and the alerts' JSON is rendered once per alert version. Requests written
 * before this format are one JSON document of the whole payload: every reader takes both.
 */
export function storedRequestText(payload: OutboxPayload): string {
  const { alerts, ...rest } = payload.request;
  const envelope: StoredEnvelope = { ...payload, request: rest };
  return `${JSON.stringify(envelope)}\n[${alerts.map(webhookAlertJson).join(",")}]`;
}

/** The envelope and the alerts' webhook JSON, without parsing the alerts. Throws on text that is not JSON. */
export function splitStoredRequest(text: string): { envelope: StoredEnvelope; alertsJson: string } {
  const cut = text.indexOf("\n");
  if (cut >= 0)
    return { envelope: JSON.parse(text.slice(0, cut)) as StoredEnvelope, alertsJson: text.slice(cut + 1) };
  // The earlier format: the whole payload, alerts with times in ms.
  const { request, ...rest } = JSON.parse(text) as OutboxPayload;
  const { alerts, ...envelopeRequest } = request;
  return {
    envelope: { ...rest, request: envelopeRequest },
    alertsJson: JSON.stringify((alerts ?? []).map(webhookAlert)),
  };
}

/** The whole payload of a stored request, in either format. Throws on text that is not JSON. */
export function parseStoredRequest(text: string): OutboxPayload {
  const cut = text.indexOf("\n");
  if (cut < 0) return JSON.parse(text) as OutboxPayload;
  return withStoredAlerts(JSON.parse(text.slice(0, cut)) as StoredEnvelope, text.slice(cut + 1));
}

/** The payload of a split stored request, its alerts parsed from their webhook JSON. */
export function withStoredAlerts(envelope: StoredEnvelope, alertsJson: string): OutboxPayload {
  const alerts = (JSON.parse(alertsJson) as WebhookAlert[]).map(notifiedAlert);
  return { ...envelope, request: { ...envelope.request, alerts } };
}
