import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { Counter, Gauge, Histogram } from "prom-client";
import type { Clock } from "../platform/clock.js";
import type { DialectAdapter } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";
import type { Appender } from "../tsdb/index.js";
import type { EventBus } from "../platform/events.js";
import type { Log } from "../platform/logger.js";
import type { Metrics } from "../platform/metrics.js";
import type { CheckSpec } from "./check-kind.js";
import {
  type CheckSnapshot,
  type LastRun,
  newLastRun,
  renderCheckMetrics,
  updateLastRun,
} from "./check-metrics.js";
import type { CheckOutcome } from "./check-outcome.js";
import { CheckRecorder } from "./check-recorder.js";
import { CheckSampleWriter } from "./check-samples.js";
import { followingDeadline, nextDeadline } from "./heartbeat-deadline.js";
import type { ProbeExecutor } from "./probe-executor.js";
import { type PreparedCheck, prepareCheck } from "./run-check.js";
import { CheckScheduler } from "./scheduler/index.js";

export interface ChecksRuntimeOptions {
  db: Kysely<Schema>;
  /** The dialect's batch writer for results and states; without it, rows go through Kysely. */
  adapter?: DialectAdapter;
  clock: Clock;
  log: Log;
  events: EventBus;
  metrics: Metrics;
  /** Where probes run: on this thread or on worker threads. */
  executor: ProbeExecutor;
  /** Most check runs in flight at once. */
  concurrency: number;
  retention: Retention;
  /** How often buffered results are written; 1 s unless said. */
  flushIntervalMs?: number;
  /** Where runs are also written as blackbox_exporter-named samples (the metrics store); none unless said. */
  metricsAppender?: () => Appender | null;
}

/** How long history is kept, per resolution, in milliseconds. */
export interface Retention {
  raw: number;
  "1m": number;
  "1h": number;
  "1d": number;
}

const DAY = 86_400_000;
export const DEFAULT_RETENTION: Retention = { raw: 7 * DAY, "1m": 7 * DAY, "1h": 90 * DAY, "1d": 400 * DAY };

/** How often a heartbeat's deadline is looked at: often enough to notice silence within a few seconds of grace. */
const HEARTBEAT_TICK_MS = 5000;

interface Loaded {
  check: PreparedCheck;
  paused: boolean;
  /** The next moment a heartbeat must have pinged by. */
  deadline?: number;
  heartbeatToken?: string;
  last?: LastRun;
}

/**
 * Runs every configured check: keeps the scheduler in step with the configuration (without resetting the
 * state of checks that did not change), turns runs and heartbeat pings into outcomes, and hands them to the
 * recorder. It is the one writer of check state in a process.
 */
export class ChecksRuntime {
  readonly recorder: CheckRecorder;
  readonly samples: CheckSampleWriter | null;
  private readonly scheduler: CheckScheduler;
  private readonly loaded = new Map<string, Loaded>();
  private readonly byToken = new Map<string, string>();
  private unsubscribe: (() => void) | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  /** nines_check_runs_total's three children, looked up once rather than per run. */
  private readonly runs: Record<"success" | "degraded" | "failure", Counter.Internal>;
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly options: ChecksRuntimeOptions) {
    const { metrics } = options;
    this.recorder = new CheckRecorder({
      db: options.db,
      ...(options.adapter ? { adapter: options.adapter } : {}),
      clock: options.clock,
      log: options.log,
      events: options.events,
      ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
    });
    this.samples = options.metricsAppender
      ? new CheckSampleWriter({
          appender: options.metricsAppender,
          clock: options.clock,
          log: options.log,
          ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
        })
      : null;
    const lag = new Histogram({
      name: "nines_check_schedule_lag_seconds",
      help: "How late check runs started after they were due.",
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics.registry],
    });
    const overruns = new Counter({
      name: "nines_check_overruns_total",
      help: "Runs skipped because the check's previous run was still going.",
      registers: [metrics.registry],
    });
    const runs = new Counter({
      name: "nines_check_runs_total",
      help: "Check runs, by result.",
      labelNames: ["result"] as const,
      registers: [metrics.registry],
    });
    this.runs = {
      success: runs.labels("success"),
      degraded: runs.labels("degraded"),
      failure: runs.labels("failure"),
    };
    const scheduler = new CheckScheduler({
      clock: options.clock,
      concurrency: options.concurrency,
      run: (key, context) => this.runScheduled(key, context.signal),
      onLag: (ms) => lag.observe(ms / 1000),
      onOverrun: () => overruns.inc(),
      onError: (key, error) => options.log.warn({ err: error, check: key }, "check run failed"),
    });
    this.scheduler = scheduler;
    new Gauge({
      name: "nines_checks_in_flight",
      help: "Check runs in flight now.",
      registers: [metrics.registry],
      collect() {
        this.set(scheduler.stats().inFlight);
      },
    });
    metrics.exposition.push(() => renderCheckMetrics(this.snapshots()));
  }

  async start(): Promise<void> {
    await this.recorder.load();
    await this.reload();
    this.recorder.start();
    this.samples?.start();
    this.scheduler.start();
    // Configuration changes take effect without a restart; reloads are serialised.
    this.unsubscribe = this.options.events.on("config.applied", (event) => {
      if (!event.changes.some((c) => c.kind === "Check")) return;
      this.reloading = this.reloading.then(
        () => this.reload(),
        () => this.reload(),
      );
      this.reloading.catch((error: unknown) =>
        this.options.log.error({ err: error }, "reloading checks failed"),
      );
    });
    this.retentionTimer = setInterval(() => {
      this.applyRetention().catch((error: unknown) =>
        this.options.log.error({ err: error }, "check retention failed"),
      );
    }, 3_600_000);
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.scheduler.stop();
    await this.options.executor.close();
    await this.recorder.stop();
    await this.samples?.stop();
  }

  /** Reads the checks table and brings the scheduler and heartbeat tokens in line with it. */
  async reload(): Promise<void> {
    const rows = await this.options.db.selectFrom("checks").selectAll().execute();
    const states = await this.options.db
      .selectFrom("check_states")
      .select(["check_name", "heartbeat_token"])
      .execute();
    const tokens = new Map(states.map((s) => [s.check_name, s.heartbeat_token]));
    const seen = new Set<string>();
    const now = this.options.clock.now();
    for (const row of rows) {
      seen.add(row.name);
      const spec = JSON.parse(row.spec) as CheckSpec;
      const check = prepareCheck(row.name, spec);
      const previous = this.loaded.get(row.name);
      const entry: Loaded = {
        check,
        paused: spec.paused,
        ...(previous?.last ? { last: previous.last } : {}),
      };
      this.recorder.ensure(row.name);
      if (spec.heartbeat) {
        const state = this.recorder.state(row.name);
        const unchanged =
          previous?.check.spec.heartbeat &&
          JSON.stringify(previous.check.spec.heartbeat) === JSON.stringify(spec.heartbeat);
        entry.deadline =
          unchanged && previous.deadline !== undefined
            ? previous.deadline
            : nextDeadline(spec.heartbeat, state.lastRunAt ?? now);
        let token = tokens.get(row.name) ?? null;
        if (token === null) {
          token = randomBytes(18).toString("base64url");
          await this.recorder.flush();
          await this.options.db
            .updateTable("check_states")
            .set({ heartbeat_token: token })
            .where("check_name", "=", row.name)
            .execute();
        }
        entry.heartbeatToken = token;
        this.byToken.set(token, row.name);
      }
      if (spec.paused) this.recorder.setStatus(row.name, spec.service, "paused", "paused in configuration");
      else if (this.recorder.state(row.name).status === "paused")
        this.recorder.setStatus(row.name, spec.service, "pending", "resumed in configuration");
      this.loaded.set(row.name, entry);
    }
    for (const name of [...this.loaded.keys()]) {
      if (seen.has(name)) continue;
      const token = this.loaded.get(name)?.heartbeatToken;
      if (token) this.byToken.delete(token);
      this.loaded.delete(name);
      this.recorder.forget(name);
      this.samples?.forget(name);
    }
    this.options.executor.sync(
      [...this.loaded.values()]
        .filter((l) => l.check.probe !== null)
        .map((l) => ({ name: l.check.name, spec: l.check.spec })),
    );
    this.scheduler.sync(
      [...this.loaded.values()]
        .filter((l) => !l.paused)
        .map((l) =>
          l.check.probe
            ? {
                key: l.check.name,
                intervalMs: l.check.intervalMs,
                timeoutMs: l.check.timeoutMs * (1 + l.check.spec.retries) + 1000,
              }
            : { key: l.check.name, intervalMs: HEARTBEAT_TICK_MS, timeoutMs: HEARTBEAT_TICK_MS },
        ),
    );
  }

  private async runScheduled(name: string, signal: AbortSignal): Promise<void> {
    const entry = this.loaded.get(name);
    if (!entry) return;
    if (entry.check.probe) {
      const outcome = await this.options.executor.run(name, signal);
      if (!outcome || (signal.aborted && !this.loaded.has(name))) return;
      this.accept(entry, outcome);
      return;
    }
    this.checkHeartbeat(entry);
  }

  /** Records a missed deadline as one failed run, then waits for the following one. */
  private checkHeartbeat(entry: Loaded): void {
    const beat = entry.check.spec.heartbeat;
    if (!beat || entry.deadline === undefined) return;
    const now = this.options.clock.now();
    if (now <= entry.deadline) return;
    const missed = entry.deadline;
    const lastRun = this.recorder.state(entry.check.name).lastRunAt;
    const since = lastRun === null ? "it was configured" : new Date(lastRun).toISOString();
    this.accept(entry, {
      check: entry.check.name,
      at: now,
      ok: false,
      degraded: false,
      durationMs: 0,
      attempts: 0,
      reason: `no ping since ${since}; one was due by ${new Date(missed).toISOString()}`,
      statusCode: null,
      conditions: [],
      timings: {},
    });
    entry.deadline = followingDeadline(beat, missed);
    if (entry.deadline <= now) entry.deadline = nextDeadline(beat, now);
  }

  private accept(entry: Loaded, outcome: CheckOutcome): void {
    entry.last ??= newLastRun();
    updateLastRun(entry.last, outcome);
    this.runs[outcome.ok ? (outcome.degraded ? "degraded" : "success") : "failure"].inc();
    this.recorder.record(outcome, entry.check.service, entry.check.spec);
    this.samples?.record(outcome, entry.check.service, entry.check.spec.labels);
    // SLIs that count check runs hear of each one as it happens.
    this.options.events.emit("check.ran", {
      check: outcome.check,
      service: entry.check.service,
      at: outcome.at,
      ok: outcome.ok,
      degraded: outcome.degraded,
      durationMs: outcome.durationMs,
    });
  }

  /** Runs a check now, outside its schedule, and records the result like any other run. */
  async runNow(name: string): Promise<CheckOutcome | null> {
    const entry = this.loaded.get(name);
    if (!entry?.check.probe) return null;
    const outcome = await this.options.executor.run(name);
    if (!outcome) return null;
    this.accept(entry, outcome);
    // Whoever asked for this run will look at the history next; store it now rather than within a second.
    await this.recorder.flush();
    await this.samples?.flush();
    return outcome;
  }

  /** A heartbeat ping: good, or a failure the job reports itself. Null when no heartbeat has this token. */
  ping(token: string, failed: boolean, message?: string): { check: string } | null {
    const name = this.byToken.get(token);
    const entry = name === undefined ? undefined : this.loaded.get(name);
    const beat = entry?.check.spec.heartbeat;
    if (!entry || !beat || name === undefined) return null;
    const now = this.options.clock.now();
    this.accept(entry, {
      check: name,
      at: now,
      ok: !failed,
      degraded: false,
      durationMs: 0,
      attempts: 1,
      reason: failed ? `the job reported failure${message ? `: ${message.slice(0, 500)}` : ""}` : null,
      statusCode: null,
      conditions: [],
      timings: {},
    });
    entry.deadline = nextDeadline(beat, now);
    return { check: name };
  }

  isKnown(name: string): boolean {
    return this.loaded.has(name);
  }

  schedulerStats() {
    return this.scheduler.stats();
  }

  snapshots(): CheckSnapshot[] {
    return [...this.loaded.values()].map((l) => ({
      name: l.check.name,
      service: l.check.service,
      labels: l.check.spec.labels,
      status: this.recorder.state(l.check.name).status,
      last: l.last ?? null,
    }));
  }

  /** Deletes raw results and rollups past their retention. */
  async applyRetention(): Promise<void> {
    const now = this.options.clock.now();
    const { db, retention } = { db: this.options.db, retention: this.options.retention };
    await db
      .deleteFrom("check_results")
      .where("at", "<", now - retention.raw)
      .execute();
    for (const resolution of ["1m", "1h", "1d"] as const) {
      await db
        .deleteFrom("check_rollups")
        .where("resolution", "=", resolution)
        .where("start", "<", now - retention[resolution])
        .execute();
    }
  }
}
