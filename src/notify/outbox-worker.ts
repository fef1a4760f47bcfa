import { performance } from "node:perf_hooks";
import type { Kysely } from "kysely";
import type { Registry } from "prom-client";
import type { Clock } from "../platform/clock.js";
import type { DialectAdapter } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";
import { newId } from "../platform/ids.js";
import type { Log } from "../platform/logger.js";
import type { NotifierRegistry } from "./notifiers.js";
import { createNotifyMetrics, integrationLabel, type NotifyMetrics } from "./notify-metrics.js";
import { CLAIM_LOCK } from "./outbox-claim.js";
import { inProcessSender, type SendExecutor } from "./send-executor.js";
import type { SendResult } from "./send-stored.js";

export interface OutboxWorkerOptions {
  db: Kysely<Schema>;
  adapter: DialectAdapter;
  clock: Clock;
  log: Log;
  /** The instance's metrics registry; the worker registers the nines_notification* series on it. */
  registry?: Registry;
  /** Alertmanager's --web.external-url: links in messages and `externalURL` in webhook payloads. */
  externalURL?: string;
  /** Replaces notifiers (tests); only with the default, in-process sender. */
  notifiers?: Partial<NotifierRegistry>;
  /** Where sends run: a worker thread in a server (threadSender), this thread unless given. */
  sender?: SendExecutor;
  /** Per attempt, unless the integration sets `timeout`; default 10 s. */
  timeoutMs?: number;
  /** Attempts before a notification is dead-lettered; default 10. */
  maxAttempts?: number;
  /** Age after which a failing notification is dead-lettered whatever its attempts; default 24 h. */
  maxAgeMs?: number;
  /** Exponential backoff with full jitter: random in [0, min(max, base × 2^(attempt−1))]. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * Sends in flight in this process, overall and per receiver integration. Defaults 128 and 64: Alertmanager
   * sends every group at once; the limit per integration keeps a hanging receiver from taking every slot.
   */
  concurrency?: number;
  perIntegrationConcurrency?: number;
  /** How often the table is polled for due rows (retries, other replicas' rows); default 1 s. */
  pollIntervalMs?: number;
  /** In [0, 1); Math.random unless given (tests). */
  random?: () => number;
  /** How long delivered notifications (with their attempts) are kept; default 7 days. */
  deliveredRetentionMs?: number;
  /** How long dead letters are kept for inspection and retry; default 30 days. */
  deadRetentionMs?: number;
}

/** An outbox row with its request (kept apart, in notification_requests). */
type Row = Schema["notification_outbox"] & { request: string };
/** What a claim reads to choose rows: no request body. */
type Candidate = Pick<Row, "id" | "receiver" | "integration" | "next_attempt_at">;
/** A send that ended, waiting to be recorded with the others that ended at the same time. */
interface Finished {
  row: Row;
  result: SendResult;
}

const ERROR_LIMIT = 1024;
/** Due rows a claim reads from the head of the queue (twice its free slots, within these bounds). */
const CLAIM_WINDOW_MIN = 64;
const CLAIM_WINDOW_MAX = 256;
/**
 * What remember() keeps at most, the newest first: requests (1 KB to 1 MB each, with the group's alerts) and
 * their characters in all, so that a backlog a hanging receiver leaves unclaimed holds little memory.
 */
const RECENT_REQUESTS_MAX = 5_000;
const RECENT_REQUEST_CHARS_MAX = 16 * 1024 * 1024;
/** Ids in one `id in (…)` of an UPDATE, well under SQLite's and PostgreSQL's parameter limits. */
const UPDATE_IDS_MAX = 500;

/**
 * Delivers the outbox: claims due rows (leasing them, so a crashed process's rows come back after the lease),
 * sends each through its notifier with a timeout and bounded concurrency, records every attempt, and marks
 * the row delivered, reschedules it with backoff, or dead-letters it. Nothing is kept in memory across a
 * restart: a new worker resumes from the table.
 */
export class OutboxWorker {
  private readonly o: Required<Omit<OutboxWorkerOptions, "registry" | "notifiers" | "sender">>;
  private readonly sender: SendExecutor;
  private readonly metrics: NotifyMetrics | undefined;
  private readonly leaseMs: number;
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly perDestination = new Map<string, number>();
  /** Requests of rows this process enqueued and has not claimed yet, by row id (see remember()). */
  private readonly recentRequests = new Map<string, string>();
  private recentRequestChars = 0;
  private running = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private again = false;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  /** Whether rows a killed process left in "sending" were handed back (once, before the first claim). */
  private reclaimed = false;
  /** When a claim last looked past a head of due rows it could not start (performance.now(): CPU, not time). */
  private lookedPastAt = Number.NEGATIVE_INFINITY;
  /** Attempts that ended in this turn of the event loop, recorded together at the next. */
  private batch: { items: Finished[]; done: Promise<void> } | undefined;

  constructor(options: OutboxWorkerOptions) {
    this.o = {
      db: options.db,
      adapter: options.adapter,
      clock: options.clock,
      log: options.log,
      externalURL: options.externalURL ?? "",
      timeoutMs: options.timeoutMs ?? 10_000,
      maxAttempts: options.maxAttempts ?? 10,
      maxAgeMs: options.maxAgeMs ?? 24 * 3_600_000,
      backoffBaseMs: options.backoffBaseMs ?? 1_000,
      backoffMaxMs: options.backoffMaxMs ?? 5 * 60_000,
      concurrency: options.concurrency ?? 128,
      perIntegrationConcurrency: options.perIntegrationConcurrency ?? 64,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      random: options.random ?? Math.random,
      deliveredRetentionMs: options.deliveredRetentionMs ?? 7 * 86_400_000,
      deadRetentionMs: options.deadRetentionMs ?? 30 * 86_400_000,
    };
    this.sender = options.sender ?? inProcessSender(options.notifiers);
    this.metrics = options.registry ? createNotifyMetrics(options.registry, options.db) : undefined;
    // Long enough that a send still running is never claimed again by another replica.
    this.leaseMs = Math.max(this.o.timeoutMs, 60_000) + 60_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.wake();
  }

  /** Stops claiming, aborts sends in flight (their rows become due again) and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking;
    // A claim that was under way has started its sends by now: abort those too.
    this.sender.abortAll();
    await Promise.allSettled([...this.inflight.values()]);
  }

  /**
   * Remembers the requests of rows just enqueued by this process, so that claiming them does not read their
   * requests (each a notification's whole alert list) back from the database. A row's request changes only
   * when an operator retries it, which also changes its updated_at: a claim uses a remembered request only
   * for a row never updated since it was created, and forgets it once claimed. Rows of a transaction that
   * rolled back are never claimed; they leave with the oldest.
   */
  remember(rows: ReadonlyArray<{ id: string; request: string }>): void {
    for (const { id, request } of rows) {
      this.forget(id);
      this.recentRequests.set(id, request);
      this.recentRequestChars += request.length;
      while (
        this.recentRequests.size > RECENT_REQUESTS_MAX ||
        this.recentRequestChars > RECENT_REQUEST_CHARS_MAX
      ) {
        const oldest = this.recentRequests.keys().next();
        if (oldest.done) break;
        this.forget(oldest.value);
      }
    }
  }

  /** The remembered request of a row, removed from memory. */
  private forget(id: string): string | undefined {
    const request = this.recentRequests.get(id);
    if (request === undefined) return undefined;
    this.recentRequests.delete(id);
    this.recentRequestChars -= request.length;
    return request;
  }

  /** Looks for due rows now (after an enqueue) instead of at the next poll. */
  wake(): void {
    if (!this.running) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (!this.running) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else this.schedulePoll();
    });
  }

  /** Claims and sends every row due now, and waits until those sends are recorded; for tests and tools. */
  async runOnce(): Promise<number> {
    let sent = 0;
    for (;;) {
      const started = await this.claimAndStart();
      sent += started;
      if (started === 0 && this.inflight.size === 0) return sent;
      await Promise.race([...this.inflight.values()]);
    }
  }

  private schedulePoll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.o.pollIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.claimAndStart();
      if (this.o.clock.now() - this.lastPruneAt >= 3_600_000) await this.prune();
    } catch (error) {
      this.o.log.error({ err: error }, "notification outbox: claiming due rows failed");
    }
  }

  /**
   * Deletes delivered notifications and dead letters past their retention, with their attempts (and their
   * requests: notification_requests' foreign key cascades).
   */
  async prune(): Promise<number> {
    const now = this.o.clock.now();
    this.lastPruneAt = now;
    return this.o.db.transaction().execute(async (trx) => {
      const old = trx
        .selectFrom("notification_outbox")
        .select("id")
        .where((eb) =>
          eb.or([
            eb.and([
              eb("status", "=", "delivered"),
              eb("updated_at", "<", now - this.o.deliveredRetentionMs),
            ]),
            eb.and([eb("status", "=", "dead"), eb("updated_at", "<", now - this.o.deadRetentionMs)]),
          ]),
        );
      await trx.deleteFrom("notification_attempts").where("outbox_id", "in", old).execute();
      const result = await trx.deleteFrom("notification_outbox").where("id", "in", old).executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  /**
   * On SQLite the database belongs to this one process (its data directory is locked), so a row still marked
   * "sending" was leased by a process that died: it is due again now instead of when its lease ends. On
   * PostgreSQL another replica may be sending it, so its lease has to run out.
   */
  private async reclaimOrphans(): Promise<void> {
    if (this.reclaimed) return;
    this.reclaimed = true;
    if (this.o.adapter.name !== "sqlite") return;
    const result = await this.o.db
      .updateTable("notification_outbox")
      .set({ status: "pending", next_attempt_at: this.o.clock.now() })
      .where("status", "=", "sending")
      .executeTakeFirst();
    const rows = Number(result.numUpdatedRows);
    if (rows > 0) this.o.log.info({ rows }, "notification outbox: resuming sends a stopped process left");
  }

  /** Claims as many due rows as there are free slots and starts sending them; returns how many. */
  private async claimAndStart(): Promise<number> {
    await this.reclaimOrphans();
    let started = 0;
    for (;;) {
      const free = this.o.concurrency - this.inflight.size;
      if (free <= 0 || this.stopping) return started;
      const rows = await this.claim(free);
      for (const row of rows) {
        const dest = destination(row);
        this.perDestination.set(dest, (this.perDestination.get(dest) ?? 0) + 1);
        const done = this.deliver(row).finally(() => {
          this.inflight.delete(row.id);
          const n = (this.perDestination.get(dest) ?? 1) - 1;
          if (n <= 0) this.perDestination.delete(dest);
          else this.perDestination.set(dest, n);
          if (this.running) this.wake();
        });
        this.inflight.set(row.id, done);
      }
      started += rows.length;
      if (rows.length < free) return started;
    }
  }

  /**
   * Leases up to `limit` due rows whose integration has a free slot. Only ids and destinations are read to
   * choose, from the head of the due index, so a claim costs the same whatever the backlog; the chosen rows
   * are leased in one UPDATE and read in full afterwards.
   */
  private async claim(limit: number): Promise<Row[]> {
    const now = this.o.clock.now();
    return this.o.db.transaction().execute(async (trx) => {
      const taken = new Map(this.perDestination);
      const chosen: string[] = [];
      const choose = (candidates: readonly Candidate[]) => {
        for (const c of candidates) {
          if (chosen.length >= limit) return;
          const dest = destination(c);
          const busy = taken.get(dest) ?? 0;
          if (busy >= this.o.perIntegrationConcurrency) continue;
          taken.set(dest, busy + 1);
          chosen.push(c.id);
        }
      };
      const window = Math.min(CLAIM_WINDOW_MAX, Math.max(CLAIM_WINDOW_MIN, limit * 2));
      const head = await this.dueCandidates(trx, now, window, []);
      choose(head);
      const started = performance.now();
      if (
        chosen.length < limit &&
        head.length === window &&
        started - this.lookedPastAt >= this.o.pollIntervalMs
      ) {
        // The head of the queue is all integrations without a free slot (one receiver's backlog, say): look
        // past them. That reads every due row of those integrations, so at most once per poll interval.
        this.lookedPastAt = started;
        const full = [...taken.entries()]
          .filter(([, n]) => n >= this.o.perIntegrationConcurrency)
          .map(([dest]) => dest);
        const skip = new Set(chosen);
        choose(
          (await this.dueCandidates(trx, now, limit - chosen.length + skip.size, full)).filter(
            (c) => !skip.has(c.id),
          ),
        );
      }
      if (chosen.length === 0) return [];
      await trx
        .updateTable("notification_outbox")
        .set({ status: "sending", next_attempt_at: now + this.leaseMs })
        .where("id", "in", chosen)
        .execute();
      const rows = await this.readClaimed(trx, chosen);
      const order = new Map(chosen.map((id, i) => [id, i]));
      return rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    });
  }

  /** The claimed rows in full, their requests from memory where remember() kept one that is still current. */
  private async readClaimed(trx: Kysely<Schema>, ids: readonly string[]): Promise<Row[]> {
    const rows = await trx.selectFrom("notification_outbox").selectAll().where("id", "in", ids).execute();
    const full: Row[] = [];
    const unknown = new Set<string>();
    for (const row of rows) {
      const request = this.forget(row.id);
      if (request !== undefined && Number(row.updated_at) === Number(row.created_at))
        full.push({ ...row, request });
      else unknown.add(row.id);
    }
    if (unknown.size > 0) {
      const requests = await trx
        .selectFrom("notification_requests")
        .select(["outbox_id", "request"])
        .where("outbox_id", "in", [...unknown])
        .execute();
      const byId = new Map(requests.map((r) => [r.outbox_id, r.request]));
      for (const row of rows) if (unknown.has(row.id)) full.push({ ...row, request: byId.get(row.id) ?? "" });
    }
    return full;
  }

  /**
   * Due rows, oldest first: pending ones and "sending" ones whose lease ran out (their process died or hung).
   * One query per status, so each is a range of the (status, next_attempt_at) index read in order.
   */
  private async dueCandidates(
    trx: Kysely<Schema>,
    now: number,
    limit: number,
    excluded: readonly string[],
  ): Promise<Candidate[]> {
    const lists: Candidate[][] = [];
    for (const status of ["pending", "sending"] as const) {
      let query = trx
        .selectFrom("notification_outbox")
        .select(["id", "receiver", "integration", "next_attempt_at"])
        .where("status", "=", status)
        .where("next_attempt_at", "<=", now);
      for (const dest of excluded) {
        const [receiver = "", integration = ""] = dest.split("\u0000");
        query = query.where((eb) =>
          eb.not(eb.and([eb("receiver", "=", receiver), eb("integration", "=", integration)])),
        );
      }
      lists.push(
        await CLAIM_LOCK[this.o.adapter.name](query.orderBy("next_attempt_at").limit(limit)).execute(),
      );
    }
    return lists
      .flat()
      .sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at))
      .slice(0, limit);
  }

  /** Hands rows back unsent (the worker is stopping): due again at once, for whoever runs next. */
  private async releaseRows(rows: readonly Row[]): Promise<void> {
    await this.o.db
      .updateTable("notification_outbox")
      .set({ status: "pending", next_attempt_at: this.o.clock.now() })
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .where("status", "=", "sending")
      .execute();
  }

  private async deliver(row: Row): Promise<void> {
    const result = await this.sender.send({
      request: row.request,
      idempotencyKey: row.idempotency_key,
      externalURL: this.o.externalURL,
      defaultTimeoutMs: this.o.timeoutMs,
    });
    if (result.stopped) {
      // Shutting down: the row is due again at once for the next worker; this was not the receiver's fault.
      await this.releaseRows([row]).catch(() => undefined);
      return;
    }
    try {
      await this.record({ row, result });
    } catch (error) {
      // The lease runs out and the row is sent again: at least once.
      this.o.log.error(
        { err: error, notification: row.id },
        "notification outbox: recording an attempt failed",
      );
    }
  }

  private backoff(attempts: number): number {
    const ceiling = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
    return Math.floor(this.o.random() * ceiling);
  }

  /**
   * Records an attempt together with the others that end in the same turn of the event loop: one
   * transaction for all of them, since sends to a fast receiver end in bursts.
   */
  private record(finished: Finished): Promise<void> {
    if (this.batch === undefined) {
      const items: Finished[] = [];
      const done = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.batch = undefined;
        return this.finish(items);
      });
      this.batch = { items, done };
    }
    this.batch.items.push(finished);
    return this.batch.done;
  }

  private async finish(items: readonly Finished[]): Promise<void> {
    const now = this.o.clock.now();
    const results = items.map(({ row, result: { outcome, durationMs, retriedAt } }) => {
      const attempts = row.attempts + 1;
      // The sender replaced the integration's secrets in the error and the answer.
      const error = outcome.ok ? null : outcome.error.slice(0, ERROR_LIMIT);
      const since = retriedAt ?? row.created_at;
      let status: "delivered" | "pending" | "dead";
      if (outcome.ok) status = "delivered";
      else if (!outcome.retry || attempts >= this.o.maxAttempts || now - since >= this.o.maxAgeMs)
        status = "dead";
      else status = "pending";
      const response = outcome.ok
        ? (outcome.response ?? null)
        : [outcome.error, outcome.response].filter(Boolean).join(": ");
      const attempt: Schema["notification_attempts"] = {
        id: newId(now),
        outbox_id: row.id,
        at: now,
        duration_ms: durationMs,
        ok: outcome.ok ? 1 : 0,
        status_code: outcome.statusCode ?? null,
        response: response === null ? null : response.slice(0, ERROR_LIMIT),
      };
      return { row, outcome, attempts, status, error, attempt };
    });
    await this.o.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("notification_attempts")
        .values(results.map((r) => r.attempt))
        .execute();
      // Rows that end the same way (delivered at the first attempt, mostly) share one UPDATE; a retried row
      // has its own backoff, so its own statement.
      const alike = new Map<
        string,
        { ids: string[]; attempts: number; status: string; error: string | null }
      >();
      for (const { row, attempts, status, error } of results) {
        const key = status === "pending" ? row.id : JSON.stringify([status, attempts, error]);
        const same = alike.get(key);
        if (same) same.ids.push(row.id);
        else alike.set(key, { ids: [row.id], attempts, status, error });
      }
      for (const { ids, attempts, status, error } of alike.values())
        for (let i = 0; i < ids.length; i += UPDATE_IDS_MAX)
          await trx
            .updateTable("notification_outbox")
            .set({
              status,
              attempts,
              next_attempt_at: status === "pending" ? now + this.backoff(attempts) : now,
              last_error: error,
              updated_at: now,
            })
            .where("id", "in", ids.slice(i, i + UPDATE_IDS_MAX))
            .where("status", "=", "sending")
            .execute();
    });
    for (const { row, outcome, attempts, status, error } of results) {
      const labels = { receiver: row.receiver, integration: integrationLabel(row.integration) };
      this.metrics?.attempts.inc({ ...labels, outcome: outcome.ok ? "success" : "failure" });
      if (status !== "pending") this.metrics?.notifications.inc({ ...labels, result: status });
      if (status === "dead")
        this.o.log.warn(
          { notification: row.id, receiver: row.receiver, integration: row.integration, attempts, error },
          "notification dead-lettered",
        );
    }
  }
}

function destination(row: Pick<Row, "receiver" | "integration">): string {
  return `${row.receiver}\u0000${row.integration}`;
}
