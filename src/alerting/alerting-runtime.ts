import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { stringify } from "yaml";
import { authorize } from "../auth/index.js";
import { appendAudit } from "../audit/index.js";
import type { ConfigObject } from "../config/index.js";
import type { NotificationOutbox, ReceiverIntegrations } from "../notify/notification-outbox.js";
import type { Clock } from "../platform/clock.js";
import { type Ctx, inTransaction } from "../platform/context.js";
import type { Schema } from "../platform/db/schema.js";
import { NinesError } from "../platform/errors.js";
import type { EventBus } from "../platform/events.js";
import type { Log } from "../platform/logger.js";
import type { SloAlert } from "../slo/index.js";
import type { AlertIntakeResult, AlertSink, AlertSource, IncomingAlert } from "./alert-model.js";
import {
  type AlertingSetup,
  AlertDispatcher,
  type AlertmanagerConfigSpec,
  type AlertStatus,
  alertingSetupFrom,
  type GroupStatus,
  type NotificationRequest,
  type ReceiverSpec,
  type Silence,
  type SilenceInput,
  type TraceEvent,
} from "./routing/index.js";
import { compileAlertmanagerConfig } from "./routing/am-config.js";
import { parseSilence } from "./routing/silences.js";
import {
  appendIntakeLog,
  applyIntakeLog,
  loadAlert,
  loadOpenAlerts,
  mergeIncoming,
  pruneAlerting,
  readIntakeLog,
  type StoredAlert,
} from "./intake/alert-store.js";
import { type AlertNotification, loadAlertNotifications } from "./intake/alert-notifications.js";
import { emptySavedParts, loadRoutingState, saveRoutingChanges } from "./intake/routing-state-store.js";
import { loadSilence, loadSilences, type StoredSilence, saveSilence } from "./intake/silence-store.js";
import { amSilenceState, canUpdateSilence } from "./intake/silence-update.js";
import type { SavedParts } from "./routing/dispatcher.js";
import { toIncoming, type ValidAlert, validateAlert } from "./intake/validate-alert.js";

/** The AlertmanagerConfig in force and the Receiver objects, as read from config_objects. */
export interface AlertingObjects {
  config: ConfigObject<AlertmanagerConfigSpec> | undefined;
  receivers: Array<ConfigObject<ReceiverSpec>>;
  /** Why no configuration routes alerts, when none does. */
  problem?: string;
}

/** Reads the AlertmanagerConfig named "default" (or the only one) and every Receiver object. */
export async function loadAlertingObjects(db: Kysely<Schema>): Promise<AlertingObjects> {
  const rows = await db
    .selectFrom("config_objects")
    .select(["kind", "name", "document"])
    .where("kind", "in", ["AlertmanagerConfig", "Receiver"])
    .orderBy("name")
    .execute();
  const configs = rows.filter((r) => r.kind === "AlertmanagerConfig");
  const receivers = rows
    .filter((r) => r.kind === "Receiver")
    .map((r) => JSON.parse(r.document) as ConfigObject<ReceiverSpec>);
  const chosen = configs.find((r) => r.name === "default") ?? (configs.length === 1 ? configs[0] : undefined);
  if (chosen === undefined) {
    return {
      config: undefined,
      receivers,
      problem:
        configs.length === 0
          ? "no AlertmanagerConfig is applied: alerts are stored and listed, not routed"
          : `${configs.length} AlertmanagerConfig objects and none is named "default": alerts are not routed`,
    };
  }
  return { config: JSON.parse(chosen.document) as ConfigObject<AlertmanagerConfigSpec>, receivers };
}

export interface AlertingRuntimeOptions {
  db: Kysely<Schema>;
  clock: Clock;
  log: Log;
  events: EventBus;
  outbox: NotificationOutbox;
  /** The objects in force; loadAlertingObjects(db) unless said. */
  load?: () => Promise<AlertingObjects>;
  /** False: no timers; flushes run only through tick() (tests, simulated time). True unless said. */
  schedule?: boolean;
  /**
   * Routing state that produced no notification is saved within this delay (ms), 200 unless said; longer
   * when saving takes long (twice the last save, at most 5 s). Notifications are saved, with the state that
   * produced them, as soon as they are due.
   */
  persistDelayMs?: number;
  /**
   * In real time, aggregation groups and alert records are saved at most this often (ms); 2,000 unless said.
   * In simulated time every save is complete unless this is said (bench/alerts/pipeline.mjs says it, to weigh
   * saves as a server does); what a save leaves out then waits for a later save, flush() or stop().
   */
  periodicSaveMs?: number;
}

/** What GET /api/v2/status and `nines alerts` report about the runtime. */
export interface AlertingStatus {
  routing: boolean;
  /** Why alerts are not routed, when they are not. */
  problem?: string;
  configName?: string;
  /** The Alertmanager file in force, as YAML. */
  original: string;
  startedAt: number;
  receivers: string[];
}

export interface AlertTrace {
  fingerprint: string;
  alert?: StoredAlert;
  events: TraceEvent[];
  notifications: AlertNotification[];
}

/** A silence with its origin: stored (API, CLI) or from the configuration (recurring). */
export interface ListedSilence extends Silence {
  updatedAt: number;
}

// While nothing routes, groups wait "forever"; a configuration applied later re-routes every stored alert.
const UNROUTED = compileAlertmanagerConfig({
  route: { receiver: "unrouted", group_wait: "100y", group_interval: "100y", repeat_interval: "100y" },
  receivers: [{ name: "unrouted" }],
});
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Resolved alerts and expired silences are kept this long, as Alertmanager's --data.retention default. */
const RETENTION_MS = 120 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
/**
 * In real time, aggregation groups and alert records are saved at most this often, unless said; the
 * notification log is saved at once with the notifications it records. Groups change with every alert that
 * joins them and every flush, records with every event of an alert's trace: rewriting them on each save was
 * most of what an alert storm wrote (records: 24 MB for 20,000 alerts, 18 MB by period). Losing their last
 * changes to a crash costs nothing that matters: a restart routes again every alert stored since the records
 * were last all saved and puts every alert back into its group, and the saved log keeps those flushes from
 * repeating a notification (Alertmanager keeps neither across a restart). The traces lose those seconds.
 */
const PERIODIC_SAVE_MS_DEFAULT = 2_000;

/**
 * The alerting pipeline's intake and clock: alerts from the Alertmanager API, rule groups, SLO burn tiers and
 * checks are validated as Alertmanager does, stored (intake log) before the sender hears back, and fed
 * to the routing dispatcher; one timer runs its flushes. Every notification is written to the outbox in the
 * same transaction as the routing snapshot that produced it, so a restart resumes groups and timers and
 * never sends a notification twice under different keys.
 */
export class AlertingRuntime implements AlertSink {
  private dispatcher: AlertDispatcher;
  private setup: AlertingSetup | undefined;
  private object: ConfigObject<AlertmanagerConfigSpec> | undefined;
  private problem: string | undefined = "not started";
  private readonly pending: NotificationRequest[] = [];
  /** Intake requests waiting for the pipeline; the next intake stores them all in one transaction. */
  private readonly intakeQueue: Array<{
    alerts: readonly IncomingAlert[];
    source: AlertSource;
    resolve: (result: AlertIntakeResult) => void;
    reject: (error: unknown) => void;
  }> = [];
  /**
   * Alerts an intake stored in the intake log and the alerts table has not taken yet (the next save writes
   * them there), by fingerprint; intake merges with these before the table.
   */
  private readonly unapplied = new Map<string, StoredAlert>();
  /** The sequence number of the last intake log row written (committed). */
  private loggedSeq = 0;
  /** What each part of the routing state was when last written, so that a save writes only what changed. */
  private saved: SavedParts = emptySavedParts();
  /** The one-row snapshot of an earlier version is still stored; the next save deletes it. */
  private legacyRow = false;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  /** A save for pending notifications is queued (saveSoon). */
  private promptSave = false;
  private saveFailed = false;
  /** SLO alerts published in this turn of the event loop, received together at its end. */
  private sloBatch: IncomingAlert[] = [];
  private unsubscribe: Array<() => void> = [];
  private started = false;
  private startedAt = 0;
  private lastPersistMs = 0;
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  /** When groups and alert records were last all saved. */
  private periodicSavedAt = Number.NEGATIVE_INFINITY;
  private readonly schedule: boolean;
  private readonly persistDelayMs: number;
  private readonly periodicSaveMs: number;

  constructor(private readonly options: AlertingRuntimeOptions) {
    this.schedule = options.schedule ?? true;
    this.persistDelayMs = options.persistDelayMs ?? 200;
    this.periodicSaveMs = options.periodicSaveMs ?? PERIODIC_SAVE_MS_DEFAULT;
    this.dispatcher = this.newDispatcher(undefined);
  }

  private newDispatcher(setup: AlertingSetup | undefined): AlertDispatcher {
    const config = setup?.config ?? UNROUTED.config;
    if (config === undefined) throw new Error("the placeholder routing configuration does not compile");
    return new AlertDispatcher({
      clock: this.options.clock,
      config,
      notify: (request) => this.pending.push(request),
      receiverOptions: setup?.receiverOptions ?? {},
    });
  }

  /** Runs fn after everything queued before it: intake, flushes, saves and reloads never interleave. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------

  /** Loads the configuration, resumes the stored routing state and alerts, and starts the timer. */
  /** The `global:` section of the configuration in force, for the defaults receivers inherit. */
  currentGlobal(): Record<string, unknown> | undefined {
    return (this.setup?.config.source.global ?? undefined) as Record<string, unknown> | undefined;
  }

  async start(): Promise<void> {
    await this.exclusive(async () => {
      const { db, clock } = this.options;
      this.startedAt = clock.now();
      // Alerts stored by intake before the last stop that the alerts table did not take yet: it takes them
      // now, before anything reads it.
      const logged = await readIntakeLog(db);
      if (logged.lastSeq !== undefined) {
        const lastSeq = logged.lastSeq;
        await db.transaction().execute((trx) => applyIntakeLog(trx, logged.alerts, lastSeq));
        this.loggedSeq = lastSeq;
      }
      await this.applyObjects(await this.load());
      const saved = await loadRoutingState(db);
      if (saved) {
        this.dispatcher.restore(saved.snapshot);
        this.saved = saved.parts;
        this.legacyRow = saved.legacy;
        if (saved.missingAlerts > 0)
          this.options.log.warn(
            { alerts: saved.missingAlerts },
            "alerts of the saved routing state are no longer stored; left out",
          );
      }
      // The stored silences and the configuration win over the snapshot's copies.
      this.applyRecurringSilences();
      this.syncSilences(await loadSilences(db));
      // Alerts stored after the last save (the process died before the next one) are routed again. One stored
      // before it and absent from the state was routed and has left it (resolved, by its resolve timeout too).
      const known = new Map((saved?.snapshot.alerts ?? []).map((a) => [a.fingerprint, a.updatedAt]));
      const now = clock.now();
      const savedAt = saved?.savedAt ?? 0;
      const again = (await loadOpenAlerts(db, now, savedAt)).filter((a) => {
        const at = known.get(a.fingerprint);
        return at === undefined ? a.updatedAt >= savedAt : a.updatedAt > at;
      });
      if (again.length > 0) {
        this.dispatcher.receive(again.map((a) => this.resumeIncoming(a, now)));
        this.options.log.info({ alerts: again.length }, "alerts stored before the last stop routed again");
      }
      this.dispatcher.runDue();
      await this.persist();
    });
    this.started = true;
    const { events } = this.options;
    this.unsubscribe.push(
      events.on("config.applied", (event) => {
        if (!event.changes.some((c) => c.kind === "AlertmanagerConfig" || c.kind === "Receiver")) return;
        this.exclusive(async () => {
          await this.applyObjects(await this.load());
          await this.persist();
        }).catch((error: unknown) =>
          this.options.log.error({ err: error }, "reloading alert routing failed"),
        );
      }),
      events.on("slo.alert", (event) => {
        // One SLO evaluation publishes every tier that changed in one go (thousands after a reload): they are
        // stored and routed as one intake, not one transaction each.
        this.sloBatch.push(sloIncoming(event));
        if (this.sloBatch.length === 1) setImmediate(() => void this.receiveSloBatch());
      }),
    );
    this.reschedule();
  }

  /** Stops the timer and saves the routing state with any notification not yet in the outbox. */
  async stop(): Promise<void> {
    this.started = false;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.timer) clearTimeout(this.timer);
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.timer = null;
    this.persistTimer = null;
    await this.exclusive(() => this.persist({ complete: true }));
  }

  private load(): Promise<AlertingObjects> {
    return this.options.load ? this.options.load() : loadAlertingObjects(this.options.db);
  }

  private async applyObjects(objects: AlertingObjects): Promise<void> {
    let setup: AlertingSetup | undefined;
    let problem = objects.problem;
    if (objects.config) {
      const built = alertingSetupFrom(objects.config, objects.receivers);
      if ("problems" in built)
        problem = `AlertmanagerConfig ${objects.config.metadata.name}: ${built.problems.join("; ")}`;
      else setup = built;
    }
    if (problem !== undefined) this.options.log.warn({ problem }, "alerts are not routed");
    // A new dispatcher under the new configuration resumes the old one's state: groups of unchanged routes
    // keep their timers, the notification log is kept so nothing repeats early.
    const state = this.dispatcher.snapshot();
    this.dispatcher = this.newDispatcher(setup);
    this.dispatcher.restore(state);
    this.setup = setup;
    this.applyRecurringSilences();
    this.object = setup ? objects.config : undefined;
    this.problem = problem;
  }

  /** The configuration's recurring silences, replacing those of an earlier configuration. */
  private applyRecurringSilences(): void {
    const recurring = this.setup?.recurringSilences ?? [];
    const wanted = new Set(recurring.map((s) => s.id));
    for (const s of this.dispatcher.silences())
      if (s.id.startsWith("recurring:") && !wanted.has(s.id) && s.endsAt > this.options.clock.now())
        this.dispatcher.expireSilence(s.id);
    for (const input of recurring) {
      const added = this.dispatcher.addSilence(input);
      if (!added.ok)
        this.options.log.error(
          { silence: input.id, problems: added.problems },
          "recurring silence not added",
        );
    }
  }

  private syncSilences(stored: readonly Silence[]): void {
    const now = this.options.clock.now();
    for (const s of stored) {
      if (s.endsAt <= now) {
        if (this.dispatcher.silences().some((d) => d.id === s.id && d.endsAt > now))
          this.dispatcher.expireSilence(s.id);
        continue;
      }
      const input: SilenceInput = {
        id: s.id,
        matchers: s.matchers,
        startsAt: s.startsAt,
        endsAt: s.endsAt,
        createdBy: s.createdBy,
        comment: s.comment,
      };
      if (s.recurrence?.kind === "timeIntervals")
        input.recurrence = { timeIntervals: s.recurrence.timeIntervals };
      else if (s.recurrence?.kind === "cron")
        input.recurrence = {
          cron: s.recurrence.cron,
          duration: `${s.recurrence.durationMs}ms`,
          timezone: s.recurrence.timezone,
        };
      this.dispatcher.addSilence(input);
    }
  }

  private resumeIncoming(a: StoredAlert, now: number): IncomingAlert {
    const incoming = toIncoming(a);
    const resolveTimeoutMs = this.setup?.config.resolveTimeoutMs ?? 300_000;
    // A timed-out alert whose resolve timeout passed while down resolves at its timeout, not later.
    if (a.endsAt === null && a.updatedAt + resolveTimeoutMs <= now)
      incoming.endsAt = new Date(a.updatedAt + resolveTimeoutMs).toISOString();
    return incoming;
  }

  // ---- intake --------------------------------------------------------------------------------------------

  /**
   * Validates each alert as Alertmanager's API does, stores the valid ones, and only then routes them and
   * resolves. Invalid alerts are reported with Alertmanager's reason; the others are kept. Requests that
   * arrive while the pipeline is busy are stored together in one transaction (a group commit), each answered
   * with its own result once that transaction committed.
   */
  receive(alerts: readonly IncomingAlert[], source: AlertSource): Promise<AlertIntakeResult> {
    return new Promise((resolve, reject) => {
      this.intakeQueue.push({ alerts, source, resolve, reject });
      if (this.intakeQueue.length > 1) return;
      // After the event loop's poll phase: every request read in it joins this transaction. SQLite runs a
      // transaction without yielding to I/O, so taking the queue at once gave each request its own commit
      // (the most expensive statement of an alert storm).
      const start = () =>
        this.exclusive(() => this.receiveQueued()).catch((error: unknown) =>
          this.options.log.error({ err: error }, "alert intake failed"),
        );
      if (this.schedule) setImmediate(start);
      else start();
    });
  }

  private async receiveQueued(): Promise<void> {
    const batch = this.intakeQueue.splice(0);
    try {
      await this.receiveBatch(batch);
    } catch (error) {
      // Whatever failed, no sender waits forever (a request already answered keeps its answer).
      for (const intake of batch) intake.reject(error);
      throw error;
    }
  }

  private async receiveBatch(batch: AlertingRuntime["intakeQueue"]): Promise<void> {
    const { db, clock } = this.options;
    const now = clock.now();
    const checked = batch.map((intake) => {
      const rejected: AlertIntakeResult["rejected"] = [];
      const valid: ValidAlert[] = [];
      intake.alerts.forEach((alert, index) => {
        const result = validateAlert(alert, now);
        if (typeof result === "string") rejected.push({ index, reason: result });
        else valid.push(result);
      });
      return { intake, valid, rejected };
    });
    const stored = checked.filter((c) => c.valid.length > 0);
    if (stored.length > 0) {
      const resolveTimeoutMs = this.setup?.config.resolveTimeoutMs ?? 300_000;
      try {
        const staged = new Map<string, StoredAlert>();
        const pending = (fp: string) => staged.get(fp) ?? this.unapplied.get(fp);
        // Above every earlier number, also one a process before this one wrote (start-up read the last).
        const seq = Math.max(this.loggedSeq + 1, Math.floor(now) * 1000);
        await db.transaction().execute(async (trx) => {
          // In arrival order, so that two requests for one alert merge as consecutive Puts would.
          for (const { intake, valid } of stored)
            for (const a of await mergeIncoming(trx, valid, intake.source, now, resolveTimeoutMs, pending))
              staged.set(a.fingerprint, a);
          await appendIntakeLog(trx, seq, now, staged.values());
        });
        this.loggedSeq = seq;
        for (const [fp, a] of staged) this.unapplied.set(fp, a);
      } catch (error) {
        for (const { intake } of stored) intake.reject(error);
        for (const { intake, rejected } of checked)
          if (!stored.some((s) => s.intake === intake)) intake.resolve({ accepted: 0, rejected });
        return;
      }
      for (const { valid } of stored) this.dispatcher.receiveChecked(valid);
      // Receiving runs the flushes that were due: their notifications are saved at once, as in tick().
      await this.saveSoon();
      this.reschedule();
    }
    for (const { intake, valid, rejected } of checked) intake.resolve({ accepted: valid.length, rejected });
  }

  /** Runs every flush due by the clock and saves what it produced; for simulated time (schedule: false). */
  tick(): Promise<number> {
    return this.exclusive(async () => {
      const ran = this.dispatcher.runDue();
      if (ran > 0 || this.pending.length > 0) await this.saveSoon();
      this.reschedule();
      return ran;
    });
  }

  /** Saves the whole routing state now (and the notifications it produced). */
  async flush(): Promise<void> {
    await this.receiveSloBatch();
    return this.exclusive(() => this.persist({ complete: true }));
  }

  /** Stores and routes the SLO alerts published since the last batch, as one intake. */
  private async receiveSloBatch(): Promise<void> {
    const batch = this.sloBatch;
    if (batch.length === 0) return;
    this.sloBatch = [];
    await this.receive(batch, "slo").catch((error: unknown) =>
      this.options.log.error({ err: error, alerts: batch.length }, "storing SLO alerts failed"),
    );
  }

  /**
   * Saves now in simulated time; otherwise within the persist delay, stretched to twice the last save's
   * duration (at most 5 s) so that a large state is not rewritten back to back. A notification left pending
   * by a failed save waits with its snapshot: if the process dies first, neither is stored and the flush
   * happens again after restart.
   */
  private async saveLater(): Promise<void> {
    if (!this.schedule) await this.persist();
    else this.persistSoon();
  }

  /**
   * A notification is sent only once its outbox row and the state that produced it are stored: with
   * notifications pending, the save runs next, after the intake and flushes already queued (which it then
   * saves too), so that the delay before sending is one save. Other changes wait for saveLater().
   */
  private async saveSoon(): Promise<void> {
    // After a failed save, retries keep saveLater's pace instead of one per intake or flush.
    if (this.pending.length === 0 || !this.schedule || this.saveFailed) return this.saveLater();
    if (this.promptSave) return;
    this.promptSave = true;
    setImmediate(() => {
      this.exclusive(async () => {
        this.promptSave = false;
        if (this.pending.length > 0) await this.persist();
      }).catch(() => {});
    });
  }

  private persistSoon(atLeastMs = 0): void {
    if (this.persistTimer !== null || !this.schedule) return;
    const delay = Math.max(atLeastMs, Math.min(Math.max(this.persistDelayMs, 2 * this.lastPersistMs), 5_000));
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.exclusive(() => this.persist()).catch(() => {});
    }, delay);
  }

  /**
   * The outbox rows of the pending notifications and the routing state that records them as sent, in one
   * transaction. Only the parts of the state that changed since the last save are written; in real time,
   * groups and alert records only once their period is over, or when `complete` (stop, flush).
   */
  private async persist(options: { complete?: boolean } = {}): Promise<void> {
    const { db, clock, outbox, log } = this.options;
    if (this.persistTimer !== null) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    const started = performance.now();
    const requests = this.pending.splice(0);
    const savedAt = clock.now();
    // In simulated time (tests, tools) every save is complete unless a period was said; in real time groups
    // and records wait for their period.
    const periodic =
      (!this.schedule && this.options.periodicSaveMs === undefined) ||
      options.complete === true ||
      savedAt - this.periodicSavedAt >= this.periodicSaveMs;
    const changes = this.dispatcher.changesSince(this.saved, { periodic });
    const recordsSavedAt = periodic ? savedAt : Math.max(0, this.periodicSavedAt);
    const applying = [...this.unapplied.values()];
    const appliedThrough = this.loggedSeq;
    const deliveries = this.setup?.deliveries;
    try {
      await db.transaction().execute(async (trx) => {
        const notifications = requests.flatMap((request) => {
          const integrations: ReceiverIntegrations | undefined = deliveries?.get(request.receiver);
          return integrations === undefined ? [] : [{ request, integrations }];
        });
        await outbox.enqueueAll(trx, notifications);
        if (applying.length > 0) await applyIntakeLog(trx, applying, appliedThrough);
        if (savedAt - this.lastPruneAt >= PRUNE_EVERY_MS) {
          await pruneAlerting(trx, savedAt - RETENTION_MS, this.setup?.config.resolveTimeoutMs ?? 300_000);
          this.lastPruneAt = savedAt;
        }
        await saveRoutingChanges(trx, changes, savedAt, this.legacyRow, recordsSavedAt);
      });
      for (const { kind, id, token } of [...changes.changed, ...changes.unchanged])
        this.saved[kind].set(id, token);
      for (const { kind, id } of changes.removed) this.saved[kind].delete(id);
      for (const a of applying)
        if (this.unapplied.get(a.fingerprint) === a) this.unapplied.delete(a.fingerprint);
      this.legacyRow = false;
      this.saveFailed = false;
      if (periodic) this.periodicSavedAt = savedAt;
      // What was left out is saved when its period ends, whether or not anything else changes by then.
      else this.persistSoon(this.periodicSavedAt + this.periodicSaveMs - savedAt);
    } catch (error) {
      this.saveFailed = true;
      // Kept for the next save: the in-memory log already counts them as sent.
      this.pending.unshift(...requests);
      log.error({ err: error, notifications: requests.length }, "saving the routing state failed; retrying");
      this.persistSoon();
    }
    this.lastPersistMs = performance.now() - started;
  }

  private reschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.started || !this.schedule || this.setup === undefined) return;
    const next = this.dispatcher.nextWakeAt();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - this.options.clock.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.tick().catch((error: unknown) => this.options.log.error({ err: error }, "alert flush failed"));
    }, delay);
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** Alerts not yet resolved, with their state; with no configuration, "unprocessed" and no receivers. */
  alerts(): AlertStatus[] {
    const routing = this.setup !== undefined;
    return this.dispatcher
      .alerts()
      .filter((a) => a.state !== "resolved")
      .map((a) => (routing ? a : { ...a, receivers: [] }));
  }

  isRouting(): boolean {
    return this.setup !== undefined;
  }

  groups(): GroupStatus[] {
    return this.setup === undefined ? [] : this.dispatcher.groupsStatus();
  }

  status(): AlertingStatus {
    const out: AlertingStatus = {
      routing: this.setup !== undefined,
      original: this.object ? stringify(this.object.spec.alertmanager) : "",
      startedAt: this.startedAt,
      receivers: this.setup ? [...this.setup.config.receivers.keys()] : [],
    };
    if (this.problem !== undefined) out.problem = this.problem;
    if (this.object) out.configName = this.object.metadata.name;
    return out;
  }

  /** Stored silences and the configuration's recurring ones. */
  async silences(ctx: Ctx): Promise<ListedSilence[]> {
    authorize(ctx, "alert.read");
    const stored = await loadSilences(this.options.db);
    const ids = new Set(stored.map((s) => s.id));
    const recurring = this.dispatcher
      .silences()
      .filter((s) => s.id.startsWith("recurring:") && !ids.has(s.id))
      .map((s) => ({ ...s, updatedAt: this.startedAt }));
    return [...stored, ...recurring];
  }

  async silence(ctx: Ctx, id: string): Promise<ListedSilence | undefined> {
    return (await this.silences(ctx)).find((s) => s.id === id);
  }

  /** The history of one alert and every notification that carried it, with each delivery attempt. */
  async trace(ctx: Ctx, fp: string): Promise<AlertTrace | undefined> {
    authorize(ctx, "alert.read");
    const { db } = this.options;
    const events = this.dispatcher.traceOf(fp) ?? [];
    const alert = this.unapplied.get(fp) ?? (await loadAlert(db, fp));
    if (alert === undefined && events.length === 0) return undefined;
    const notifications = await loadAlertNotifications(db, fp, events);
    const out: AlertTrace = { fingerprint: fp, events, notifications };
    if (alert) out.alert = alert;
    return out;
  }

  // ---- silences ------------------------------------------------------------------------------------------

  /**
   * Creates a silence, or changes the one with input.id, as POST /api/v2/silences does (Alertmanager's
   * Silences.Set): in place when canUpdateSilence allows it; otherwise the old silence is expired (unless it
   * already is) and a new one with a new id replaces it. A new silence never starts before now. Stored and
   * audit-logged (update, or expire and create) in one transaction; returns the id in force or the problems.
   */
  async createSilence(args: {
    ctx: Ctx;
    input: SilenceInput;
  }): Promise<{ id: string } | { problems: string[] }> {
    const { ctx, input } = args;
    authorize(ctx, "silence.write");
    const now = ctx.clock.now();
    if (typeof input.id === "string" && input.id.startsWith("recurring:"))
      throw new NinesError(
        "CONFLICT",
        "A recurring silence comes from the AlertmanagerConfig: change it there.",
      );
    const existingId = input.id === undefined || input.id === "" ? undefined : input.id;
    const newId = randomUUID();
    const intervals = new Set(this.setup?.config.timeIntervals.keys() ?? []);
    const parsed = parseSilence({ ...input, id: existingId ?? newId }, now, () => newId, intervals);
    if (!parsed.silence) return { problems: parsed.problems };
    const posted = parsed.silence;
    return this.exclusive(async () => {
      const { id, written } = await inTransaction(ctx, async (tx) => {
        const before = existingId === undefined ? undefined : await loadSilence(tx.db, existingId);
        if (existingId !== undefined && before === undefined)
          throw new NinesError("NOT_FOUND", `silence ${existingId} not found`);
        const details = { comment: posted.comment, createdBy: posted.createdBy };
        if (before !== undefined && canUpdateSilence(before, posted, now)) {
          await saveSilence(tx.db, posted, now);
          await appendAudit(tx, {
            action: "silence.update",
            object: { kind: "Silence", name: posted.id },
            before: storedSilence(before),
            after: posted,
            details,
          });
          return { id: posted.id, written: [posted] };
        }
        const created: Silence = { ...posted, id: newId, startsAt: Math.max(posted.startsAt, now) };
        const out: Silence[] = [];
        if (before !== undefined && amSilenceState(before, now) !== "expired") {
          // Alertmanager keeps the history: the silence as it was ends now, the change is a new silence.
          const expired: Silence = {
            ...storedSilence(before),
            endsAt: now,
            startsAt: Math.min(before.startsAt, now),
          };
          await saveSilence(tx.db, expired, now);
          await appendAudit(tx, {
            action: "silence.expire",
            object: { kind: "Silence", name: before.id },
            before: storedSilence(before),
            after: expired,
            details: { replacedBy: created.id },
          });
          out.push(expired);
        }
        await saveSilence(tx.db, created, now);
        await appendAudit(tx, {
          action: "silence.create",
          object: { kind: "Silence", name: created.id },
          after: created,
          details: before === undefined ? details : { ...details, replaces: before.id },
        });
        out.push(created);
        return { id: created.id, written: out };
      });
      this.syncSilences(written);
      this.persistSoon();
      return { id };
    });
  }

  /** Ends a silence now; false when there is none with that id. Throws CONFLICT when it already ended. */
  async expireSilence(args: { ctx: Ctx; id: string }): Promise<boolean> {
    const { ctx, id } = args;
    authorize(ctx, "silence.write");
    return this.exclusive(async () => {
      const now = ctx.clock.now();
      const found = await inTransaction(ctx, async (tx) => {
        const before = await loadSilence(tx.db, id);
        if (before === undefined) return false;
        if (before.endsAt <= now) throw new NinesError("CONFLICT", `silence ${id} already expired`);
        const after: Silence = { ...before, endsAt: now, startsAt: Math.min(before.startsAt, now) };
        await saveSilence(tx.db, after, now);
        await appendAudit(tx, {
          action: "silence.expire",
          object: { kind: "Silence", name: id },
          before,
          after,
        });
        return true;
      });
      if (found) {
        this.dispatcher.expireSilence(id);
        this.persistSoon();
      }
      return found;
    });
  }
}

/** A stored silence without its row's update time, as the audit log records silences. */
function storedSilence(s: StoredSilence): Silence {
  const { updatedAt: _updatedAt, ...silence } = s;
  return silence;
}

/** An SLO burn tier as an alert: firing until the SLO runtime says it resolved (no resolve timeout). */
export function sloIncoming(event: SloAlert): IncomingAlert {
  const at = new Date(event.at).toISOString();
  return event.state === "firing"
    ? { labels: event.labels, annotations: event.annotations, startsAt: at, endsAt: "9999-12-31T23:59:59Z" }
    : { labels: event.labels, annotations: event.annotations, endsAt: at };
}
