import { discordNotifier } from "./discord-notifier.js";
import { emailNotifier } from "./email-notifier.js";
import type { IntegrationConfigs, IntegrationType } from "./integrations.js";
import { msteamsNotifier, msteamsv2Notifier } from "./msteams-notifier.js";
import type { Notifier } from "./notifier.js";
import { ntfyNotifier } from "./ntfy-notifier.js";
import { opsgenieNotifier } from "./opsgenie-notifier.js";
import { pagerdutyNotifier } from "./pagerduty-notifier.js";
import { slackNotifier } from "./slack-notifier.js";
import { telegramNotifier } from "./telegram-notifier.js";
import { webhookNotifier } from "./webhook-notifier.js";

export type NotifierRegistry = { [K in IntegrationType]: Notifier<IntegrationConfigs[K]> };

/** One notifier per integration type: a type without one fails to compile. */
export const NOTIFIERS: NotifierRegistry = {
  webhook_configs: webhookNotifier,
  slack_configs: slackNotifier,
  email_configs: emailNotifier,
  pagerduty_configs: pagerdutyNotifier,
  opsgenie_configs: opsgenieNotifier,
  telegram_configs: telegramNotifier,
  discord_configs: discordNotifier,
  msteams_configs: msteamsNotifier,
  msteamsv2_configs: msteamsv2Notifier,
  ntfy_configs: ntfyNotifier,
};
