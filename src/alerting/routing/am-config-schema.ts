import { z } from "zod";

/**
 * Alertmanager's configuration file, field for field as config/config.go and config/notifiers.go read it
 * (snake_case, unknown fields refused as yaml.UnmarshalStrict does). Integrations Nines delivers (webhook,
 * Slack, Microsoft Teams, email, PagerDuty, Opsgenie, Telegram, Discord, and ntfy as a Nines extension) are
 * validated field by field; the others are accepted and kept as data.
 */

/** yaml.v2 reads a number or boolean into a string field as its text. */
const Text = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const LabelMap = z.record(z.string(), Text);
const StringList = z.array(z.string());
const Loose = z.record(z.string(), z.unknown());

export const HttpConfig = z.strictObject({
  authorization: Loose.optional(),
  basic_auth: Loose.optional(),
  bearer_token: z.string().optional(),
  bearer_token_file: z.string().optional(),
  oauth2: Loose.optional(),
  tls_config: Loose.optional(),
  proxy_url: z.string().optional(),
  no_proxy: z.string().optional(),
  proxy_from_environment: z.boolean().optional(),
  proxy_connect_header: Loose.optional(),
  follow_redirects: z.boolean().optional(),
  enable_http2: z.boolean().optional(),
  http_headers: Loose.optional(),
});

const common = {
  send_resolved: z.boolean().optional(),
  http_config: HttpConfig.optional(),
};

export const WebhookConfig = z.strictObject({
  ...common,
  url: z.string().optional(),
  url_file: z.string().optional(),
  max_alerts: z.int().min(0).optional(),
  timeout: z.string().optional(),
  /** Nines: sign each body with HMAC-SHA256 (X-Nines-Signature: sha256=<hex>); the secret or a file holding it. */
  hmac_secret: z.string().optional(),
  hmac_secret_file: z.string().optional(),
});

const SlackField = z.strictObject({ title: z.string(), value: z.string(), short: z.boolean().optional() });
const SlackAction = z.strictObject({
  type: z.string(),
  text: z.string(),
  url: z.string().optional(),
  style: z.string().optional(),
  name: z.string().optional(),
  value: z.string().optional(),
  confirm: Loose.optional(),
});

export const SlackConfig = z.strictObject({
  ...common,
  api_url: z.string().optional(),
  api_url_file: z.string().optional(),
  app_token: z.string().optional(),
  app_token_file: z.string().optional(),
  app_url: z.string().optional(),
  channel: z.string().optional(),
  username: z.string().optional(),
  color: z.string().optional(),
  title: z.string().optional(),
  title_link: z.string().optional(),
  pretext: z.string().optional(),
  text: z.string().optional(),
  fields: z.array(SlackField).optional(),
  short_fields: z.boolean().optional(),
  footer: z.string().optional(),
  fallback: z.string().optional(),
  callback_id: z.string().optional(),
  icon_emoji: z.string().optional(),
  icon_url: z.string().optional(),
  image_url: z.string().optional(),
  thumb_url: z.string().optional(),
  link_names: z.boolean().optional(),
  mrkdwn_in: StringList.optional(),
  actions: z.array(SlackAction).optional(),
  timeout: z.string().optional(),
  message_text: z.string().optional(),
  update_message: z.boolean().optional(),
});

export const EmailConfig = z.strictObject({
  send_resolved: z.boolean().optional(),
  to: z.string().optional(),
  from: z.string().optional(),
  hello: z.string().optional(),
  smarthost: z.string().optional(),
  auth_username: z.string().optional(),
  auth_password: z.string().optional(),
  auth_password_file: z.string().optional(),
  auth_secret: z.string().optional(),
  auth_secret_file: z.string().optional(),
  auth_identity: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  html: z.string().optional(),
  text: z.string().optional(),
  require_tls: z.boolean().optional(),
  tls_config: Loose.optional(),
  force_implicit_tls: z.boolean().optional(),
  threading: Loose.optional(),
});

export const PagerdutyConfig = z.strictObject({
  ...common,
  service_key: z.string().optional(),
  service_key_file: z.string().optional(),
  routing_key: z.string().optional(),
  routing_key_file: z.string().optional(),
  url: z.string().optional(),
  client: z.string().optional(),
  client_url: z.string().optional(),
  description: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  images: z
    .array(
      z.strictObject({ src: z.string().optional(), alt: z.string().optional(), href: z.string().optional() }),
    )
    .optional(),
  links: z.array(z.strictObject({ href: z.string().optional(), text: z.string().optional() })).optional(),
  source: z.string().optional(),
  severity: z.string().optional(),
  class: z.string().optional(),
  component: z.string().optional(),
  group: z.string().optional(),
  timeout: z.string().optional(),
});

const OpsgenieResponder = z.strictObject({
  id: z.string().optional(),
  name: z.string().optional(),
  username: z.string().optional(),
  type: z.string(),
});

export const OpsgenieConfig = z.strictObject({
  ...common,
  api_key: z.string().optional(),
  api_key_file: z.string().optional(),
  api_url: z.string().optional(),
  message: z.string().optional(),
  description: z.string().optional(),
  source: z.string().optional(),
  details: z.record(z.string(), z.string()).optional(),
  entity: z.string().optional(),
  responders: z.array(OpsgenieResponder).optional(),
  actions: z.string().optional(),
  tags: z.string().optional(),
  note: z.string().optional(),
  priority: z.string().optional(),
  update_alerts: z.boolean().optional(),
  visible_to: z.array(OpsgenieResponder).optional(),
});

export const TelegramConfig = z.strictObject({
  ...common,
  api_url: z.string().optional(),
  bot_token: z.string().optional(),
  bot_token_file: z.string().optional(),
  chat_id: z.int().optional(),
  chat_id_file: z.string().optional(),
  message_thread_id: z.int().optional(),
  message: z.string().optional(),
  disable_notifications: z.boolean().optional(),
  parse_mode: z.string().optional(),
});

export const DiscordConfig = z.strictObject({
  ...common,
  webhook_url: z.string().optional(),
  webhook_url_file: z.string().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  content: z.string().optional(),
  username: z.string().optional(),
  avatar_url: z.string().optional(),
});

export const MSTeamsConfig = z.strictObject({
  ...common,
  webhook_url: z.string().optional(),
  webhook_url_file: z.string().optional(),
  title: z.string().optional(),
  summary: z.string().optional(),
  text: z.string().optional(),
});

export const MSTeamsV2Config = z.strictObject({
  ...common,
  webhook_url: z.string().optional(),
  webhook_url_file: z.string().optional(),
  title: z.string().optional(),
  text: z.string().optional(),
});

/** Not in Alertmanager: a Nines extension, delivered like the others (ntfy.sh or a self-hosted ntfy). */
export const NtfyConfig = z.strictObject({
  ...common,
  url: z.string().optional().describe("Server URL; default https://ntfy.sh."),
  topic: z.string(),
  priority: z.string().optional(),
  tags: StringList.optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  token: z.string().optional(),
  token_file: z.string().optional(),
});

/** Integrations Nines delivers, by their Alertmanager field name. */
export const DELIVERED_INTEGRATIONS = {
  webhook_configs: WebhookConfig,
  slack_configs: SlackConfig,
  email_configs: EmailConfig,
  pagerduty_configs: PagerdutyConfig,
  opsgenie_configs: OpsgenieConfig,
  telegram_configs: TelegramConfig,
  discord_configs: DiscordConfig,
  msteams_configs: MSTeamsConfig,
  msteamsv2_configs: MSTeamsV2Config,
  ntfy_configs: NtfyConfig,
} as const;

/** Integrations Alertmanager has and Nines keeps as data without delivering (yet). */
export const KEPT_INTEGRATIONS = [
  "pushover_configs",
  "victorops_configs",
  "sns_configs",
  "wechat_configs",
  "webex_configs",
  "jira_configs",
  "rocketchat_configs",
  "mattermost_configs",
  "incidentio_configs",
] as const;

/** The integration blocks of a receiver, by Alertmanager's field names. */
export const INTEGRATION_FIELDS = {
  webhook_configs: z.array(WebhookConfig).optional(),
  slack_configs: z.array(SlackConfig).optional(),
  email_configs: z.array(EmailConfig).optional(),
  pagerduty_configs: z.array(PagerdutyConfig).optional(),
  opsgenie_configs: z.array(OpsgenieConfig).optional(),
  telegram_configs: z.array(TelegramConfig).optional(),
  discord_configs: z.array(DiscordConfig).optional(),
  msteams_configs: z.array(MSTeamsConfig).optional(),
  msteamsv2_configs: z.array(MSTeamsV2Config).optional(),
  ntfy_configs: z.array(NtfyConfig).optional(),
  pushover_configs: z.array(Loose).optional(),
  victorops_configs: z.array(Loose).optional(),
  sns_configs: z.array(Loose).optional(),
  wechat_configs: z.array(Loose).optional(),
  webex_configs: z.array(Loose).optional(),
  jira_configs: z.array(Loose).optional(),
  rocketchat_configs: z.array(Loose).optional(),
  mattermost_configs: z.array(Loose).optional(),
  incidentio_configs: z.array(Loose).optional(),
};

export const ReceiverConfig = z.strictObject({ name: z.string(), ...INTEGRATION_FIELDS });
export type ReceiverConfig = z.infer<typeof ReceiverConfig>;

export interface RouteConfig {
  receiver?: string | undefined;
  group_by?: string[] | undefined;
  match?: Record<string, string> | undefined;
  match_re?: Record<string, string> | undefined;
  matchers?: string[] | undefined;
  mute_time_intervals?: string[] | undefined;
  active_time_intervals?: string[] | undefined;
  continue?: boolean | undefined;
  routes?: RouteConfig[] | undefined;
  group_wait?: string | undefined;
  group_interval?: string | undefined;
  repeat_interval?: string | undefined;
}

export const RouteConfig: z.ZodType<RouteConfig> = z.lazy(() =>
  z.strictObject({
    receiver: z.string().optional(),
    group_by: StringList.optional(),
    match: LabelMap.optional(),
    match_re: LabelMap.optional(),
    matchers: StringList.optional(),
    mute_time_intervals: StringList.optional(),
    active_time_intervals: StringList.optional(),
    continue: z.boolean().optional(),
    routes: z.array(RouteConfig).optional(),
    group_wait: z.string().optional(),
    group_interval: z.string().optional(),
    repeat_interval: z.string().optional(),
  }),
);

export const InhibitRuleConfig = z.strictObject({
  name: z.string().optional(),
  source_match: LabelMap.optional(),
  source_match_re: LabelMap.optional(),
  source_matchers: StringList.optional(),
  target_match: LabelMap.optional(),
  target_match_re: LabelMap.optional(),
  target_matchers: StringList.optional(),
  equal: StringList.optional(),
});
export type InhibitRuleConfig = z.infer<typeof InhibitRuleConfig>;

export const TimeIntervalEntry = z.strictObject({
  times: z.array(z.strictObject({ start_time: z.string(), end_time: z.string() })).optional(),
  weekdays: z.array(Text).optional(),
  days_of_month: z.array(Text).optional(),
  months: z.array(Text).optional(),
  years: z.array(Text).optional(),
  location: z.string().optional(),
});

export const NamedTimeInterval = z.strictObject({
  name: z.string(),
  time_intervals: z.array(TimeIntervalEntry).default([]),
});
export type NamedTimeInterval = z.infer<typeof NamedTimeInterval>;

export const GlobalConfig = z.strictObject({
  resolve_timeout: z.string().optional(),
  http_config: HttpConfig.optional(),
  jira_api_url: z.string().optional(),
  smtp_from: z.string().optional(),
  smtp_hello: z.string().optional(),
  smtp_smarthost: z.string().optional(),
  smtp_auth_username: z.string().optional(),
  smtp_auth_password: z.string().optional(),
  smtp_auth_password_file: z.string().optional(),
  smtp_auth_secret: z.string().optional(),
  smtp_auth_secret_file: z.string().optional(),
  smtp_auth_identity: z.string().optional(),
  smtp_require_tls: z.boolean().optional(),
  smtp_tls_config: Loose.optional(),
  slack_api_url: z.string().optional(),
  slack_api_url_file: z.string().optional(),
  slack_app_token: z.string().optional(),
  slack_app_token_file: z.string().optional(),
  pagerduty_url: z.string().optional(),
  opsgenie_api_url: z.string().optional(),
  opsgenie_api_key: z.string().optional(),
  opsgenie_api_key_file: z.string().optional(),
  wechat_api_url: z.string().optional(),
  wechat_api_secret: z.string().optional(),
  wechat_api_corp_id: z.string().optional(),
  victorops_api_url: z.string().optional(),
  victorops_api_key: z.string().optional(),
  victorops_api_key_file: z.string().optional(),
  telegram_api_url: z.string().optional(),
  webex_api_url: z.string().optional(),
  rocketchat_api_url: z.string().optional(),
  rocketchat_token: z.string().optional(),
  rocketchat_token_file: z.string().optional(),
  rocketchat_token_id: z.string().optional(),
  rocketchat_token_id_file: z.string().optional(),
});
export type GlobalConfig = z.infer<typeof GlobalConfig>;

/** The file as written; semantic checks (receivers, regexes, durations, intervals) come after. */
export const AlertmanagerFile = z.strictObject({
  global: GlobalConfig.nullish(),
  route: RouteConfig.optional(),
  inhibit_rules: z.array(InhibitRuleConfig).nullish(),
  receivers: z.array(ReceiverConfig).nullish(),
  templates: StringList.nullish(),
  mute_time_intervals: z.array(NamedTimeInterval).nullish(),
  time_intervals: z.array(NamedTimeInterval).nullish(),
});
export type AlertmanagerFile = z.infer<typeof AlertmanagerFile>;
