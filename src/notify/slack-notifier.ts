import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, jsonField, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { countsLine, defaultTitle, summarizeAlerts, type TemplateFile } from "./notify-template.js";

type SlackConfig = IntegrationConfigs["slack_configs"];

const cut = (text: string, limit: number) => (text.length <= limit ? text : `${text.slice(0, limit - 1)}…`);
const mrkdwnEscape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function defaultSlackText(request: NotificationRequest): string {
  return summarizeAlerts(request)
    .map((a) => {
      const lines = [
        `${a.status === "firing" ? ":red_circle:" : ":large_green_circle:"} *${mrkdwnEscape(a.name)}*${a.summary ? ` ${mrkdwnEscape(a.summary)}` : ""}${a.status === "resolved" ? " _(resolved)_" : ""}`,
      ];
      if (a.description) lines.push(mrkdwnEscape(a.description));
      const links = [
        a.runbookURL ? `<${a.runbookURL}|Runbook>` : "",
        a.generatorURL ? `<${a.generatorURL}|Source>` : "",
      ].filter(Boolean);
      if (links.length > 0) lines.push(links.join(" · "));
      return lines.join("\n");
    })
    .join("\n\n");
}

/** The message an incoming webhook receives: fallback text, blocks, and a coloured attachment. */
export function slackMessage(
  request: NotificationRequest,
  config: SlackConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
) {
  const field = fieldText(request, externalURL, templates);
  const title = field(config.title, () => defaultTitle(request), "slack.default.title");
  const text = field(config.text, () => defaultSlackText(request), "slack.default.text");
  const fallback = field(config.fallback, () => title, "slack.default.fallback");
  const username = field(config.username, () => "", "slack.default.username");
  const color =
    config.color !== undefined
      ? field(config.color, () => "")
      : request.status === "firing"
        ? "danger"
        : "good";
  const labelFields = Object.keys(request.commonLabels)
    .sort()
    .slice(0, 10)
    .map((k) => ({
      type: "mrkdwn",
      text: cut(`*${k}*\n${mrkdwnEscape(request.commonLabels[k] ?? "")}`, 2000),
    }));
  const context = [
    `${countsLine(request)} · receiver ${mrkdwnEscape(request.receiver)}`,
    externalURL ? `<${externalURL}|Open in Nines>` : "",
  ].filter(Boolean);
  const blocks: unknown[] = [
    { type: "header", text: { type: "plain_text", text: cut(title, 150), emoji: true } },
    { type: "section", text: { type: "mrkdwn", text: cut(text || title, 3000) } },
  ];
  if (labelFields.length > 0) blocks.push({ type: "section", fields: labelFields });
  return {
    ...(config.channel ? { channel: config.channel } : {}),
    ...(username ? { username } : {}),
    ...(config.icon_emoji ? { icon_emoji: config.icon_emoji } : {}),
    ...(config.icon_url ? { icon_url: config.icon_url } : {}),
    ...(config.link_names ? { link_names: true } : {}),
    text: fallback || title,
    blocks,
    attachments: [
      {
        color,
        blocks: [{ type: "context", elements: context.map((t) => ({ type: "mrkdwn", text: t })) }],
      },
    ],
  };
}

export const slackNotifier: Notifier<SlackConfig> = {
  async send({ request, config, externalURL, templates, signal }) {
    const url = await secretOf(config.api_url, config.api_url_file);
    if (!url) return missing("slack api_url");
    const headers = await httpConfigHeaders(config.http_config);
    // Incoming webhooks answer "ok"; chat.postMessage answers {"ok": true}.
    return postJson(url, slackMessage(request, config, externalURL, templates), {
      headers,
      signal,
      accept: (body) => body.trim() === "ok" || jsonField(body, "ok") === true,
    });
  },
};
