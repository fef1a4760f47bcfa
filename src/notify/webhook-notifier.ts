import { createHmac } from "node:crypto";
import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, missing, type Notifier, postJsonText, secretOf } from "./notifier.js";
import { type WebhookAlert, webhookAlert } from "./stored-request.js";

/**
 * A webhook config with Nines's signing fields. They are not (yet) in the receiver schema; a config that has
 * them gets `X-Nines-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 */
export type WebhookNotifierConfig = IntegrationConfigs["webhook_configs"] & {
  hmac_secret?: string;
  hmac_secret_file?: string;
};

/** Alertmanager's webhook message, version 4 (notify/webhook/webhook.go), keys in Go's field order. */
export interface WebhookMessage {
  receiver: string;
  status: "firing" | "resolved";
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  version: "4";
  groupKey: string;
  truncatedAlerts: number;
}

export function webhookMessage(
  request: NotificationRequest,
  externalURL: string,
  maxAlerts = 0,
): WebhookMessage {
  const kept = maxAlerts > 0 ? request.alerts.slice(0, maxAlerts) : request.alerts;
  return {
    receiver: request.receiver,
    status: request.status,
    alerts: kept.map(webhookAlert),
    groupLabels: request.groupLabels,
    commonLabels: request.commonLabels,
    commonAnnotations: request.commonAnnotations,
    externalURL,
    version: "4",
    groupKey: request.groupKey,
    truncatedAlerts: request.alerts.length - kept.length,
  };
}

/**
 * JSON.stringify(webhookMessage(…)) for alerts already in the webhook's JSON (as the outbox stores them),
 * spliced in unparsed; `alertCount` is how many that array holds. Parses them only to cut at max_alerts.
 */
export function webhookBody(
  request: Omit<NotificationRequest, "alerts">,
  alertsJson: string,
  alertCount: number,
  externalURL: string,
  maxAlerts = 0,
): string {
  let alerts = alertsJson;
  let truncated = 0;
  if (maxAlerts > 0 && alertCount > maxAlerts) {
    alerts = JSON.stringify((JSON.parse(alertsJson) as WebhookAlert[]).slice(0, maxAlerts));
    truncated = alertCount - maxAlerts;
  }
  const j = JSON.stringify;
  return `{"receiver":${j(request.receiver)},"status":${j(request.status)},"alerts":${alerts},"groupLabels":${j(request.groupLabels)},"commonLabels":${j(request.commonLabels)},"commonAnnotations":${j(request.commonAnnotations)},"externalURL":${j(externalURL)},"version":"4","groupKey":${j(request.groupKey)},"truncatedAlerts":${truncated}}`;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export const webhookNotifier: Notifier<WebhookNotifierConfig> = {
  async send({ request, config, idempotencyKey, externalURL, signal, webhookAlertsJson }) {
    const url = await secretOf(config.url, config.url_file);
    if (!url) return missing("webhook url");
    const body =
      webhookAlertsJson === undefined
        ? JSON.stringify(webhookMessage(request, externalURL, config.max_alerts ?? 0))
        : webhookBody(
            request,
            webhookAlertsJson,
            request.firingCount + request.resolvedCount,
            externalURL,
            config.max_alerts ?? 0,
          );
    const headers: Record<string, string> = {
      ...(await httpConfigHeaders(config.http_config)),
      "idempotency-key": idempotencyKey,
    };
    const secret = await secretOf(config.hmac_secret, config.hmac_secret_file);
    if (secret) headers["x-nines-signature"] = signBody(secret, body);
    return postJsonText(url, body, { headers, signal });
  },
};
