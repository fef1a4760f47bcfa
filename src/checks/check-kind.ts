import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { type ConfigObject, defineKind, ObjectName } from "../config/index.js";
import { parseDuration } from "./conditions/duration.js";
import { parseCondition } from "./conditions/parse-condition.js";
import { MAX_TIMEOUT_MS } from "./probes/probe-options.js";
import { ProbeSpec } from "./probes/probe-spec.js";

const SECOND = 1000;
const DAY = 86_400_000;

/**
 * A duration as users write it ("30s", "5m", "1h30m"). Kept as text in the stored configuration, so diffs
 * and revisions read as written; durationMs() turns it into milliseconds where it is used.
 */
export const Duration = z
  .string()
  .regex(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/, 'a duration such as "30s", "5m" or "1h30m"');

export function durationMs(text: string): number {
  return parseDuration(text) ?? 0;
}

export const HeartbeatSpec = z
  .strictObject({
    period: Duration.optional().describe("The job pings at least this often, e.g. 1h."),
    schedule: z.string().optional().describe('Or: a cron schedule the job runs on, e.g. "0 3 * * *".'),
    timezone: z.string().default("UTC").describe("Time zone of the cron schedule."),
    grace: Duration.default("5m").describe("How late a ping may be before the check is down; default 5m."),
  })
  .describe("A push check: the job calls /api/v1/heartbeats/<token> (or …/fail) and silence means down.");
export type HeartbeatSpec = z.infer<typeof HeartbeatSpec>;

export const CheckSpec = z
  .strictObject({
    service: ObjectName.describe("The Service this check watches."),
    description: z.string().max(2000).optional(),
    interval: Duration.default("60s").describe("How often the check runs: 1s to 24h; default 60s."),
    timeout: Duration.default("10s").describe(
      "Each attempt's time limit; less than the interval; default 10s.",
    ),
    retries: z
      .int()
      .min(0)
      .max(5)
      .default(0)
      .describe("Attempts again at once before a run counts as failed."),
    failureThreshold: z.int().min(1).max(100).default(1).describe("Consecutive failed runs before down."),
    successThreshold: z.int().min(1).max(100).default(1).describe("Consecutive good runs before up again."),
    conditions: z
      .array(z.string())
      .default([])
      .describe('All must hold for a run to succeed, e.g. "[STATUS] == 200".'),
    degraded: z
      .strictObject({
        responseTimeOver: Duration.optional().describe(
          "A good run slower than this is degraded, e.g. 800ms.",
        ),
        conditions: z
          .array(z.string())
          .default([])
          .describe("A good run where any of these fails is degraded."),
      })
      .optional()
      .describe("When a run that succeeded still counts as degraded, not down."),
    probe: ProbeSpec.optional().describe(
      "What to probe (http, tcp, dns, tls). Exactly one of probe or heartbeat.",
    ),
    heartbeat: HeartbeatSpec.optional(),
    paused: z.boolean().default(false).describe("A paused check keeps its history and does not run."),
    labels: z
      .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string())
      .default({})
      .describe("Extra labels on its metrics."),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: Array<string | number>, message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if ((spec.probe === undefined) === (spec.heartbeat === undefined)) {
      issue([], "a check needs exactly one of probe (http, tcp, dns, tls) or heartbeat");
    }
    // Durations that did not parse are reported by their own pattern; comparing them would only add noise.
    const interval = parseDuration(spec.interval);
    const timeout = parseDuration(spec.timeout);
    if (interval !== null && (interval < SECOND || interval > DAY))
      issue(["interval"], "interval must be between 1s and 24h");
    if (spec.probe !== undefined) {
      if (interval !== null && timeout !== null && timeout >= interval) {
        issue(["timeout"], `timeout (${spec.timeout}) must be less than the interval (${spec.interval})`);
      }
      if (timeout !== null && timeout > MAX_TIMEOUT_MS)
        issue(["timeout"], `timeout may be at most ${MAX_TIMEOUT_MS / 1000}s`);
      if (timeout === 0) issue(["timeout"], "timeout must be more than 0");
      const probeType = spec.probe.type;
      const checkAll = (list: readonly string[], base: Array<string | number>) =>
        list.forEach((text, i) => {
          const parsed = parseCondition(text, { probeType });
          if (!parsed.ok)
            issue([...base, i], `in "${text}" at character ${parsed.error.column}: ${parsed.error.message}`);
        });
      checkAll(spec.conditions, ["conditions"]);
      checkAll(spec.degraded?.conditions ?? [], ["degraded", "conditions"]);
    }
    const beat = spec.heartbeat;
    if (beat !== undefined) {
      if (spec.conditions.length > 0 || spec.degraded !== undefined) {
        issue(
          ["heartbeat"],
          "a heartbeat has no conditions or degraded rule: a ping is good, /fail or silence is not",
        );
      }
      if ((beat.period === undefined) === (beat.schedule === undefined)) {
        issue(
          ["heartbeat"],
          "a heartbeat needs exactly one of period (e.g. 1h) or schedule (a cron expression)",
        );
      }
      if (beat.schedule !== undefined) {
        try {
          CronExpressionParser.parse(beat.schedule, { tz: beat.timezone });
        } catch (error) {
          issue(
            ["heartbeat", "schedule"],
            `not a cron schedule (or unknown time zone "${beat.timezone}"): ${(error as Error).message}`,
          );
        }
      }
      if (beat.period !== undefined && durationMs(beat.period) < SECOND)
        issue(["heartbeat", "period"], "period must be at least 1s");
    }
  });
export type CheckSpec = z.infer<typeof CheckSpec>;

export type CheckType = NonNullable<CheckSpec["probe"]>["type"] | "heartbeat";

export function checkTypeOf(spec: CheckSpec): CheckType {
  return spec.probe?.type ?? "heartbeat";
}

declare module "../platform/events.js" {
  interface NinesEventMap {
    /** A check's definitions changed; the scheduler re-reads them. */
    "checks.changed": { names: string[] };
  }
}

export const checkKind = defineKind<CheckSpec>({
  apiVersion: "nines/v1",
  kind: "Check",
  description:
    "A synthetic check of a service: an HTTP, TCP, DNS or TLS probe, or a heartbeat its job pushes.",
  spec: CheckSpec,
  order: 40,
  references: (spec) => [{ kind: "Service", name: spec.service, path: ["service"] }],
  store: {
    async upsert(ctx, objects: ReadonlyArray<ConfigObject<CheckSpec>>) {
      const now = ctx.clock.now();
      for (const { metadata, spec } of objects) {
        const row = {
          name: metadata.name,
          service_name: spec.service,
          type: checkTypeOf(spec),
          interval_ms: durationMs(spec.interval),
          spec: JSON.stringify(spec),
          updated_at: now,
        };
        const { name: _name, ...update } = row;
        await ctx.db
          .insertInto("checks")
          .values(row)
          .onConflict((oc) => oc.column("name").doUpdateSet(update))
          .execute();
      }
    },
    async remove(ctx, names) {
      // A deleted check takes its history with it; its config revision keeps the definition.
      for (const table of ["check_results", "check_events", "check_rollups", "check_states"] as const) {
        await ctx.db.deleteFrom(table).where("check_name", "in", names).execute();
      }
      await ctx.db.deleteFrom("checks").where("name", "in", names).execute();
    },
  },
});
