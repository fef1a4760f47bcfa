import type { Kysely } from "kysely";
import { z } from "zod";
import { type ConfigObject, defineKind } from "../../config/index.js";
import type { Schema } from "../../platform/db/schema.js";
import { checkRule, parseRuleDuration, type RuleDefinition, type RuleGroupDefinition } from "./rule-file.js";

const Duration = z
  .string()
  .refine((s) => parseRuleDuration(s) !== undefined, 'a Prometheus duration such as "30s", "5m" or "1h30m"');

const StringMap = z.record(z.string(), z.string());

export const RuleSpec = z.strictObject({
  record: z.string().min(1).optional().describe("Name of the series a recording rule writes."),
  alert: z.string().min(1).optional().describe("Name of the alert an alerting rule raises."),
  expr: z.string().describe("PromQL expression, evaluated at each interval."),
  for: Duration.optional().describe("Alerting: how long the condition must hold before the alert fires."),
  keep_firing_for: Duration.optional().describe(
    "Alerting: how long the alert keeps firing once the condition is gone.",
  ),
  labels: StringMap.optional().describe("Labels added to the result; templates allowed in alerting rules."),
  annotations: StringMap.optional().describe("Alerting: annotations, with Prometheus's template functions."),
});
export type RuleSpec = z.infer<typeof RuleSpec>;

/** One Prometheus rule group; the group's name is the object's metadata.name. */
export const RuleGroupSpec = z
  .strictObject({
    interval: Duration.optional().describe(
      "How often the group is evaluated; the server's default (1m) unless said.",
    ),
    limit: z.int().min(0).default(0).describe("Most series or alerts one rule may produce; 0: no limit."),
    rules: z.array(RuleSpec).describe("Recording and alerting rules, evaluated in order."),
  })
  .superRefine((spec, ctx) => {
    spec.rules.forEach((rule, i) => {
      for (const p of checkRule(rule).problems)
        ctx.addIssue({ code: "custom", path: ["rules", i, ...p.path], message: p.message });
    });
  });
export type RuleGroupSpec = z.infer<typeof RuleGroupSpec>;

export type RuleGroupObject = ConfigObject<RuleGroupSpec>;

/**
 * Prometheus rule groups as config objects. Like ScrapeConfig they need no table of their own: the config
 * service keeps every applied object in config_objects, and the rule manager reads them from there on each
 * "config.applied" (see loadRuleGroups).
 */
export const ruleGroupKind = defineKind<RuleGroupSpec>({
  apiVersion: "nines/v1",
  kind: "RuleGroup",
  description:
    "A Prometheus rule group: recording and alerting rules (expr, for, keep_firing_for, labels, annotations) evaluated every interval.",
  spec: RuleGroupSpec,
  order: 60,
  store: {
    async upsert() {},
    async remove() {},
  },
});

/** The group definition the rule manager runs, from a validated RuleGroup object. */
export function ruleGroupFromObject(object: RuleGroupObject): RuleGroupDefinition {
  const rules: RuleDefinition[] = [];
  for (const raw of object.spec.rules) {
    const { rule } = checkRule(raw);
    if (rule !== undefined) rules.push(rule);
  }
  const interval = object.spec.interval === undefined ? undefined : parseRuleDuration(object.spec.interval);
  return {
    name: object.metadata.name,
    file: `RuleGroup/${object.metadata.name}`,
    intervalMs: interval === 0 ? undefined : interval,
    limit: object.spec.limit,
    rules,
  };
}

/** Reads the applied RuleGroup objects from the config service's store of current objects. */
export async function loadRuleGroups(db: Kysely<Schema>): Promise<RuleGroupDefinition[]> {
  const rows = await db
    .selectFrom("config_objects")
    .select(["document"])
    .where("kind", "=", "RuleGroup")
    .orderBy("name")
    .execute();
  return rows.map((r) => ruleGroupFromObject(JSON.parse(r.document) as RuleGroupObject));
}
