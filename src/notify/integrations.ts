import { SEND_RESOLVED_DEFAULT as SEND_RESOLVED_BY_TYPE } from "../alerting/routing/index.js";
import type { z } from "zod";
import type { NotificationRequest } from "../alerting/routing/index.js";
import type { DELIVERED_INTEGRATIONS } from "../alerting/routing/index.js";

/** An integration Nines delivers, by its Alertmanager field name ("webhook_configs", …). */
export type IntegrationType = keyof typeof DELIVERED_INTEGRATIONS;

/** The parsed config of each integration type, as the receiver schema gives it. */
export type IntegrationConfigs = {
  [K in IntegrationType]: z.infer<(typeof DELIVERED_INTEGRATIONS)[K]>;
};

export const INTEGRATION_TYPES = [
  "webhook_configs",
  "slack_configs",
  "email_configs",
  "pagerduty_configs",
  "opsgenie_configs",
  "telegram_configs",
  "discord_configs",
  "msteams_configs",
  "msteamsv2_configs",
  "ntfy_configs",
] as const satisfies readonly IntegrationType[];

/** Alertmanager's send_resolved defaults (config/notifiers.go), as the routing core applies them. */
export const SEND_RESOLVED_DEFAULT: Readonly<Record<IntegrationType, boolean>> = SEND_RESOLVED_BY_TYPE;

export function isIntegrationType(name: string): name is IntegrationType {
  return (INTEGRATION_TYPES as readonly string[]).includes(name);
}

/** What an outbox row's `request` column holds: the notification and the one integration it goes to. */
export interface OutboxPayload {
  request: NotificationRequest;
  type: IntegrationType;
  /** The integration's config; may hold secrets (URLs with tokens, keys): never shown or logged. */
  config: Record<string, unknown>;
  /**
   * The configuration's template files when the notification was enqueued: a retry, and a notification
   * delivered after a restart or by another replica, renders with the same templates.
   */
  templates?: Array<{ name: string; text: string }>;
  /** Set when an operator sent a dead letter back: its age limit counts from here. */
  retriedAt?: number;
}

/** Config fields whose values are secrets, in any integration. */
export const SECRET_FIELDS = [
  "url",
  "api_url",
  "webhook_url",
  "routing_key",
  "service_key",
  "api_key",
  "bot_token",
  "token",
  "auth_password",
  "auth_secret",
  "hmac_secret",
  "bearer_token",
] as const;

/** Replaces any secret of the config that appears in text (an error message may quote a URL). */
export function redactSecrets(text: string, config: Record<string, unknown>): string {
  let out = text;
  const secrets: string[] = [];
  for (const field of SECRET_FIELDS) {
    const value = config[field];
    if (typeof value === "string" && value.length >= 4) secrets.push(value);
  }
  const http = config.http_config;
  if (http && typeof http === "object") {
    const bearer = (http as Record<string, unknown>).bearer_token;
    if (typeof bearer === "string" && bearer.length >= 4) secrets.push(bearer);
  }
  for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join("<secret>");
  return out;
}
