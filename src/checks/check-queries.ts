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
type Windows = Record<WindowName, Counts>;

/** Checks summed per query: with 30 days of rollups, a few milliseconds each on SQLite. */
const UPTIME_SLICE = 200;

/**
 * Uptime over 24 h, 7 d and 30 d for every check from hour and day rollups (whole buckets: the oldest one is
 * counted whole), so listing 10,000 checks costs a map lookup each. The sums for all checks are computed a
 * slice of checks at a time with the event loop free in between, and reused for `ttlMs`; an answer up to
 * twice that old is served at once while a fresh one is computed behind it. Without one, a caller gets the
 * sums of the checks it asked for (one page) at once, and the sums for all are computed behind it.
 */
export class UptimeCache {
  private cached: { at: number; windows: Windows } | null = null;
  private pending: Promise<Windows> | null = null;

  constructor(private readonly ttlMs = 30_000) {}

  async get(ctx: Ctx, names: readonly string[]): Promise<Windows> {
    const now = ctx.clock.now();
    const cached = this.cached;
    if (cached && now - cached.at < this.ttlMs) return cached.windows;
    if (!this.pending) {
      const pending = sumRollups(ctx, now).then((windows) => {
        this.cached = { at: now, windows };
        return windows;
      });
      this.pending = pending;
      // A failed refresh is logged and tried again by the next caller; this one does not wait for it.
      pending
        .catch((error: unknown) => ctx.log.warn({ err: error }, "computing check uptimes failed"))
        .finally(() => {
          if (this.pending === pending) this.pending = null;
        });
    }
    if (cached && now - cached.at < 2 * this.ttlMs) return cached.windows;
    return sumRollups(ctx, now, names);
  }
}

/** Runs and failures per check and window, for every configured check or for the named ones. */
async function sumRollups(ctx: Ctx, now: number, only?: readonly string[]): Promise<Windows> {
  const windows: Windows = { "24h": new Map(), "7d": new Map(), "30d": new Map() };
  let after: string | null = null;
  for (let offset = 0; ; offset += UPTIME_SLICE) {
    let names: string[];
    if (only) names = only.slice(offset, offset + UPTIME_SLICE);
    else {
      let query = ctx.db.selectFrom("checks").select("name").orderBy("name").limit(UPTIME_SLICE);
      if (after !== null) query = query.where("name", ">", after);
      names = (await query.execute()).map((row) => row.name);
    }
    if (names.length === 0) break;
    await sumSlice(ctx, now, names, windows);
    if (names.length < UPTIME_SLICE) break;
    after = names[names.length - 1] ?? null;
    // SQLite answers on this thread: let requests in between slices.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return windows;
}

/**
 * One slice of checks, named: the rollups' primary key (check, resolution, start) then finds their rows
 * directly, where a range over all checks would have the planner scan and sort every check's rows.
 */
async function sumSlice(ctx: Ctx, now: number, names: string[], windows: Windows): Promise<void> {
  for (const resolution of ["1h", "1d"] as const) {
    const inPass = (Object.keys(WINDOWS) as WindowName[]).filter((w) => WINDOWS[w].resolution === resolution);
    const from = inPass.map((w) => bucketStart(now - WINDOWS[w].ms, resolution));
    const rows = (await ctx.db
      .selectFrom("check_rollups")
      .select((eb) => [
        "check_name",
        ...inPass.flatMap((w, i) => {
          const inWindow = (column: "runs" | "failures") =>
            eb.fn
              .sum<number>(
                eb
                  .case()
                  .when("start", ">=", from[i] ?? 0)
                  .then(eb.ref(column))
                  .else(0)
                  .end(),
              )
              .as(`${column}_${w}`);
          return [inWindow("runs"), inWindow("failures")];
        }),
      ])
      .where("check_name", "in", names)
      .where("resolution", "=", resolution)
      .where("start", ">=", Math.min(...from))
      .groupBy("check_name")
      .execute()) as Array<Record<string, unknown> & { check_name: string }>;
    for (const row of rows) {
      for (const w of inPass)
        windows[w].set(row.check_name, {
          runs: Number(row[`runs_${w}`]),
          failures: Number(row[`failures_${w}`]),
        });
    }
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
  const rows = await query.execute();
  const page = rows.slice(0, limit);
  const windows = await uptime.get(
    ctx,
    page.map((row) => row.name),
  );
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
