import type { NotificationRequest } from "../alerting/routing/index.js";
import type { IntegrationConfigs } from "./integrations.js";
import { httpConfigHeaders, missing, type Notifier, postJson, secretOf } from "./notifier.js";
import { fieldText } from "./message-text.js";
import { countsLine, defaultTitle, summarizeAlerts, type TemplateFile } from "./notify-template.js";

type TeamsConfig = IntegrationConfigs["msteamsv2_configs"] | IntegrationConfigs["msteams_configs"];

/** An Adaptive Card 1.4 in the message envelope that Teams Workflows (Power Automate) webhooks take. */
export function teamsMessage(
  request: NotificationRequest,
  config: TeamsConfig,
  externalURL: string,
  templates: readonly TemplateFile[] = [],
  /** msteams_configs or msteamsv2_configs: names Alertmanager's default templates ("msteams.default.title"). */
  prefix: "msteams" | "msteamsv2" = "msteamsv2",
) {
  const field = fieldText(request, externalURL, templates);
  const title = field(config.title, () => defaultTitle(request), `${prefix}.default.title`);
  const text = field(config.text, () => "", `${prefix}.default.text`);
  const body: unknown[] = [
    {
      type: "TextBlock",
      text: title,
      weight: "Bolder",
      size: "Medium",
      wrap: true,
      color: request.status === "firing" ? "Attention" : "Good",
    },
    { type: "TextBlock", text: countsLine(request), isSubtle: true, spacing: "None", wrap: true },
  ];
  if (config.text !== undefined || text !== "") {
    body.push({ type: "TextBlock", text, wrap: true });
  } else {
    for (const a of summarizeAlerts(request)) {
      body.push({
        type: "TextBlock",
        text: `${a.status === "firing" ? "🔥" : "✅"} **${a.name}**${a.summary ? ` ${a.summary}` : ""}${a.status === "resolved" ? " (resolved)" : ""}`,
        wrap: true,
        separator: true,
      });
      if (a.description) body.push({ type: "TextBlock", text: a.description, wrap: true, spacing: "Small" });
      if (a.labels.length > 0)
        body.push({
          type: "FactSet",
          facts: a.labels.slice(0, 20).map(([k, v]) => ({ title: k, value: v })),
        });
    }
  }
  const actions = [
    ...(externalURL ? [{ type: "Action.OpenUrl", title: "Open in Nines", url: externalURL }] : []),
    ...request.alerts
      .map((a) => a.annotations.runbook_url)
      .filter((u): u is string => typeof u === "string" && u !== "")
      .filter((u, i, all) => all.indexOf(u) === i)
      .slice(0, 3)
      .map((url) => ({ type: "Action.OpenUrl", title: "Runbook", url })),
  ];
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body,
          ...(actions.length > 0 ? { actions } : {}),
          msteams: { width: "Full" },
        },
      },
    ],
  };
}

function teamsNotifier(prefix: "msteams" | "msteamsv2"): Notifier<TeamsConfig> {
  return {
    async send({ request, config, externalURL, templates, signal }) {
      const url = await secretOf(config.webhook_url, config.webhook_url_file);
      if (!url) return missing("teams webhook_url");
      const headers = await httpConfigHeaders(config.http_config);
      const message = teamsMessage(request, config, externalURL, templates, prefix);
      return postJson(url, message, { headers, signal });
    },
  };
}

/** msteamsv2_configs, and msteams_configs pointed at a Workflows URL (Office 365 connectors are retired). */
export const msteamsNotifier: Notifier<TeamsConfig> = teamsNotifier("msteams");
export const msteamsv2Notifier: Notifier<TeamsConfig> = teamsNotifier("msteamsv2");
