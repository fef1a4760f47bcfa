import { z } from "zod";
import { type ConfigObject, defineKind, ObjectName, type Reference } from "../../config/index.js";
import {
  AlertmanagerFile,
  DELIVERED_INTEGRATIONS,
  INTEGRATION_FIELDS,
  KEPT_INTEGRATIONS,
  type ReceiverConfig,
} from "./am-config-schema.js";
import { checkReceiver, compileAlertmanagerConfig, type RoutingConfig } from "./am-config.js";
import type { ReceiverOptions } from "./dispatcher.js";
import type { SilenceInput } from "./silences.js";

const ReceiverOptionsSpec = z.strictObject({
  receiver: ObjectName.optional().describe(
    "A Receiver object that delivers for this Alertmanager receiver (which then needs no *_configs of its own).",
  ),
  sendResolvedAfterMute: z
    .boolean()
    .optional()
    .describe(
      "Send an alert's resolve even if it was silenced or inhibited after its firing notification went out; default true.",
    ),
});

const RecurringSilenceSpec = z
  .strictObject({
    name: z.string().min(1).describe("Shown as the silence's id (recurring:<name>) in traces."),
    matchers: z.array(z.string()).min(1).describe("Alertmanager matchers, e.g. ['job=\"backup\"']."),
    timeIntervals: z
      .array(z.string())
      .optional()
      .describe("Mute while any of these time_intervals is active."),
    cron: z.string().optional().describe('Or: a cron schedule of each window\'s start, e.g. "0 2 * * 6".'),
    duration: z.string().optional().describe("With cron: how long each window lasts, e.g. 2h."),
    timezone: z.string().optional().describe("With cron: its time zone; default UTC."),
    comment: z.string().optional(),
  })
  .describe("A silence that recurs: by named time intervals, or a cron schedule with a duration.");

const TemplateFileSpec = z.strictObject({
  name: z.string().min(1).describe("The file's path, relative to the configuration's directory."),
  text: z.string().describe("The file's text: Go templates whose {{ define }}s the receivers use."),
});

/**
 * An Alertmanager configuration as a Nines object: `spec.alertmanager` holds an alertmanager.yml as it is;
 * the other fields are what Nines adds (receiver mapping and options, recurring silences).
 */
export const AlertmanagerConfigSpec = z
  .strictObject({
    alertmanager: AlertmanagerFile.describe(
      "An Alertmanager configuration file's content (global, route, receivers, inhibit_rules, time_intervals, …), as it is.",
    ),
    receiverOptions: z
      .record(z.string(), ReceiverOptionsSpec)
      .default({})
      .describe(
        "Per Alertmanager receiver name: the Nines Receiver that delivers for it, and Nines's options.",
      ),
    recurringSilences: z.array(RecurringSilenceSpec).default([]),
    templateFiles: z
      .array(TemplateFileSpec)
      .optional()
      .describe(
        "The notification template files that alertmanager.templates names, with their text: filled in when the configuration is read from files; written here when it is applied over the API, where the server has no files.",
      ),
  })
  .superRefine((spec, ctx) => {
    const compiled = compileAlertmanagerConfig(spec.alertmanager);
    for (const p of compiled.problems)
      ctx.addIssue({ code: "custom", path: ["alertmanager", ...p.path], message: p.message });
    const names = new Set((spec.alertmanager.receivers ?? []).map((r) => r.name));
    for (const name of Object.keys(spec.receiverOptions)) {
      if (!names.has(name))
        ctx.addIssue({
          code: "custom",
          path: ["receiverOptions", name],
          message: `no receiver "${name}" in alertmanager.receivers`,
        });
    }
    const intervals = new Set(
      [...(spec.alertmanager.time_intervals ?? []), ...(spec.alertmanager.mute_time_intervals ?? [])].map(
        (t) => t.name,
      ),
    );
    spec.recurringSilences.forEach((s, i) => {
      if ((s.timeIntervals === undefined) === (s.cron === undefined))
        ctx.addIssue({
          code: "custom",
          path: ["recurringSilences", i],
          message: "a recurring silence needs exactly one of timeIntervals or cron",
        });
      if (s.cron !== undefined && s.duration === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["recurringSilences", i, "duration"],
          message: "a cron recurrence needs a duration, e.g. 2h",
        });
      (s.timeIntervals ?? []).forEach((name, j) => {
        if (!intervals.has(name))
          ctx.addIssue({
            code: "custom",
            path: ["recurringSilences", i, "timeIntervals", j],
            message: `undefined time interval "${name}"`,
          });
      });
    });
  });
export type AlertmanagerConfigSpec = z.infer<typeof AlertmanagerConfigSpec>;

/** A Nines-native receiver: Alertmanager's integration blocks (webhook_configs, slack_configs, …) by name. */
export const ReceiverSpec = z
  .strictObject({
    ...INTEGRATION_FIELDS,
    sendResolvedAfterMute: z
      .boolean()
      .optional()
      .describe("See AlertmanagerConfig receiverOptions; default true."),
  })
  .superRefine((spec, ctx) => {
    const problems: Array<{ path: Array<string | number>; message: string }> = [];
    const { sendResolvedAfterMute: _s, ...integrations } = spec;
    checkReceiver({ name: "receiver", ...integrations }, undefined, [], problems);
    for (const p of problems) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
    const count = [...Object.keys(DELIVERED_INTEGRATIONS), ...KEPT_INTEGRATIONS].reduce((n, field) => {
      const list = (spec as Record<string, unknown>)[field];
      return n + (Array.isArray(list) ? list.length : 0);
    }, 0);
    if (count === 0)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "a receiver needs at least one integration, e.g. webhook_configs",
      });
  });
export type ReceiverSpec = z.infer<typeof ReceiverSpec>;

export const alertmanagerConfigKind = defineKind<AlertmanagerConfigSpec>({
  apiVersion: "nines/v1",
  kind: "AlertmanagerConfig",
  description:
    "Alert routing as Alertmanager defines it: an alertmanager.yml as it is (route tree, receivers, inhibit_rules, time_intervals), plus Nines receivers and recurring silences.",
  spec: AlertmanagerConfigSpec,
  order: 75,
  references: (spec) =>
    Object.entries(spec.receiverOptions).flatMap(([name, o]): Reference[] =>
      o.receiver ? [{ kind: "Receiver", name: o.receiver, path: ["receiverOptions", name, "receiver"] }] : [],
    ),
  // Like RuleGroup: the config service keeps applied objects in config_objects; the routing runtime reads them.
  store: { async upsert() {}, async remove() {} },
});

export const receiverKind = defineKind<ReceiverSpec>({
  apiVersion: "nines/v1",
  kind: "Receiver",
  description:
    "Where notifications go: webhook, Slack, Microsoft Teams, email, PagerDuty, Opsgenie, Telegram, Discord or ntfy.",
  spec: ReceiverSpec,
  order: 70,
  store: { async upsert() {}, async remove() {} },
});

/** A notification template file: its `{{ define }}`s are used by every receiver's messages. */
export interface TemplateFileText {
  name: string;
  text: string;
}

/** What delivers for one Alertmanager receiver: its integrations and the template files they render with. */
export type ReceiverDelivery = Omit<ReceiverConfig, "name"> & { templates?: readonly TemplateFileText[] };

/** What the routing runtime needs from the applied objects. */
export interface AlertingSetup {
  config: RoutingConfig;
  receiverOptions: Record<string, Partial<ReceiverOptions>>;
  /** Per Alertmanager receiver name: the integrations that deliver for it (its own, or its Receiver object's). */
  deliveries: Map<string, ReceiverDelivery>;
  recurringSilences: SilenceInput[];
}

/** Builds the routing setup from an AlertmanagerConfig object and the Receiver objects it names. */
export function alertingSetupFrom(
  object: ConfigObject<AlertmanagerConfigSpec>,
  receivers: ReadonlyArray<ConfigObject<ReceiverSpec>>,
  farFuture = Date.UTC(9999, 0, 1),
): AlertingSetup | { problems: string[] } {
  const compiled = compileAlertmanagerConfig(object.spec.alertmanager);
  if (!compiled.config)
    return { problems: compiled.problems.map((p) => `${p.path.join(".")}: ${p.message}`) };
  const byName = new Map(receivers.map((r) => [r.metadata.name, r.spec]));
  const receiverOptions: Record<string, Partial<ReceiverOptions>> = {};
  const deliveries = new Map<string, ReceiverDelivery>();
  // Every receiver renders with the configuration's template files, as in Alertmanager.
  const templates = (object.spec.templateFiles ?? []).map((f) => ({ name: f.name, text: f.text }));
  for (const [name, rcv] of compiled.config.receivers) {
    const opts = object.spec.receiverOptions[name];
    const native = opts?.receiver ? byName.get(opts.receiver) : undefined;
    const { name: _n, ...own } = rcv;
    const { sendResolvedAfterMute, ...integrations } = native ?? {};
    const delivery: ReceiverDelivery = native ? integrations : own;
    deliveries.set(name, templates.length > 0 ? { ...delivery, templates } : delivery);
    const o: Partial<ReceiverOptions> = {};
    const after = opts?.sendResolvedAfterMute ?? sendResolvedAfterMute;
    if (after !== undefined) o.sendResolvedAfterMute = after;
    receiverOptions[name] = o;
  }
  const recurringSilences = object.spec.recurringSilences.map((s): SilenceInput => {
    const input: SilenceInput = {
      id: `recurring:${s.name}`,
      matchers: s.matchers,
      startsAt: 0,
      endsAt: farFuture,
      createdBy: `config:AlertmanagerConfig/${object.metadata.name}`,
      comment: s.comment ?? "",
      recurrence: s.timeIntervals
        ? { timeIntervals: s.timeIntervals }
        : { cron: s.cron ?? "", duration: s.duration ?? "", timezone: s.timezone ?? "UTC" },
    };
    return input;
  });
  return { config: compiled.config, receiverOptions, deliveries, recurringSilences };
}
