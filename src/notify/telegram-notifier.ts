import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, jsonField, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import {
  countsLine,
  defaultTitle,
  escapeHtml,
  summarizeAlerts,
  type TemplateFile,
} from "./notify-template.js";

type TelegramConfig = IntegrationConfigs["telegram_configs"];

export const TELEGRAM_API_URL = "https://api.telegram.org";

function defaultTelegramHtml(request: NotificationRequest): string {
  const lines = [`<b>${escapeHtml(defaultTitle(request))}</b>`, escapeHtml(countsLine(request)), ""];
  for (const a of summarizeAlerts(request)) {
    lines.push(
      `${a.status === "firing" ? "🔥" : "✅"} <b>${escapeHtml(a.name)}</b>${a.summary ? ` ${escapeHtml(a.summary)}` : ""}${a.status === "resolved" ? " <i>(resolved)</i>" : ""}`,
    );
    if (a.description) lines.push(escapeHtml(a.description));
    if (a.runbookURL) lines.push(`<a href="${escapeHtml(a.runbookURL)}">Runbook</a>`);
    lines.push("");
  }
  return lines.join("\n").trim();
}

/** sendMessage's parameters: HTML text, at most 4096 characters. */
export function telegramMessage(
  request: NotificationRequest,
  config: TelegramConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const field = fieldText(request, externalURL, templates);
  const text = field(config.message, () => defaultTelegramHtml(request), "telegram.default.message");
  return {
    chat_id: config.chat_id,
    text: text.length > 4096 ? `${text.slice(0, 4095)}…` : text,
    parse_mode: config.parse_mode ?? "HTML",
    ...(config.message_thread_id !== undefined ? { message_thread_id: config.message_thread_id } : {}),
    ...(config.disable_notifications ? { disable_notification: true } : {}),
  };
}

export const telegramNotifier: Notifier<TelegramConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const token = await secretOf(config.bot_token, config.bot_token_file);
    if (!token) return missing("telegram bot_token");
    const base = (config.api_url ?? TELEGRAM_API_URL).replace(/\/$/, "");
    const headers = await httpConfigHeaders(config.http_config);
    return postJson(
      `${base}/bot${token}/sendMessage`,
      telegramMessage(request, config, externalURL, templates),
      {
        headers,
        signal,
        accept: (body) => jsonField(body, "ok") === true,
      },
    );
  },
};
