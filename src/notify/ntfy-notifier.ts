import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import {
  failureOf,
  httpConfigHeaders,
  httpRequest,
  jsonField,
  type Notifier,
  outcomeOf,
  secretOf,
} from "./notifier.js";
import { fieldText } from "./message-text.js";
import { defaultText, defaultTitle, type TemplateFile } from "./notify-template.js";

type NtfyConfig = IntegrationConfigs["ntfy_configs"];

export const NTFY_URL = "https://ntfy.sh";

/** HTTP headers are ASCII: other text goes RFC 2047-encoded, which ntfy decodes. */
const headerText = (text: string) =>
  /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, "utf8").toString("base64")}?=`;

/** A publish: the message as the body, title, priority and tags as headers. */
export function ntfyRequest(
  request: NotificationRequest,
  config: NtfyConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const firing = request.status === "firing";
  const field = fieldText(request, externalURL, templates);
  // Alertmanager 0.25 has no ntfy integration, hence no default template names to redefine.
  const title = field(config.title, () => defaultTitle(request));
  const body = field(config.message, () => defaultText(request, externalURL));
  const tags = config.tags ?? [firing ? "rotating_light" : "white_check_mark"];
  const headers: Record<string, string> = {
    "content-type": "text/plain; charset=utf-8",
    title: headerText(title.replace(/[\r\n]+/g, " ")),
    priority: config.priority ?? (firing ? "high" : "default"),
    tags: tags.join(","),
  };
  if (externalURL) headers.click = externalURL;
  const base = (config.url ?? NTFY_URL).replace(/\/$/, "");
  return { url: `${base}/${encodeURIComponent(config.topic)}`, headers, body };
}

export const ntfyNotifier: Notifier<NtfyConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const publish = ntfyRequest(request, config, externalURL, templates);
    const token = await secretOf(config.token, config.token_file);
    const headers = {
      ...(await httpConfigHeaders(config.http_config)),
      ...publish.headers,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
    try {
      const answer = await httpRequest(publish.url, { headers, body: publish.body, signal });
      // ntfy answers the published message as JSON, with its id.
      return outcomeOf(answer, (b) => typeof jsonField(b, "id") === "string");
    } catch (error) {
      return failureOf(error, signal);
    }
  },
};
