import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { hashKey, httpConfigHeaders, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { defaultText, defaultTitle, type TemplateFile } from "./notify-template.js";

type OpsgenieConfig = IntegrationConfigs["opsgenie_configs"];

export const OPSGENIE_API_URL = "https://api.opsgenie.com/";

/** The Alert API v2 call for a notification: create while firing, close by alias once resolved. */
export function opsgenieCall(
  request: NotificationRequest,
  config: OpsgenieConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const base = (config.api_url ?? OPSGENIE_API_URL).replace(/\/?$/, "/");
  const alias = hashKey(request.groupKey);
  const text = fieldText(request, externalURL, templates);
  const source = text(config.source, () => externalURL || "Nines", "opsgenie.default.source");
  if (request.status === "resolved") {
    return {
      url: `${base}v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
      body: { source, note: text(config.note, () => "Resolved") },
    };
  }
  const message = text(config.message, () => defaultTitle(request), "opsgenie.default.message");
  const details = config.details
    ? Object.fromEntries(Object.entries(config.details).map(([k, v]) => [k, text(v, () => v)]))
    : { ...request.commonLabels };
  const tags = config.tags
    ? text(config.tags, () => "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean)
    : undefined;
  const body: Record<string, unknown> = {
    message: message.length > 130 ? `${message.slice(0, 129)}…` : message,
    alias,
    description: text(
      config.description,
      () => defaultText(request, externalURL),
      "opsgenie.default.description",
    ).slice(0, 15000),
    details,
    source,
  };
  if (tags && tags.length > 0) body.tags = tags;
  if (config.responders) body.responders = config.responders;
  if (config.visible_to) body.visibleTo = config.visible_to;
  if (config.entity) body.entity = text(config.entity, () => "");
  if (config.note) body.note = text(config.note, () => "");
  if (config.priority) body.priority = text(config.priority, () => "");
  if (config.actions)
    body.actions = text(config.actions, () => "")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
  return { url: `${base}v2/alerts`, body };
}

export const opsgenieNotifier: Notifier<OpsgenieConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const key = await secretOf(config.api_key, config.api_key_file);
    if (!key) return missing("opsgenie api_key");
    const headers = { ...(await httpConfigHeaders(config.http_config)), authorization: `GenieKey ${key}` };
    const call = opsgenieCall(request, config, externalURL, templates);
    return postJson(call.url, call.body, { headers, signal });
  },
};
