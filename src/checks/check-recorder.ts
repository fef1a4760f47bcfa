import type { Kysely } from "kysely";
import type { Clock } from "../platform/clock.js";
import type { Schema } from "../platform/db/schema.js";
import type { EventBus } from "../platform/events.js";
import { newId } from "../platform/ids.js";
import type { Log } from "../platform/logger.js";
import {
  applyOutcome,
  type CheckOutcome,
  type CheckStateValue,
  type CheckStatus,
  type StateTransition,
  type Thresholds,
} from "./check-outcome.js";
import {
  addRun,
  bucketStart,
  emptyRollup,
  mergeRollup,
  RESOLUTIONS,
  type Resolution,
  type Rollup,
} from "./rollups.js";

export interface CheckStateChanged extends StateTransition {
  check: string;
  service: string;
}

declare module "../platform/events.js" {
  interface NinesEventMap {
    /** A check went up, down or degraded; delivered once the change is stored. */
    "check.stateChanged": CheckStateChanged;
  }
}

/** The live state of one check, as the recorder keeps it between flushes. */
export interface LiveState extends CheckStateValue {
  lastRunAt: number | null;
  lastOk: boolean | null;
  lastDurationMs: number | null;
  lastReason: string | null;
}

interface OpenRollup {
  check: string;
  /** A stable number from the check's name, to spread rollup writes over flushes. */
  share: number;
  resolution: Resolution;
  start: number;
  rollup: Rollup;
  /** Whether the stored row (if any) has been merged in, so a restart inside a bucket loses nothing. */
  loaded: boolean;
  dirty: boolean;
}

const CHUNK = 400;

/**
 * Takes every check outcome, keeps each check's state, and writes results, states, state changes and
 * rollups to the database in batches (one transaction per flush, about once a second), so thousands of runs
 * a second cost a handful of statements. State changes are published after the flush that stored them.
 */
export class CheckRecorder {
  private readonly states = new Map<string, LiveState>();
  private readonly dirtyStates = new Set<string>();
  private results: Schema["check_results"][] = [];
  private events: Array<Schema["check_events"] & { service: string }> = [];
  private readonly rollups = new Map<string, OpenRollup>();
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private flushes = 0;

  constructor(
    private readonly deps: {
      db: Kysely<Schema>;
      clock: Clock;
      log: Log;
      events: EventBus;
      flushIntervalMs?: number;
      /** Rollups are written every this many flushes (and at stop): three rows per check per write add up. */
      rollupEveryFlushes?: number;
    },
  ) {}

  /** Loads stored states, so that a restart resumes thresholds and "since" where they were. */
  async load(): Promise<void> {
    const rows = await this.deps.db.selectFrom("check_states").selectAll().execute();
    for (const row of rows) {
      this.states.set(row.check_name, {
        status: row.status as CheckStatus,
        since: row.since,
        consecutiveFailures: row.consecutive_failures,
        consecutiveSuccesses: row.consecutive_successes,
        lastRunAt: row.last_run_at,
        lastOk: row.last_ok === null ? null : row.last_ok === 1,
        lastDurationMs: row.last_duration_ms,
        lastReason: row.last_reason,
      });
    }
  }

  start(): void {
    const every = this.deps.flushIntervalMs ?? 1000;
    this.timer = setInterval(() => {
      this.flush().catch((error: unknown) =>
        this.deps.log.error({ err: error }, "storing check results failed; retrying"),
      );
    }, every);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush({ rollups: true });
  }

  state(check: string): LiveState {
    return this.states.get(check) ?? pendingState(this.deps.clock.now());
  }

  /** Makes sure a configured check has a state row ("pending" until its first run). */
  ensure(check: string): void {
    if (this.states.has(check)) return;
    this.states.set(check, pendingState(this.deps.clock.now()));
    this.dirtyStates.add(check);
  }

  forget(check: string): void {
    this.states.delete(check);
    this.dirtyStates.delete(check);
    for (const [key, open] of this.rollups) if (open.check === check) this.rollups.delete(key);
  }

  /** Sets a state directly (pausing a check); the transition is recorded like any other. */
  setStatus(check: string, service: string, status: CheckStatus, reason: string): void {
    const current = this.state(check);
    if (current.status === status) return;
    const at = this.deps.clock.now();
    this.states.set(check, {
      ...current,
      status,
      since: at,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
    });
    this.dirtyStates.add(check);
    this.events.push({
      id: newId(at),
      check_name: check,
      at,
      from_status: current.status,
      to_status: status,
      reason,
      service,
    });
  }

  record(outcome: CheckOutcome, service: string, thresholds: Thresholds): StateTransition | null {
    const current = this.state(outcome.check);
    const { state, transition } = applyOutcome(current, outcome, thresholds);
    this.states.set(outcome.check, {
      ...state,
      lastRunAt: outcome.at,
      lastOk: outcome.ok,
      lastDurationMs: outcome.durationMs,
      lastReason: outcome.reason,
    });
    this.dirtyStates.add(outcome.check);
    this.results.push({
      id: newId(outcome.at),
      check_name: outcome.check,
      at: outcome.at,
      ok: outcome.ok ? 1 : 0,
      degraded: outcome.degraded ? 1 : 0,
      duration_ms: outcome.durationMs,
      attempts: outcome.attempts,
      status_code: outcome.statusCode,
      reason: outcome.reason,
      conditions: outcome.conditions.length > 0 ? JSON.stringify(outcome.conditions) : null,
      timings: Object.keys(outcome.timings).length > 0 ? JSON.stringify(outcome.timings) : null,
    });
    if (transition) {
      this.events.push({
        id: newId(outcome.at),
        check_name: outcome.check,
        at: transition.at,
        from_status: transition.from,
        to_status: transition.to,
        reason: transition.reason,
        service,
      });
    }
    for (const resolution of Object.keys(RESOLUTIONS) as Resolution[]) {
      const start = bucketStart(outcome.at, resolution);
      const key = `${outcome.check}|${resolution}|${start}`;
      let open = this.rollups.get(key);
      if (!open) {
        open = {
          check: outcome.check,
          share: shareOf(outcome.check),
          resolution,
          start,
          rollup: emptyRollup(),
          loaded: false,
          dirty: true,
        };
        this.rollups.set(key, open);
      }
      addRun(open.rollup, outcome, outcome.ok);
      open.dirty = true;
    }
    return transition;
  }

  /** Writes everything recorded since the last flush in one transaction; flushes never overlap. */
  flush(options: { rollups?: boolean } = {}): Promise<void> {
    // Each flush writes the rollups of one tenth of the checks (by a hash of the name), so every rollup is
    // stored every ten flushes without one flush having to write them all at once.
    const every = this.deps.rollupEveryFlushes ?? 10;
    const share = this.flushes++ % every;
    const pick = options.rollups === true ? () => true : (r: OpenRollup) => r.share % every === share;
    this.flushing = this.flushing.then(
      () => this.flushOnce(pick),
      () => this.flushOnce(pick),
    );
    return this.flushing;
  }

  private async flushOnce(pick: (r: OpenRollup) => boolean): Promise<void> {
    const results = this.results;
    const events = this.events;
    const stateNames = [...this.dirtyStates];
    const openRollups = [...this.rollups.values()].filter((r) => r.dirty && pick(r));
    if (results.length === 0 && events.length === 0 && stateNames.length === 0 && openRollups.length === 0)
      return;
    this.results = [];
    this.events = [];
    this.dirtyStates.clear();
    for (const r of openRollups) r.dirty = false;
    const now = this.deps.clock.now();
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        for (let i = 0; i < results.length; i += CHUNK)
          await trx
            .insertInto("check_results")
            .values(results.slice(i, i + CHUNK))
            .execute();
        if (events.length > 0) {
          await trx
            .insertInto("check_events")
            .values(events.map(({ service: _service, ...row }) => row))
            .execute();
        }
        const stateRows = stateNames.flatMap((name) => {
          const s = this.states.get(name);
          return s ? [stateRow(name, s, now)] : [];
        });
        for (let i = 0; i < stateRows.length; i += CHUNK) {
          await trx
            .insertInto("check_states")
            .values(stateRows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.column("check_name").doUpdateSet((eb) => ({
                status: eb.ref("excluded.status"),
                since: eb.ref("excluded.since"),
                consecutive_failures: eb.ref("excluded.consecutive_failures"),
                consecutive_successes: eb.ref("excluded.consecutive_successes"),
                last_run_at: eb.ref("excluded.last_run_at"),
                last_ok: eb.ref("excluded.last_ok"),
                last_duration_ms: eb.ref("excluded.last_duration_ms"),
                last_reason: eb.ref("excluded.last_reason"),
                updated_at: eb.ref("excluded.updated_at"),
              })),
            )
            .execute();
        }
        await this.mergeStoredRollups(
          trx,
          openRollups.filter((r) => !r.loaded),
        );
        const rollupRows = openRollups.map((r) => rollupRow(r));
        for (let i = 0; i < rollupRows.length; i += CHUNK) {
          await trx
            .insertInto("check_rollups")
            .values(rollupRows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.columns(["check_name", "resolution", "start"]).doUpdateSet((eb) => ({
                runs: eb.ref("excluded.runs"),
                failures: eb.ref("excluded.failures"),
                degraded: eb.ref("excluded.degraded"),
                latency_min: eb.ref("excluded.latency_min"),
                latency_sum: eb.ref("excluded.latency_sum"),
                latency_max: eb.ref("excluded.latency_max"),
                latency_histogram: eb.ref("excluded.latency_histogram"),
              })),
            )
            .execute();
        }
      });
    } catch (error) {
      // Nothing of a failed flush is lost: it goes back in front of what came since, for the next flush.
      this.results = [...results, ...this.results];
      this.events = [...events, ...this.events];
      for (const name of stateNames) this.dirtyStates.add(name);
      for (const r of openRollups) r.dirty = true;
      throw error;
    }
    for (const r of openRollups) r.loaded = true;
    this.closeOldRollups(now);
    for (const event of events) {
      this.deps.events.emit("check.stateChanged", {
        check: event.check_name,
        service: event.service,
        from: event.from_status as CheckStatus,
        to: event.to_status as CheckStatus,
        at: event.at,
        reason: event.reason,
      });
    }
  }

  /** A bucket opened after a restart may already hold counts from before it; add them in once. */
  private async mergeStoredRollups(trx: Kysely<Schema>, opened: OpenRollup[]): Promise<void> {
    const groups = new Map<string, OpenRollup[]>();
    for (const r of opened) {
      const key = `${r.resolution}|${r.start}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const list of groups.values()) {
      const first = list[0];
      if (!first) continue;
      for (let i = 0; i < list.length; i += CHUNK) {
        const slice = list.slice(i, i + CHUNK);
        const stored = await trx
          .selectFrom("check_rollups")
          .selectAll()
          .where("resolution", "=", first.resolution)
          .where("start", "=", first.start)
          .where(
            "check_name",
            "in",
            slice.map((r) => r.check),
          )
          .execute();
        const byCheck = new Map(slice.map((r) => [r.check, r]));
        for (const row of stored) {
          const open = byCheck.get(row.check_name);
          if (open) mergeRollup(open.rollup, rollupFromRow(row));
        }
      }
    }
  }

  private closeOldRollups(now: number): void {
    for (const [key, open] of this.rollups) {
      if (!open.dirty && open.start + RESOLUTIONS[open.resolution] < now - 60_000) this.rollups.delete(key);
    }
  }
}

function shareOf(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return hash >>> 0;
}

function pendingState(at: number): LiveState {
  return {
    status: "pending",
    since: at,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastRunAt: null,
    lastOk: null,
    lastDurationMs: null,
    lastReason: null,
  };
}

function stateRow(name: string, s: LiveState, now: number): Schema["check_states"] {
  return {
    check_name: name,
    status: s.status,
    since: s.since,
    consecutive_failures: s.consecutiveFailures,
    consecutive_successes: s.consecutiveSuccesses,
    last_run_at: s.lastRunAt,
    last_ok: s.lastOk === null ? null : s.lastOk ? 1 : 0,
    last_duration_ms: s.lastDurationMs,
    last_reason: s.lastReason,
    heartbeat_token: null,
    updated_at: now,
  };
}

function rollupRow(r: OpenRollup): Schema["check_rollups"] {
  return {
    check_name: r.check,
    resolution: r.resolution,
    start: r.start,
    runs: r.rollup.runs,
    failures: r.rollup.failures,
    degraded: r.rollup.degraded,
    latency_min: r.rollup.latencyMin,
    latency_sum: r.rollup.latencySum,
    latency_max: r.rollup.latencyMax,
    latency_histogram: JSON.stringify(r.rollup.histogram),
  };
}

export function rollupFromRow(row: Schema["check_rollups"]): Rollup {
  return {
    runs: row.runs,
    failures: row.failures,
    degraded: row.degraded,
    latencyMin: row.latency_min,
    latencySum: row.latency_sum,
    latencyMax: row.latency_max,
    histogram: JSON.parse(row.latency_histogram) as Rollup["histogram"],
  };
}
