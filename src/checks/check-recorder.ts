import type { Kysely } from "kysely";
import type { Clock } from "../platform/clock.js";
import { type DialectAdapter, type RowWrite, writeRowsInOneTransaction } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";
import type { EventBus } from "../platform/events.js";
import { newId } from "../platform/ids.js";
import type { Log } from "../platform/logger.js";
import {
  advanceState,
  type CheckOutcome,
  type CheckStateValue,
  type CheckStatus,
  type StateTransition,
  type Thresholds,
} from "./check-outcome.js";
import {
  addLatencyPacked,
  bucketOf,
  mergeIntoPacked,
  type PackedHistogram,
  unpackHistogram,
} from "./latency-histogram.js";
import {
  addToCounts,
  bucketStart,
  mergeCounts,
  RESOLUTIONS,
  type Resolution,
  type Rollup,
  emptyCounts,
  type RollupCounts,
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

/** One object per open bucket, three or more per check, alive for as long as the bucket: kept small. */
interface OpenRollup extends RollupCounts {
  resolution: Resolution;
  start: number;
  histogram: PackedHistogram;
  /** Whether the stored row (if any) has been merged in, so a restart inside a bucket loses nothing. */
  loaded: boolean;
  dirty: boolean;
}

/** Everything the recorder holds for one check: found with one map lookup per run. */
interface Entry {
  name: string;
  live: LiveState;
  /** Whether the state changed since it was last written (the entry is then in `dirtyEntries`). */
  stateDirty: boolean;
  /** Which flush writes this check's rollups, from a hash of the name. */
  group: number;
  /** The buckets being counted: one per resolution, two around a bucket's end until the old one is stored. */
  rollups: OpenRollup[];
}

interface PendingEvent {
  row: Schema["check_events"];
  service: string;
}

const RESOLUTION_NAMES = Object.keys(RESOLUTIONS) as Resolution[];

/**
 * Results wait here at most this long: rows kept for a second outlive two young-generation collections
 * and fill the old generation with garbage (hundreds of megabytes at 3,000 runs a second).
 */
const FLUSH_EVERY_MS = 250;
/** Each open rollup is written about this often (and at stop); three rows per check per write add up. */
const ROLLUP_WRITE_EVERY_MS = 10_000;

/** Rows per SQLite transaction: a few milliseconds each, so API requests get in between. */
const SLICE_ROWS = 250;

const STATE_UPDATE = [
  "status",
  "since",
  "consecutive_failures",
  "consecutive_successes",
  "last_run_at",
  "last_ok",
  "last_duration_ms",
  "last_reason",
  "updated_at",
] as const;
const ROLLUP_UPDATE = [
  "runs",
  "failures",
  "degraded",
  "latency_min",
  "latency_sum",
  "latency_max",
  "latency_histogram",
] as const;

/**
 * Takes every check outcome, keeps each check's state, and writes results, states, state changes and
 * rollups to the database in batches four times a second, through the dialect's batch writer (on SQLite:
 * cached prepared statements, in slices of a few hundred rows with the event loop free in between). State
 * changes are published after the flush that stored them.
 */
export class CheckRecorder {
  private readonly entries = new Map<string, Entry>();
  /** Entries by rollup group; one group's rollups are written per flush. */
  private readonly groups: Array<Set<Entry>>;
  private dirtyEntries: Entry[] = [];
  private results: Schema["check_results"][] = [];
  private events: PendingEvent[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private flushes = 0;
  private readonly rollupEvery: number;

  constructor(
    private readonly deps: {
      db: Kysely<Schema>;
      /** The dialect's batch writer; without one, rows go through Kysely as multi-row inserts. */
      adapter?: DialectAdapter;
      clock: Clock;
      log: Log;
      events: EventBus;
      flushIntervalMs?: number;
      /** Rollups are written every this many flushes (and at stop); about every 10 s unless said. */
      rollupEveryFlushes?: number;
    },
  ) {
    const every = deps.flushIntervalMs ?? FLUSH_EVERY_MS;
    this.rollupEvery = Math.max(1, deps.rollupEveryFlushes ?? Math.round(ROLLUP_WRITE_EVERY_MS / every));
    this.groups = Array.from({ length: this.rollupEvery }, () => new Set<Entry>());
  }

  /** Loads stored states, so that a restart resumes thresholds and "since" where they were. */
  async load(): Promise<void> {
    const rows = await this.deps.db.selectFrom("check_states").selectAll().execute();
    for (const row of rows) {
      const entry = this.entryFor(row.check_name);
      entry.live = {
        status: row.status as CheckStatus,
        since: row.since,
        consecutiveFailures: row.consecutive_failures,
        consecutiveSuccesses: row.consecutive_successes,
        lastRunAt: row.last_run_at,
        lastOk: row.last_ok === null ? null : row.last_ok === 1,
        lastDurationMs: row.last_duration_ms,
        lastReason: row.last_reason,
      };
    }
  }

  start(): void {
    const every = this.deps.flushIntervalMs ?? FLUSH_EVERY_MS;
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

  /** The check's live state; read it, do not keep it (it changes in place with every run). */
  state(check: string): LiveState {
    return this.entries.get(check)?.live ?? pendingState(this.deps.clock.now());
  }

  /** Makes sure a configured check has a state row ("pending" until its first run). */
  ensure(check: string): void {
    if (this.entries.has(check)) return;
    this.markDirty(this.entryFor(check));
  }

  forget(check: string): void {
    const entry = this.entries.get(check);
    if (!entry) return;
    this.entries.delete(check);
    this.groups[entry.group]?.delete(entry);
  }

  /** Sets a state directly (pausing a check); the transition is recorded like any other. */
  setStatus(check: string, service: string, status: CheckStatus, reason: string): void {
    const entry = this.entryFor(check);
    const live = entry.live;
    if (live.status === status) return;
    const at = this.deps.clock.now();
    const from = live.status;
    live.status = status;
    live.since = at;
    live.consecutiveFailures = 0;
    live.consecutiveSuccesses = 0;
    this.markDirty(entry);
    this.events.push({
      row: { id: newId(at), check_name: check, at, from_status: from, to_status: status, reason },
      service,
    });
  }

  record(outcome: CheckOutcome, service: string, thresholds: Thresholds): StateTransition | null {
    const entry = this.entryFor(outcome.check);
    const live = entry.live;
    const transition = advanceState(live, outcome, thresholds);
    live.lastRunAt = outcome.at;
    live.lastOk = outcome.ok;
    live.lastDurationMs = outcome.durationMs;
    live.lastReason = outcome.reason;
    this.markDirty(entry);
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
      timings: hasKeys(outcome.timings) ? JSON.stringify(outcome.timings) : null,
    });
    if (transition) {
      this.events.push({
        row: {
          id: newId(outcome.at),
          check_name: outcome.check,
          at: transition.at,
          from_status: transition.from,
          to_status: transition.to,
          reason: transition.reason,
        },
        service,
      });
    }
    for (const resolution of RESOLUTION_NAMES) {
      const start = bucketStart(outcome.at, resolution);
      let open: OpenRollup | undefined;
      for (const r of entry.rollups) {
        if (r.start === start && r.resolution === resolution) {
          open = r;
          break;
        }
      }
      if (!open) {
        open = {
          resolution,
          start,
          ...emptyCounts(),
          // Sized for the bucket it will most likely hold alone: a growing array reserves room for 16.
          histogram: outcome.ok ? [bucketOf(outcome.durationMs), 0] : [],
          loaded: false,
          dirty: true,
        };
        entry.rollups.push(open);
      }
      addToCounts(open, outcome, outcome.ok);
      if (outcome.ok) addLatencyPacked(open.histogram, outcome.durationMs);
      open.dirty = true;
    }
    return transition;
  }

  /** Writes everything recorded since the last flush; flushes never overlap. */
  flush(options: { rollups?: boolean } = {}): Promise<void> {
    // Each flush writes the rollups of one group of checks (by a hash of the name), so every rollup is
    // stored every `rollupEvery` flushes without one flush having to write them all at once.
    const group = this.flushes++ % this.rollupEvery;
    const groups = options.rollups === true ? this.groups : this.groups.slice(group, group + 1);
    this.flushing = this.flushing.then(
      () => this.flushOnce(groups),
      () => this.flushOnce(groups),
    );
    return this.flushing;
  }

  private entryFor(check: string): Entry {
    let entry = this.entries.get(check);
    if (!entry) {
      entry = {
        name: check,
        live: pendingState(this.deps.clock.now()),
        stateDirty: false,
        group: shareOf(check) % this.rollupEvery,
        rollups: [],
      };
      this.entries.set(check, entry);
      this.groups[entry.group]?.add(entry);
    }
    return entry;
  }

  private markDirty(entry: Entry): void {
    if (entry.stateDirty) return;
    entry.stateDirty = true;
    this.dirtyEntries.push(entry);
  }

  private async flushOnce(groups: ReadonlyArray<Set<Entry>>): Promise<void> {
    const now = this.deps.clock.now();
    const openRollups: Array<{ check: string; open: OpenRollup }> = [];
    for (const set of groups) {
      for (const entry of set) {
        // A bucket is dropped once it is stored and a minute past its end (late runs may still come).
        const keep = (r: OpenRollup) => r.dirty || r.start + RESOLUTIONS[r.resolution] >= now - 60_000;
        if (!entry.rollups.every(keep)) entry.rollups = entry.rollups.filter(keep);
        for (const open of entry.rollups) if (open.dirty) openRollups.push({ check: entry.name, open });
      }
    }
    const results = this.results;
    const events = this.events;
    const dirty = this.dirtyEntries;
    if (results.length === 0 && events.length === 0 && dirty.length === 0 && openRollups.length === 0) return;
    this.results = [];
    this.events = [];
    this.dirtyEntries = [];
    const stateRows: Schema["check_states"][] = [];
    for (const entry of dirty) {
      entry.stateDirty = false;
      // A check forgotten since its run has no state to write.
      if (this.entries.get(entry.name) === entry) stateRows.push(stateRow(entry.name, entry.live, now));
    }
    for (const { open } of openRollups) open.dirty = false;
    try {
      await this.mergeStoredRollups(openRollups.filter((r) => !r.open.loaded));
      const writes: RowWrite[] = [
        { table: "check_results", rows: results, onConflict: { key: ["id"], update: [] } },
        {
          table: "check_events",
          rows: events.map((e) => e.row),
          onConflict: { key: ["id"], update: [] },
        },
        {
          table: "check_states",
          rows: stateRows,
          onConflict: { key: ["check_name"], update: STATE_UPDATE },
        },
        {
          table: "check_rollups",
          rows: openRollups.map((r) => rollupRow(r.check, r.open)),
          onConflict: { key: ["check_name", "resolution", "start"], update: ROLLUP_UPDATE },
        },
      ];
      // Results and events are inserted once whatever happens (their ids are fixed); states and rollups
      // hold totals, so writing them again is harmless. A flush cut short is simply written again.
      await (this.deps.adapter
        ? this.deps.adapter.writeRows(this.deps.db, writes, { sliceRows: SLICE_ROWS })
        : writeRowsInOneTransaction(this.deps.db, writes));
    } catch (error) {
      // Nothing of a failed flush is lost: it goes back in front of what came since, for the next flush.
      this.results = [...results, ...this.results];
      this.events = [...events, ...this.events];
      for (const entry of dirty) {
        if (!entry.stateDirty) {
          entry.stateDirty = true;
          this.dirtyEntries.push(entry);
        }
      }
      for (const { open } of openRollups) open.dirty = true;
      throw error;
    }
    for (const { row, service } of events) {
      this.deps.events.emit("check.stateChanged", {
        check: row.check_name,
        service,
        from: row.from_status as CheckStatus,
        to: row.to_status as CheckStatus,
        at: row.at,
        reason: row.reason,
      });
    }
  }

  /**
   * A bucket opened after a restart may already hold counts from before it; add them in once. Marked as
   * loaded at once, so a flush that then fails does not add them a second time.
   */
  private async mergeStoredRollups(opened: Array<{ check: string; open: OpenRollup }>): Promise<void> {
    const groups = new Map<string, Array<{ check: string; open: OpenRollup }>>();
    for (const r of opened) {
      const key = `${r.open.resolution}|${r.open.start}`;
      const list = groups.get(key);
      if (list) list.push(r);
      else groups.set(key, [r]);
    }
    for (const list of groups.values()) {
      const first = list[0];
      if (!first) continue;
      for (let i = 0; i < list.length; i += SLICE_ROWS) {
        const slice = list.slice(i, i + SLICE_ROWS);
        const stored = await this.deps.db
          .selectFrom("check_rollups")
          .selectAll()
          .where("resolution", "=", first.open.resolution)
          .where("start", "=", first.open.start)
          .where(
            "check_name",
            "in",
            slice.map((r) => r.check),
          )
          .execute();
        const byCheck = new Map(slice.map((r) => [r.check, r.open]));
        for (const row of stored) {
          const open = byCheck.get(row.check_name);
          if (!open) continue;
          const before = rollupFromRow(row);
          mergeCounts(open, before);
          mergeIntoPacked(open.histogram, before.histogram);
        }
        for (const r of slice) r.open.loaded = true;
      }
    }
  }
}

function hasKeys(value: object): boolean {
  for (const _ in value) return true;
  return false;
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
    // Not in the upsert's update list: a stored token is kept.
    heartbeat_token: null,
    updated_at: now,
  };
}

function rollupRow(check: string, r: OpenRollup): Schema["check_rollups"] {
  return {
    check_name: check,
    resolution: r.resolution,
    start: r.start,
    runs: r.runs,
    failures: r.failures,
    degraded: r.degraded,
    latency_min: r.latencyMin,
    latency_sum: r.latencySum,
    latency_max: r.latencyMax,
    latency_histogram: JSON.stringify(unpackHistogram(r.histogram)),
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
