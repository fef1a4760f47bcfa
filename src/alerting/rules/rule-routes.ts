import { z } from "zod";
import { authorize } from "../../auth/index.js";
import { type AnyRoute, defineRoute } from "../../platform/route.js";
import type { Labels } from "../../promql/index.js";
import { formatGoE } from "./go-format.js";
import { type Alert, AlertingRule } from "./rule-eval.js";
import type { RuleManager } from "./rule-manager.js";

/** Go's time.Time in JSON (RFC 3339 with nanoseconds, trailing zeros dropped); the zero time when unset. */
export function goJsonTime(ms: number | undefined): string {
  if (ms === undefined) return "0001-01-01T00:00:00Z";
  return new Date(ms).toISOString().replace(/\.?0*Z$/, "Z");
}

const StringMap = z.record(z.string(), z.string());

const ApiAlert = z.object({
  labels: StringMap,
  annotations: StringMap,
  state: z.enum(["pending", "firing"]),
  activeAt: z.string(),
  keepFiringSince: z.string().optional(),
  value: z.string().describe("The value as Go's %e text, e.g. 1e+00."),
});

const AlertingRuleJson = z.object({
  state: z.enum(["inactive", "pending", "firing"]),
  name: z.string(),
  query: z.string(),
  duration: z.number(),
  keepFiringFor: z.number(),
  labels: StringMap,
  annotations: StringMap,
  alerts: z.array(ApiAlert),
  health: z.enum(["unknown", "ok", "err"]),
  lastError: z.string().optional(),
  evaluationTime: z.number(),
  lastEvaluation: z.string(),
  type: z.literal("alerting"),
});

const RecordingRuleJson = z.object({
  name: z.string(),
  query: z.string(),
  labels: StringMap,
  health: z.enum(["unknown", "ok", "err"]),
  lastError: z.string().optional(),
  evaluationTime: z.number(),
  lastEvaluation: z.string(),
  type: z.literal("recording"),
});

const RulesResponse = z.object({
  status: z.literal("success"),
  data: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        file: z.string(),
        rules: z.array(z.union([AlertingRuleJson, RecordingRuleJson])),
        interval: z.number(),
        limit: z.number(),
        evaluationTime: z.number(),
        lastEvaluation: z.string(),
      }),
    ),
  }),
});

const AlertsResponse = z.object({
  status: z.literal("success"),
  data: z.object({ alerts: z.array(ApiAlert) }),
});

const List = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]));

const RulesQuery = z.object({
  type: z.enum(["alert", "record"]).optional(),
  "rule_name[]": List,
  "rule_group[]": List,
  "file[]": List,
});

function record(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

function apiAlert(a: Alert): z.infer<typeof ApiAlert> {
  return {
    labels: record(a.labels),
    annotations: { ...a.annotations },
    state: a.state === "firing" ? "firing" : "pending",
    activeAt: goJsonTime(a.activeAt),
    ...(a.keepFiringSince !== undefined ? { keepFiringSince: goJsonTime(a.keepFiringSince) } : {}),
    value: formatGoE(a.value, -1),
  };
}

/** Prometheus's GET /api/v1/rules and GET /api/v1/alerts over the rule manager, in Prometheus's JSON shape. */
export function ruleRoutes(manager: RuleManager): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/rules",
      tag: "alerting",
      summary: "Rule groups with each rule's health, last error, last evaluation and alerts, as Prometheus",
      query: RulesQuery,
      response: RulesResponse,
      async handler({ ctx, query }) {
        authorize(ctx, "metrics.read");
        const names = query["rule_name[]"];
        const groupNames = query["rule_group[]"];
        const files = query["file[]"];
        const groups = manager
          .ruleGroups()
          .filter((g) => groupNames === undefined || groupNames.includes(g.name))
          .filter((g) => files === undefined || files.includes(g.file))
          .map((g) => ({
            name: g.name,
            file: g.file,
            rules: g.rules
              .filter((r) => names === undefined || names.includes(r.name))
              .filter((r) =>
                query.type === undefined ? true : (query.type === "alert") === r instanceof AlertingRule,
              )
              .map((r) => {
                const common = {
                  name: r.name,
                  query: r.definition.expr.trim(),
                  health: r.health,
                  ...(r.lastError !== "" ? { lastError: r.lastError } : {}),
                  evaluationTime: r.evaluationSeconds,
                  lastEvaluation: goJsonTime(r.lastEvaluation),
                };
                if (r instanceof AlertingRule) {
                  return {
                    state: r.state,
                    ...common,
                    duration: r.definition.forMs / 1000,
                    keepFiringFor: r.definition.keepFiringForMs / 1000,
                    labels: { ...r.definition.labels },
                    annotations: { ...r.definition.annotations },
                    alerts: r.activeAlerts().map(apiAlert),
                    type: "alerting" as const,
                  };
                }
                return { ...common, labels: { ...r.definition.labels }, type: "recording" as const };
              }),
            interval: g.intervalMs / 1000,
            limit: g.definition.limit,
            evaluationTime: g.evaluationSeconds,
            lastEvaluation: goJsonTime(g.lastEvaluation),
          }))
          .filter((g) => (names === undefined && query.type === undefined) || g.rules.length > 0);
        return { status: "success" as const, data: { groups } };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/alerts",
      tag: "alerting",
      summary: "Pending and firing alerts of every alerting rule, as Prometheus",
      response: AlertsResponse,
      async handler({ ctx }) {
        authorize(ctx, "metrics.read");
        const alerts = manager
          .ruleGroups()
          .flatMap((g) => g.rules)
          .flatMap((r) => (r instanceof AlertingRule ? r.activeAlerts().map(apiAlert) : []));
        return { status: "success" as const, data: { alerts } };
      },
    }),
  ];
}
