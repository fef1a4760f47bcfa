import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { defaultText, defaultTitle, type TemplateFile } from "./notify-template.js";

type DiscordConfig = IntegrationConfigs["discord_configs"];

/** Alertmanager's colours: red while firing, green once resolved. */
export const DISCORD_FIRING = 0x992d22;
export const DISCORD_RESOLVED = 0x2ecc71;

export function discordMessage(
  request: NotificationRequest,
  config: DiscordConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const field = fieldText(request, externalURL, templates);
  const title = field(config.title, () => defaultTitle(request), "discord.default.title");
  const description = field(
    config.message,
    () => defaultText(request, externalURL),
    "discord.default.message",
  );
  return {
    ...(config.content ? { content: field(config.content, () => "").slice(0, 2000) } : {}),
    ...(config.username ? { username: config.username } : {}),
    ...(config.avatar_url ? { avatar_url: config.avatar_url } : {}),
    embeds: [
      {
        title: title.length > 256 ? `${title.slice(0, 255)}…` : title,
        description: description.length > 4096 ? `${description.slice(0, 4095)}…` : description,
        color: request.status === "firing" ? DISCORD_FIRING : DISCORD_RESOLVED,
        ...(externalURL ? { url: externalURL } : {}),
      },
    ],
  };
}

export const discordNotifier: Notifier<DiscordConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const url = await secretOf(config.webhook_url, config.webhook_url_file);
    if (!url) return missing("discord webhook_url");
    const headers = await httpConfigHeaders(config.http_config);
    return postJson(url, discordMessage(request, config, externalURL, templates), { headers, signal });
  },
};
