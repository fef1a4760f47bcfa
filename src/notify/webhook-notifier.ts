import { createHmac } from "node:crypto";
import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, missing, type Notifier, postJsonText, secretOf } from "./notifier.js";
import { goTime } from "./notify-template.js";

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
  alerts: Array<{
    status: "firing" | "resolved";
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    generatorURL: string;
    fingerprint: string;
  }>;
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
    alerts: kept.map((a) => ({
      status: a.status,
      labels: a.labels,
      annotations: a.annotations,
      startsAt: goTime(a.startsAt),
      endsAt: goTime(a.endsAt),
      generatorURL: a.generatorURL ?? "",
      fingerprint: a.fingerprint,
    })),
    groupLabels: request.groupLabels,
    commonLabels: request.commonLabels,
    commonAnnotations: request.commonAnnotations,
    externalURL,
    version: "4",
    groupKey: request.groupKey,
    truncatedAlerts: request.alerts.length - kept.length,
  };
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export const webhookNotifier: Notifier<WebhookNotifierConfig> = {
  async send({ request, config, idempotencyKey, externalURL, signal }) {
    const url = await secretOf(config.url, config.url_file);
    if (!url) return missing("webhook url");
    const message = webhookMessage(request, externalURL, config.max_alerts ?? 0);
    const body = JSON.stringify(message);
    const headers: Record<string, string> = {
      ...(await httpConfigHeaders(config.http_config)),
      "idempotency-key": idempotencyKey,
    };
    const secret = await secretOf(config.hmac_secret, config.hmac_secret_file);
    if (secret) headers["x-nines-signature"] = signBody(secret, body);
    return postJsonText(url, body, { headers, signal });
  },
};
