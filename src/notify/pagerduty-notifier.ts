import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { hashKey, httpConfigHeaders, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { defaultTitle, type TemplateFile } from "./notify-template.js";

type PagerdutyConfig = IntegrationConfigs["pagerduty_configs"];

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";
const SEVERITIES = new Set(["critical", "error", "warning", "info"]);

/**
 * An Events API v2 event: a trigger carries the payload, a resolve only the routing and dedup keys. The
 * dedup key is the hash of the group key, so every notification of one group updates one PagerDuty alert.
 */
export function pagerdutyEvent(
  request: NotificationRequest,
  config: PagerdutyConfig,
  routingKey: string,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const text = fieldText(request, externalURL, templates);
  const action = request.status === "firing" ? "trigger" : "resolve";
  const client = text(config.client, () => "Nines", "pagerduty.default.client");
  const event: Record<string, unknown> = {
    routing_key: routingKey,
    event_action: action,
    dedup_key: hashKey(request.groupKey),
  };
  if (action === "resolve") return event;
  const severity = text(config.severity, () => request.commonLabels.severity ?? "error").toLowerCase();
  const details: Record<string, unknown> = config.details
    ? Object.fromEntries(
        Object.entries(config.details).map(([k, v]) => [k, typeof v === "string" ? text(v, () => v) : v]),
      )
    : {
        firing: request.alerts
          .filter((a) => a.status === "firing")
          .map((a) => a.labels.alertname)
          .join(", "),
        num_firing: request.firingCount,
        num_resolved: request.resolvedCount,
        resolved: request.alerts
          .filter((a) => a.status === "resolved")
          .map((a) => a.labels.alertname)
          .join(", "),
      };
  const summary = text(config.description, () => defaultTitle(request), "pagerduty.default.description");
  event.payload = {
    summary: summary.length > 1024 ? `${summary.slice(0, 1023)}…` : summary,
    source: text(config.source, () => client),
    severity: SEVERITIES.has(severity) ? severity : "error",
    timestamp: new Date(request.alerts[0]?.startsAt ?? request.at).toISOString(),
    ...(config.component ? { component: text(config.component, () => "") } : {}),
    ...(config.group ? { group: text(config.group, () => "") } : {}),
    ...(config.class ? { class: text(config.class, () => "") } : {}),
    custom_details: details,
  };
  event.client = client;
  event.client_url = text(config.client_url, () => externalURL, "pagerduty.default.clientURL");
  const links = [
    ...(config.links ?? []).map((l) => ({ href: text(l.href, () => ""), text: text(l.text, () => "") })),
    ...request.alerts
      .map((a) => a.annotations.runbook_url)
      .filter((u): u is string => typeof u === "string" && u !== "")
      .filter((u, i, all) => all.indexOf(u) === i)
      .map((href) => ({ href, text: "Runbook" })),
  ];
  if (links.length > 0) event.links = links;
  if (config.images && config.images.length > 0) event.images = config.images;
  return event;
}

export const pagerdutyNotifier: Notifier<PagerdutyConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const routingKey =
      (await secretOf(config.routing_key, config.routing_key_file)) ??
      (await secretOf(config.service_key, config.service_key_file));
    if (!routingKey) return missing("pagerduty routing_key");
    const headers = await httpConfigHeaders(config.http_config);
    return postJson(
      config.url ?? PAGERDUTY_EVENTS_URL,
      pagerdutyEvent(request, config, routingKey, externalURL, templates),
      {
        headers,
        signal,
      },
    );
  },
};
