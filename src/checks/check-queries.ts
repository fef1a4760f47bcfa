import { z } from "zod";
import { authorize, can } from "../auth/index.js";
import type { Ctx } from "../platform/context.js";
import type { Schema } from "../platform/db/schema.js";
import { notFound } from "../platform/errors.js";
import type { CheckSpec } from "./check-kind.js";
import { CHECK_STATUSES } from "./check-outcome.js";
import { formatDuration } from "./conditions/duration.js";
import { rollupFromRow } from "./check-recorder.js";
import { quantileOf } from "./latency-histogram.js";
import { bucketStart, RESOLUTIONS, type Resolution } from "./rollups.js";

const Uptime = z.object({
  runs: z.number(),
  failures: z.number(),
  /** Share of good runs, 0–1; null when the check did not run in the window. */
  ratio: z.number().nullable(),
});
export const CheckSummary = z.object({
  name: z.string(),
  service: z.string(),
  type: z.string(),
  interval: z.string(),
  status: z.enum(CHECK_STATUSES),
  since: z.string(),
  lastRunAt: z.string().nullable(),
  lastDurationMs: z.number().nullable(),
  lastReason: z.string().nullable(),
  uptime: z.object({ "24h": Uptime, "7d": Uptime, "30d": Uptime }),
});
export type CheckSummary = z.infer<typeof CheckSummary>;

export const CheckDetail = CheckSummary.extend({
  spec: z
    .unknown()
    .describe(
      "The check as configured; secrets appear as the environment references (dollar-brace NAME) written there.",
    ),
  heartbeatUrl: z.string().nullable().describe("Path the job pings; shown to editors and admins only."),
});

export const CheckResultView = z.object({
  id: z.string(),
  at: z.string(),
  ok: z.boolean(),
  degraded: z.boolean(),
  durationMs: z.number(),
  attempts: z.number(),
  statusCode: z.number().nullable(),
  reason: z.string().nullable(),
  conditions: z.array(z.object({ condition: z.string(), ok: z.boolean(), actual: z.string() })),
  timings: z.record(z.string(), z.number()),
});
export const CheckEventView = z.object({
  id: z.string(),
  at: z.string(),
  from: z.string(),
  to: z.string(),
  reason: z.string().nullable(),
});
export const RollupView = z.object({
  start: z.string(),
  runs: z.number(),
  failures: z.number(),
  degraded: z.number(),
  uptime: z.number().nullable(),
  latencyMs: z.object({
    min: z.number().nullable(),
    mean: z.number().nullable(),
    max: z.number().nullable(),
    p95: z.number().nullable(),
  }),
});

const WINDOWS = {
  "24h": { ms: 86_400_000, resolution: "1h" },
  "7d": { ms: 7 * 86_400_000, resolution: "1d" },
  "30d": { ms: 30 * 86_400_000, resolution: "1d" },
} as const;
type WindowName = keyof typeof WINDOWS;
type Counts = Map<string, { runs: number; failures: number }>;

/**
 * Uptime over 24 h, 7 d and 30 d for every check from hour and day rollups (whole buckets: the oldest one is
 * counted whole), computed with one grouped query per window and kept for 30 s, so listing 10,000 checks
 * costs a map lookup each.
 */
export class UptimeCache {
  private cached: { at: number; windows: Record<WindowName, Counts> } | null = null;
  private pending: Promise<Record<WindowName, Counts>> | null = null;

  constructor(private readonly ttlMs = 30_000) {}

  async get(ctx: Ctx): Promise<Record<WindowName, Counts>> {
    const now = ctx.clock.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.windows;
    this.pending ??= this.compute(ctx, now).finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async compute(ctx: Ctx, now: number): Promise<Record<WindowName, Counts>> {
    const windows = {} as Record<WindowName, Counts>;
    for (const [name, window] of Object.entries(WINDOWS) as Array<
      [WindowName, (typeof WINDOWS)[WindowName]]
    >) {
      const rows = await ctx.db
        .selectFrom("check_rollups")
        .select((eb) => [
          "check_name",
          eb.fn.sum<number>("runs").as("runs"),
          eb.fn.sum<number>("failures").as("failures"),
        ])
        .where("resolution", "=", window.resolution)
        .where("start", ">=", bucketStart(now - window.ms, window.resolution))
        .groupBy("check_name")
        .execute();
      windows[name] = new Map(
        rows.map((r) => [r.check_name, { runs: Number(r.runs), failures: Number(r.failures) }]),
      );
    }
    this.cached = { at: now, windows };
    return windows;
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function uptimeOf(counts: Counts, name: string): z.infer<typeof Uptime> {
  const c = counts.get(name) ?? { runs: 0, failures: 0 };
  return { runs: c.runs, failures: c.failures, ratio: c.runs === 0 ? null : (c.runs - c.failures) / c.runs };
}

export const CHECKS_PAGE_DEFAULT = 100;

/**
 * Checks in name order, a page at a time (`after` is the last name of the previous page): with 10,000
 * checks, one answer for all of them would hold the server's only thread for hundreds of milliseconds.
 */
export async function listChecks({
  ctx,
  uptime,
  input = {},
}: {
  ctx: Ctx;
  uptime: UptimeCache;
  input?: {
    service?: string | undefined;
    name?: string | undefined;
    after?: string | undefined;
    limit?: number | undefined;
  };
}): Promise<{ checks: CheckSummary[]; next: string | null }> {
  authorize(ctx, "check.read");
  const limit = input.limit ?? CHECKS_PAGE_DEFAULT;
  let query = ctx.db
    .selectFrom("checks")
    .leftJoin("check_states", "check_states.check_name", "checks.name")
    .select([
      "checks.name",
      "checks.service_name",
      "checks.type",
      "checks.interval_ms",
      // The stored spec is parsed only for heartbeats, whose period or schedule is what "interval" shows.
      (eb) =>
        eb
          .case()
          .when("checks.type", "=", "heartbeat")
          .then(eb.ref("checks.spec"))
          .else(null)
          .end()
          .as("heartbeat_spec"),
      "check_states.status",
      "check_states.since",
      "check_states.last_run_at",
      "check_states.last_duration_ms",
      "check_states.last_reason",
    ])
    .orderBy("checks.name")
    .limit(limit + 1);
  if (input.service !== undefined) query = query.where("checks.service_name", "=", input.service);
  if (input.name !== undefined) query = query.where("checks.name", "=", input.name);
  if (input.after !== undefined) query = query.where("checks.name", ">", input.after);
  const [rows, windows] = await Promise.all([query.execute(), uptime.get(ctx)]);
  const page = rows.slice(0, limit);
  const checks = page.map((row) => {
    const beat = row.heartbeat_spec ? (JSON.parse(row.heartbeat_spec) as CheckSpec).heartbeat : undefined;
    return {
      name: row.name,
      service: row.service_name,
      type: row.type,
      interval: beat ? (beat.period ?? beat.schedule ?? "") : formatDuration(row.interval_ms),
      status: (row.status ?? "pending") as CheckSummary["status"],
      since: iso(row.since ?? ctx.clock.now()) ?? "",
      lastRunAt: iso(row.last_run_at ?? null),
      lastDurationMs: row.last_duration_ms ?? null,
      lastReason: row.last_reason ?? null,
      uptime: {
        "24h": uptimeOf(windows["24h"], row.name),
        "7d": uptimeOf(windows["7d"], row.name),
        "30d": uptimeOf(windows["30d"], row.name),
      },
    };
  });
  return { checks, next: rows.length > limit ? (page[page.length - 1]?.name ?? null) : null };
}

export async function getCheck({
  ctx,
  uptime,
  input,
}: {
  ctx: Ctx;
  uptime: UptimeCache;
  input: { name: string };
}): Promise<z.infer<typeof CheckDetail>> {
  authorize(ctx, "check.read");
  const row = await ctx.db
    .selectFrom("checks")
    .leftJoin("check_states", "check_states.check_name", "checks.name")
    .select(["checks.name", "checks.spec", "check_states.heartbeat_token"])
    .where("checks.name", "=", input.name)
    .executeTakeFirst();
  if (!row) throw notFound("Check", input.name);
  const {
    checks: [summary],
  } = await listChecks({ ctx, uptime, input: { name: input.name } });
  if (!summary) throw notFound("Check", input.name);
  const token = row.heartbeat_token ?? null;
  return {
    ...summary,
    spec: JSON.parse(row.spec),
    heartbeatUrl: token !== null && can(ctx, "check.secrets") ? `/api/v1/heartbeats/${token}` : null,
  };
}

async function requireCheck(ctx: Ctx, name: string): Promise<void> {
  const row = await ctx.db.selectFrom("checks").select("name").where("name", "=", name).executeTakeFirst();
  if (!row) throw notFound("Check", name);
}

type PageInput = { name: string; before?: number | undefined; limit: number };

/** One page of a check's rows from a history table, newest first; `before` continues from the last page. */
async function historyPage<T extends "check_results" | "check_events">(ctx: Ctx, table: T, input: PageInput) {
  authorize(ctx, "check.read");
  await requireCheck(ctx, input.name);
  let query = ctx.db
    .selectFrom(table as "check_results" | "check_events")
    .selectAll()
    .where("check_name", "=", input.name)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(input.limit);
  if (input.before !== undefined) query = query.where("at", "<", input.before);
  return (await query.execute()) as Array<Schema[T]>;
}

/** Raw results, newest first. */
export async function listCheckResults({ ctx, input }: { ctx: Ctx; input: PageInput }) {
  const rows = await historyPage(ctx, "check_results", input);
  return rows.map((r) => ({
    id: r.id,
    at: new Date(r.at).toISOString(),
    ok: r.ok === 1,
    degraded: r.degraded === 1,
    durationMs: r.duration_ms,
    attempts: r.attempts,
    statusCode: r.status_code,
    reason: r.reason,
    conditions: r.conditions
      ? (JSON.parse(r.conditions) as Array<{ condition: string; ok: boolean; actual: string }>)
      : [],
    timings: r.timings ? (JSON.parse(r.timings) as Record<string, number>) : {},
  }));
}

/** State changes, newest first. */
export async function listCheckEvents({ ctx, input }: { ctx: Ctx; input: PageInput }) {
  const rows = await historyPage(ctx, "check_events", input);
  return rows.map((r) => ({
    id: r.id,
    at: new Date(r.at).toISOString(),
    from: r.from_status,
    to: r.to_status,
    reason: r.reason,
  }));
}

/** Rollup buckets, oldest first: 90 daily bars are 90 rows whatever the raw retention. */
export async function listCheckRollups({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { name: string; resolution: Resolution; from: number; to: number };
}) {
  authorize(ctx, "check.read");
  await requireCheck(ctx, input.name);
  const rows = await ctx.db
    .selectFrom("check_rollups")
    .selectAll()
    .where("check_name", "=", input.name)
    .where("resolution", "=", input.resolution)
    .where("start", ">=", bucketStart(input.from, input.resolution))
    .where("start", "<", input.to)
    .orderBy("start")
    .execute();
  return rows.map((row) => {
    const r = rollupFromRow(row);
    const good = r.runs - r.failures;
    return {
      start: new Date(row.start).toISOString(),
      runs: r.runs,
      failures: r.failures,
      degraded: r.degraded,
      uptime: r.runs === 0 ? null : good / r.runs,
      latencyMs: {
        min: r.latencyMin,
        mean: good > 0 ? r.latencySum / good : null,
        max: r.latencyMax,
        p95: quantileOf(r.histogram, 0.95),
      },
    };
  });
}

export { RESOLUTIONS };
