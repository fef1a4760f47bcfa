import type { Kysely } from "kysely";
import { type CheckRan, countAtOrBelow, durationMs, type LatencyHistogram } from "../checks/index.js";
import type { Clock } from "../platform/clock.js";
import type { Schema } from "../platform/db/schema.js";
import type { EventBus } from "../platform/events.js";
import { collectGarbage } from "../platform/collect-garbage.js";
import type { Log } from "../platform/logger.js";
import { type Expr, type FloatPoint, type Labels, parseExpr } from "../promql/index.js";
import type { BurnRateTier } from "./burn-rate.js";
import { getLabelValue, type QueryValue } from "./promql-values.js";
import { type SliBatch, sliBatches } from "./sli-batch.js";
import { presenceQuery, sliDataReads } from "./sli-data-reads.js";
import { sliQueries, withWindow } from "./sli-query.js";
import { SloEvaluator, type SloStatus } from "./slo-evaluator.js";
import { type SloSpec, sliCheck, sloTarget } from "./slo-kind.js";
import { windowAt } from "./slo-window.js";
import type { MetricsBackend } from "../tsdb/index.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Longest range one replay query covers: under the Prometheus API's 11,000 points at a 1-minute step. */
const REPLAY_CHUNK_MS = 7 * 24 * HOUR;
/**
 * Samples one replay query may fetch (16 bytes each): a chunk covers as many minutes as the SLI's reads hold
 * this many samples (from the presence counts). A grouped SLO over 10,000 groups (20,000 series at 15 s)
 * fetched 29 million samples, 460 MB, per 6-hour chunk, two such queries at once. Shorter chunks cost CPU:
 * each query reads every series again (a stored chunk and its decoding for each). At 10,000 groups (load
 * 2-3), a 1 million budget (12-minute chunks) took 11.7-13.1 s of CPU to replay 2 hours, 2 million 9.2 s,
 * 4 million 7.8 s but 916 MiB of peak RSS against about 760.
 */
const REPLAY_CHUNK_SAMPLES = 2_000_000;
/**
 * Where the presence counts are not known (an SLI that answers without data): a grouped SLO's query returns a
 * series per group, so shorter ranges keep one answer's points bounded.
 */
const GROUPED_REPLAY_CHUNK_MS = 6 * HOUR;
/** The replay first asks, an hour at a time, where the SLI's samples are: 720 points over 30 days. */
const PRESENCE_BLOCK_MS = HOUR;
/** Fewer SLI queries of one shape than this run one by one: a batch costs a label-values look-up first. */
const MIN_BATCH = 8;
/** How long a batch's label-value check holds before it is made again. */
const BATCH_CHECK_MS = HOUR;
/**
 * Minutes a reload's replay records before it ends with a full collection (see `collectGarbage`). Replaying
 * 10,000 SLOs (1.2 million minutes) left their queries' garbage in the old generation, and its collection
 * (up to 690 ms of CPU) fell in the first minute's evaluation.
 */
const BULK_REPLAY_MINUTES = 100_000;

/** A burn-rate tier that started or stopped firing, for the alerting pipeline. */
export interface SloAlert {
  state: "firing" | "resolved";
  at: number;
  /** alertname, slo, service, severity, tier, and the SLO's group and extra labels. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

declare module "../platform/events.js" {
  interface NinesEventMap {
    "slo.alert": SloAlert;
  }
}

interface Group {
  labels: Record<string, string>;
  evaluator: SloEvaluator;
  /** The tiers that fired at the last evaluation: alerts are published when this changes. */
  firing: Set<string>;
}

interface LoadedSlo {
  name: string;
  spec: SloSpec;
  /** The spec as stored, to tell a changed SLO (replayed from scratch) from an unchanged one. */
  fingerprint: string;
  /** The SLI queries as run each minute (the window filled in), for a PromQL SLI. */
  queries: QueriesAsRun | null;
  groups: Map<string, Group>;
  runbook: string | null;
}

export interface SloSummary {
  name: string;
  service: string;
  objective: number;
  window: SloSpec["window"];
  groups: Array<{ labels: Record<string, string>; status: SloStatus }>;
}

export interface GateAnswer {
  service: string;
  allowed: boolean;
  /** Why changes are frozen, one line per SLO that froze them. */
  reasons: string[];
  slos: Array<{ name: string; remaining: number | null; status: string }>;
}

/**
 * Keeps every SLO's evaluators fed and evaluated: check runs as they happen ("check.ran"), PromQL SLIs once a
 * minute through the metrics backend, composites from their components. A new or changed SLO is replayed
 * from stored check rollups or metrics as far back as its window reaches. Burn-rate tiers that start or stop
 * firing are published as "slo.alert"; the budget policy answers the change gate.
 */
export class SloRuntime {
  private readonly slos = new Map<string, LoadedSlo>();
  private readonly byCheck = new Map<string, Set<string>>();
  private readonly parsed = new Map<string, Expr>();
  /** SLI queries of the same shape, found at each reload; the ones worth a batch are `batches`. */
  private shapes: SliBatch[] = [];
  /** The shapes answered together each minute, checked at each reload and every hour. */
  private batches: { checkedAt: number; batches: SliBatch[] } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: Array<() => void> = [];
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      db: Kysely<Schema>;
      clock: Clock;
      log: Log;
      events: EventBus;
      backend: () => MetricsBackend;
      /** Real timers unless false (simulated-time tests call tick()). */
      schedule?: boolean;
      /** Samples one replay query may fetch (see `REPLAY_CHUNK_SAMPLES`, the default). */
      replayChunkSamples?: number;
      /** Minutes a reload's replay records before it ends with a full collection (`BULK_REPLAY_MINUTES`). */
      bulkReplayMinutes?: number;
      /** The full collection after a bulk replay; `collectGarbage` unless given. */
      collectGarbage?: () => void;
    },
  ) {}

  async start(): Promise<void> {
    await this.reload();
    this.unsubscribe.push(
      this.options.events.on("check.ran", (run) => this.recordCheckRun(run)),
      this.options.events.on("config.applied", (event) => {
        if (!event.changes.some((c) => c.kind === "SLO" || c.kind === "Service")) return;
        this.serialise(() => this.reload());
      }),
    );
    if (this.options.schedule !== false) this.scheduleTick();
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.work;
  }

  /** Reads the SLOs in force; new or changed ones are replayed, removed ones dropped. */
  async reload(): Promise<void> {
    const replayedMinutes = await this.load();
    // Once all the replay made is dropped (the rows read and the parsed queries a batch answers included),
    // before the first minute: that minute would otherwise pay for collecting it.
    if (replayedMinutes >= (this.options.bulkReplayMinutes ?? BULK_REPLAY_MINUTES))
      (this.options.collectGarbage ?? collectGarbage)();
  }

  /** `reload` up to its collection; returns the minutes the replays recorded. */
  private async load(): Promise<number> {
    const rows = await this.options.db
      .selectFrom("config_objects")
      .select(["name", "document"])
      .where("kind", "=", "SLO")
      .execute();
    const services = await this.serviceRunbooks();
    const seen = new Set<string>();
    const now = this.options.clock.now();
    let replayedMinutes = 0;
    for (const row of rows) {
      seen.add(row.name);
      const spec = (JSON.parse(row.document) as { spec: SloSpec }).spec;
      const fingerprint = JSON.stringify(spec);
      const runbook = spec.alerting.runbook ?? services.get(spec.service) ?? null;
      const existing = this.slos.get(row.name);
      if (existing && existing.fingerprint === fingerprint) {
        existing.runbook = runbook;
        continue;
      }
      const slo: LoadedSlo = {
        name: row.name,
        spec,
        fingerprint,
        queries: queriesAsRun(spec),
        groups: new Map(),
        runbook,
      };
      this.slos.set(row.name, slo);
      // An ungrouped SLO is listed from the start ("insufficient data"); groups appear with their data.
      if (spec.groupBy.length === 0) this.group(slo, {});
      try {
        replayedMinutes += await this.replay(slo, now);
      } catch (error) {
        this.options.log.warn(
          { err: error, slo: row.name },
          "SLO history could not be replayed; it starts empty",
        );
      }
    }
    for (const name of [...this.slos.keys()]) if (!seen.has(name)) this.slos.delete(name);
    this.shapes = this.sliShapes();
    this.batches = { checkedAt: now, batches: await this.coveredShapes(now) };
    this.forgetUnusedQueries();
    this.byCheck.clear();
    for (const slo of this.slos.values()) {
      const check = sliCheck(slo.spec);
      if (check === null) continue;
      const set = this.byCheck.get(check) ?? new Set<string>();
      set.add(slo.name);
      this.byCheck.set(check, set);
    }
    this.evaluateAll(now);
    return replayedMinutes;
  }

  /** One check run, as it happens: counted by every SLO whose SLI reads that check. */
  recordCheckRun(run: CheckRan): void {
    for (const name of this.byCheck.get(run.check) ?? []) {
      const slo = this.slos.get(name);
      if (!slo) continue;
      const { good, total } = checkRunCounts(slo.spec, run);
      this.group(slo, {}).evaluator.record(run.at, good, total);
    }
  }

  /** The minute's work: PromQL SLIs for the minute that just closed, composites, then every evaluation. */
  async tick(now = this.options.clock.now()): Promise<void> {
    const minuteEnd = Math.floor(now / MINUTE) * MINUTE;
    const answers = await this.batchAnswers(minuteEnd);
    for (const slo of this.slos.values()) {
      if (!isQuerySli(slo.spec)) continue;
      // Answered by a batch: recorded without an await (a promise and a turn of the microtask queue for each
      // of 10,000 SLOs).
      if (this.recordAnswered(slo, minuteEnd, answers)) continue;
      try {
        // Events of the minute ending at `minuteEnd`, per group.
        await this.recordQueryCounts(slo, minuteEnd, minuteEnd, MINUTE, answers);
      } catch (error) {
        this.options.log.warn({ err: error, slo: slo.name }, "SLI query failed; this minute has no data");
      }
    }
    for (const slo of this.slos.values()) if (slo.spec.composite) this.recordCompositeMinute(slo, minuteEnd);
    this.evaluateAll(now);
  }

  list(): SloSummary[] {
    return [...this.slos.values()].map((slo) => ({
      name: slo.name,
      service: slo.spec.service,
      objective: slo.spec.objective,
      window: slo.spec.window,
      groups: [...slo.groups.values()].map((g) => ({
        labels: g.labels,
        status: g.evaluator.evaluate(this.options.clock.now()),
      })),
    }));
  }

  get(name: string): SloSummary | null {
    return this.list().find((s) => s.name === name) ?? null;
  }

  /** Budget and burn rates at each step between `from` and `to`, from the buckets already held. */
  history(
    name: string,
    from: number,
    to: number,
    stepMs: number,
  ): Array<{ labels: Record<string, string>; points: SloStatus[] }> | null {
    const slo = this.slos.get(name);
    if (!slo) return null;
    return [...slo.groups.values()].map((g) => {
      const points: SloStatus[] = [];
      for (let t = from; t <= to && points.length < 11_000; t += stepMs) points.push(g.evaluator.evaluate(t));
      return { labels: g.labels, points };
    });
  }

  /** Whether changes to a service may go ahead under its SLOs' budget policies. */
  gate(service: string): GateAnswer {
    const reasons: string[] = [];
    const slos: GateAnswer["slos"] = [];
    for (const slo of this.slos.values()) {
      if (slo.spec.service !== service) continue;
      for (const g of slo.groups.values()) {
        const status = g.evaluator.evaluate(this.options.clock.now());
        const remaining = status.errorBudget.remaining;
        slos.push({ name: slo.name, remaining, status: status.status });
        const policy = slo.spec.policy;
        // Too few events to judge (below minEvents): one early failure must not freeze a service's deploys.
        if (!policy.freezeChanges || remaining === null || status.status === "insufficient_data") continue;
        if (remaining <= policy.freezeBelow / 100) {
          const group = Object.keys(g.labels).length > 0 ? ` ${JSON.stringify(g.labels)}` : "";
          reasons.push(
            `SLO ${slo.name}${group}: ${Math.round(remaining * 1000) / 10}% of the error budget left (the policy freezes changes at ${policy.freezeBelow}% or less)`,
          );
        }
      }
    }
    return { service, allowed: reasons.length === 0, reasons, slos };
  }

  private evaluateAll(now: number): void {
    for (const slo of this.slos.values()) {
      for (const group of slo.groups.values()) {
        // The status is made only for a group whose tiers changed, and not kept: the API evaluates again
        // when asked. 10,000 statuses kept from one minute to the next (about 35 objects each, with their
        // numbers) were promoted to the old generation every minute, for its next full collection.
        const { evaluator } = group;
        evaluator.firing(now, FIRING);
        const tiers = evaluator.target.tiers;
        let changed = false;
        for (let i = 0; i < tiers.length && !changed; i++) {
          changed = FIRING[i] !== group.firing.has((tiers[i] as BurnRateTier).name);
        }
        if (changed) this.publishAlerts(slo, group, evaluator.evaluate(now));
      }
    }
  }

  private publishAlerts(slo: LoadedSlo, group: Group, status: SloStatus): void {
    for (const tier of status.tiers) {
      const was = group.firing.has(tier.name);
      if (tier.firing === was) continue;
      if (tier.firing) group.firing.add(tier.name);
      else group.firing.delete(tier.name);
      const consumed = status.errorBudget.consumed;
      this.options.events.emit("slo.alert", {
        state: tier.firing ? "firing" : "resolved",
        at: status.at,
        labels: {
          ...slo.spec.alerting.labels,
          ...group.labels,
          alertname: "SLOErrorBudgetBurn",
          slo: slo.name,
          service: slo.spec.service,
          severity: tier.severity,
          tier: tier.name,
        },
        annotations: {
          summary: `${slo.name} is burning its error budget ${round1(tier.longBurnRate ?? 0)}× too fast over ${formatWindow(tier.longWindowMs)}`,
          description: `${consumed === null ? "No" : `${round1(consumed * 100)}% of the`} error budget of ${slo.name} (objective ${slo.spec.objective}%) is consumed; at this rate a ${tier.severity} tier fires.`,
          budget_consumed: consumed === null ? "" : String(consumed),
          ...(slo.runbook ? { runbook_url: slo.runbook } : {}),
        },
      });
    }
  }

  private group(slo: LoadedSlo, labels: Record<string, string>, key = JSON.stringify(labels)): Group {
    let group = slo.groups.get(key);
    if (!group) {
      group = { labels, evaluator: new SloEvaluator(sloTarget(slo.spec)), firing: new Set() };
      slo.groups.set(key, group);
    }
    return group;
  }

  /**
   * An ungrouped SLO's minute from its batch answers, if both of its queries have one; returns whether.
   * Records as `recordPaired` records that one step.
   */
  private recordAnswered(slo: LoadedSlo, minuteEnd: number, answers: BatchAnswers): boolean {
    // Batches answer ungrouped SLOs' queries only: their one series is the SLO's one group.
    const queries = slo.spec.groupBy.length === 0 ? slo.queries : null;
    const first = queries === null ? undefined : answers.get(queries.first);
    const total = queries === null ? undefined : answers.get(queries.total);
    if (queries === null || first === undefined || total === undefined) return false;
    const all = total * 60;
    if (all > 0 && Number.isFinite(all)) {
      const good = goodEvents(queries.firstIsBad, first, all);
      this.group(slo, NO_GROUP.labels, NO_GROUP.key).evaluator.record(minuteEnd - 1, good, all);
    }
    return true;
  }

  private recordCompositeMinute(slo: LoadedSlo, minuteEnd: number): void {
    const components = slo.spec.composite?.components ?? [];
    let good = 0;
    let total = 0;
    for (const component of components) {
      const other = this.slos.get(component.slo);
      if (!other) continue;
      for (const g of other.groups.values()) {
        const minute = g.evaluator.eventsBetween(minuteEnd - MINUTE, minuteEnd);
        if (minute.total <= 0) continue;
        // Each component weighs by its weight, not its traffic: a quiet dependency counts as much as a busy one.
        good += (component.weight * minute.good) / minute.total / other.groups.size;
        total += component.weight / other.groups.size;
      }
    }
    if (total > 0) this.group(slo, {}).evaluator.record(minuteEnd - 1, good, total);
  }

  /**
   * Records the events of each minute step in [from, to] from the SLI queries: rates over 1 minute times 60,
   * grouped by the SLO's groupBy labels. `answers` holds queries a batch answered for that one minute.
   */
  private async recordQueryCounts(
    slo: LoadedSlo,
    from: number,
    to: number,
    stepMs: number,
    answers?: BatchAnswers,
  ): Promise<number> {
    const queries = slo.queries;
    if (!queries) return 0;
    const backend = this.options.backend();
    const run = async (text: string) => {
      const answered = answers?.get(text);
      // A NaN answer counts as no answer wherever it is read (no series records nothing, either way).
      const value: QueryValue =
        answered !== undefined
          ? {
              type: "matrix",
              series: Number.isNaN(answered) ? [] : [{ labels: [], points: [{ t: from, f: answered }] }],
            }
          : (
              await backend.rangeQuery({
                query: text,
                parsed: this.parsedQuery(text),
                start: from,
                end: to,
                step: stepMs,
              })
            ).value;
      return perGroup(value, slo.spec.groupBy);
    };
    const [first, total] = await Promise.all([run(queries.first), run(queries.total)]);
    let recorded = 0;
    for (const [key, totals] of total) {
      const firsts = first.get(key)?.points ?? NO_POINTS;
      recorded += this.recordPaired(slo, totals, queries.firstIsBad, firsts, totals.points, from);
    }
    return recorded;
  }

  /**
   * Records a group's events per minute step from its SLI answers, both in time order: each total is paired
   * with the first query's point at its time; steps before `from`, and steps without events, record nothing.
   * The group is made with its first events (a grouped SLO lists only groups that had data). Returns the
   * number of steps recorded.
   */
  private recordPaired(
    slo: LoadedSlo,
    group: { readonly key: string; readonly labels: Record<string, string> },
    firstIsBad: boolean,
    firsts: readonly FloatPoint[],
    totals: readonly FloatPoint[],
    from: number,
  ): number {
    let evaluator: SloEvaluator | undefined;
    let recorded = 0;
    let j = 0;
    for (const { t, f } of totals) {
      const all = f * 60;
      if (t < from || !(all > 0) || !Number.isFinite(all)) continue;
      while (j < firsts.length && (firsts[j]?.t ?? t) < t) j++;
      const match = firsts[j];
      const good = goodEvents(firstIsBad, match !== undefined && match.t === t ? match.f : Number.NaN, all);
      evaluator ??= this.group(slo, group.labels, group.key).evaluator;
      evaluator.record(t - 1, good, all);
      recorded++;
    }
    return recorded;
  }

  /**
   * Fills a new SLO's buckets from what is stored: check rollups, or the metrics the SLI queries read.
   * Returns the number of rollups or minute steps recorded.
   */
  private async replay(slo: LoadedSlo, now: number): Promise<number> {
    const window = windowAt(sloTarget(slo.spec).window, now);
    const from = Math.floor(window.start / MINUTE) * MINUTE;
    const check = sliCheck(slo.spec);
    if (check !== null) {
      const rows = await this.options.db
        .selectFrom("check_rollups")
        .selectAll()
        .where("check_name", "=", check)
        .where("resolution", "in", ["1m", "1h"])
        .where("start", ">=", from - HOUR)
        .orderBy("start")
        .execute();
      // Minute rollups where they exist (the last 7 days), hours before them.
      const firstMinute = rows.find((r) => r.resolution === "1m")?.start ?? Number.POSITIVE_INFINITY;
      let recorded = 0;
      for (const row of rows) {
        const size = row.resolution === "1m" ? MINUTE : HOUR;
        if (row.resolution === "1h" && row.start + HOUR > firstMinute) continue;
        if (row.start + size <= from || row.runs === 0) continue;
        const { good, total } = rollupCounts(slo.spec, row);
        this.group(slo, {}).evaluator.record(Math.min(row.start + size - 1, now), good, total);
        recorded++;
      }
      return recorded;
    }
    if (!isQuerySli(slo.spec) || slo.queries === null) return 0;
    const end = Math.floor(now / MINUTE) * MINUTE;
    const reads = await this.stepsWithData(this.parsedQuery(slo.queries.total), from + MINUTE, end);
    const chunk = replayChunkMs(
      reads.samplesPerMinute,
      slo.spec.groupBy.length > 0,
      this.options.replayChunkSamples ?? REPLAY_CHUNK_SAMPLES,
    );
    let recorded = 0;
    for (const steps of reads.steps) {
      for (let start = steps.first; start <= steps.last; start += chunk) {
        const stop = Math.min(steps.last, start + chunk - MINUTE);
        recorded += await this.recordQueryCounts(slo, start, stop, MINUTE);
      }
    }
    return recorded;
  }

  /**
   * The runs of minute steps in [first, last] at which a query (an SLI's total) may count events: only where
   * it reads samples (looked for an hour at a time), since a step without a total records nothing.
   * Replaying a 30-day window that holds a few hours of data then queries those hours, not 43,200 empty
   * minutes. All of [first, last] when the query may answer without data. `samplesPerMinute`: the most its
   * reads hold in a minute (averaged over an hour), null when not known.
   */
  private async stepsWithData(
    total: Expr,
    first: number,
    last: number,
  ): Promise<{ steps: Array<{ first: number; last: number }>; samplesPerMinute: number | null }> {
    const everything = { steps: [{ first, last }], samplesPerMinute: null };
    if (last < first) return everything;
    const reads = sliDataReads(total);
    if (reads === null) return everything;
    const found: Array<{ first: number; last: number }> = [];
    let samplesPerMinute = 0;
    for (const read of reads) {
      const query = presenceQuery(read, PRESENCE_BLOCK_MS);
      if (query === null) return everything;
      // Blocks ending at `start`, an hour later, … up to the last sample a step reads.
      const start = first - read.offsetMs - read.rangeMs + PRESENCE_BLOCK_MS;
      const blocks = Math.max(0, Math.ceil((last - read.offsetMs - start) / PRESENCE_BLOCK_MS));
      const result = await this.options.backend().rangeQuery({
        query,
        start,
        end: start + blocks * PRESENCE_BLOCK_MS,
        step: PRESENCE_BLOCK_MS,
      });
      const series = result.value.type === "matrix" ? result.value.series : [];
      let most = 0;
      for (const point of series.flatMap((s) => s.points)) {
        if (!(point.f > 0)) continue;
        most = Math.max(most, point.f);
        // Samples in [t - block, t] are read by the steps from t - block + offset to t + offset + range.
        const from = Math.max(
          first,
          Math.ceil((point.t - PRESENCE_BLOCK_MS + read.offsetMs) / MINUTE) * MINUTE,
        );
        const to = Math.min(last, Math.floor((point.t + read.offsetMs + read.rangeMs) / MINUTE) * MINUTE);
        if (from <= to) found.push({ first: from, last: to });
      }
      samplesPerMinute += (most * MINUTE) / PRESENCE_BLOCK_MS;
    }
    return { steps: mergeSteps(found), samplesPerMinute };
  }

  /**
   * The minute's answers to the SLI queries that differ only in the value of one label, from one query per
   * shape: 10,000 SLOs written alike cost 2 queries, not 20,000 (see `SliBatch`). Queries of a batch that
   * failed are missing, and run one by one.
   */
  private async batchAnswers(minuteEnd: number): Promise<BatchAnswers> {
    const answers = new Map<string, number>();
    if (this.batches === null || minuteEnd - this.batches.checkedAt >= BATCH_CHECK_MS) {
      this.batches = { checkedAt: minuteEnd, batches: await this.coveredShapes(minuteEnd) };
    }
    const backend = this.options.backend();
    for (const batch of this.batches.batches) {
      let value: QueryValue;
      try {
        // An instant query: at one step it answers as a range query does, with a sample per series instead
        // of a series, a list and a point.
        const result = await backend.instantQuery({
          query: batch.query,
          parsed: this.parsedQuery(batch.query),
          time: minuteEnd,
        });
        value = result.value;
      } catch (error) {
        this.options.log.warn(
          { err: error, query: batch.query },
          "batched SLI query failed; its SLOs query alone",
        );
        continue;
      }
      if (value.type !== "vector") continue;
      for (const texts of batch.members.values()) for (const text of texts) answers.set(text, Number.NaN);
      for (const sample of value.samples) {
        const texts = batch.members.get(getLabelValue(sample.labels, batch.label));
        if (texts !== undefined) for (const text of texts) answers.set(text, sample.f);
      }
    }
    return answers;
  }

  /** The ungrouped SLOs' queries by shape (see `SliBatch`). */
  private sliShapes(): SliBatch[] {
    const queries = new Map<string, Expr>();
    for (const slo of this.slos.values()) {
      if (slo.queries === null || slo.spec.groupBy.length > 0) continue;
      for (const text of [slo.queries.first, slo.queries.total]) {
        try {
          queries.set(text, this.parsedQuery(text));
        } catch {
          // It runs alone, and its error is logged there.
        }
      }
    }
    return sliBatches(queries, MIN_BATCH);
  }

  /**
   * The shapes whose SLOs use at least half the values of the shape's label: a batch reads every series of
   * its shape, which pays for 10,000 SLOs over 10,000 values, not for 10 of them.
   */
  private async coveredShapes(now: number): Promise<SliBatch[]> {
    const covered: SliBatch[] = [];
    for (const shape of this.shapes) {
      try {
        const values = await this.options
          .backend()
          .labelValues(shape.label, { matcherSets: [shape.matchers], minT: now - HOUR, maxT: now });
        if (shape.members.size * 2 >= values.length) covered.push(shape);
      } catch (error) {
        this.options.log.warn(
          { err: error, query: shape.query },
          "SLI queries not batched: label values unknown",
        );
      }
    }
    return covered;
  }

  /**
   * Drops the parsed queries no SLO in force runs any more, and those a batch answers each minute (parsed
   * again only at the next reload, to find the shapes): at 10,000 SLOs their 20,000 syntax trees were 19 MB of
   * the 167 MB the GC marks. The others stay, and the batches' own queries: parsing 20,000 SLI queries again
   * after every reload made the first minute after it cost seconds of CPU.
   */
  private forgetUnusedQueries(): void {
    const answered = new Set<string>();
    const used = new Set<string>();
    for (const batch of this.batches?.batches ?? []) {
      used.add(batch.query);
      for (const texts of batch.members.values()) for (const text of texts) answered.add(text);
    }
    for (const slo of this.slos.values()) {
      if (!slo.queries) continue;
      for (const text of [slo.queries.first, slo.queries.total]) if (!answered.has(text)) used.add(text);
    }
    for (const text of [...this.parsed.keys()]) if (!used.has(text)) this.parsed.delete(text);
  }

  /** SLI queries run every minute: each is parsed once. */
  private parsedQuery(text: string): Expr {
    let expr = this.parsed.get(text);
    if (expr === undefined) {
      expr = parseExpr(text);
      this.parsed.set(text, expr);
    }
    return expr;
  }

  private async serviceRunbooks(): Promise<Map<string, string>> {
    const rows = await this.options.db.selectFrom("services").select(["name", "runbook_url"]).execute();
    const out = new Map<string, string>();
    for (const row of rows) if (row.runbook_url) out.set(row.name, row.runbook_url);
    return out;
  }

  private scheduleTick(): void {
    const now = this.options.clock.now();
    // A few seconds after each minute, so samples of the minute that closed have arrived.
    const delay = MINUTE - (now % MINUTE) + 5000;
    this.timer = setTimeout(() => {
      this.serialise(() => this.tick());
      this.scheduleTick();
    }, delay);
    this.timer.unref();
  }

  private serialise(job: () => Promise<void>): void {
    this.work = this.work.then(job, job).catch((error: unknown) => {
      this.options.log.error({ err: error }, "SLO evaluation failed");
    });
  }
}

interface QueriesAsRun {
  readonly first: string;
  readonly total: string;
  readonly firstIsBad: boolean;
}

function queriesAsRun(spec: SloSpec): QueriesAsRun | null {
  const queries = sliQueries(spec);
  if (!queries) return null;
  return {
    first: withWindow(queries.first, "1m"),
    total: withWindow(queries.total, "1m"),
    firstIsBad: queries.firstIsBad,
  };
}

function isQuerySli(spec: SloSpec): boolean {
  return spec.sli?.ratio !== undefined || spec.sli?.latency?.histogram !== undefined;
}

function checkRunCounts(spec: SloSpec, run: CheckRan): { good: number; total: number } {
  const latency = spec.sli?.latency?.check;
  if (latency) return { good: run.ok && run.durationMs <= durationMs(latency.threshold) ? 1 : 0, total: 1 };
  const bad = !run.ok || (spec.sli?.checkAvailability?.degradedIsBad === true && run.degraded);
  return { good: bad ? 0 : 1, total: 1 };
}

function rollupCounts(
  spec: SloSpec,
  row: { runs: number; failures: number; degraded: number; latency_histogram: string },
): { good: number; total: number } {
  const latency = spec.sli?.latency?.check;
  if (latency) {
    const histogram = JSON.parse(row.latency_histogram) as LatencyHistogram;
    return { good: countAtOrBelow(histogram, durationMs(latency.threshold)), total: row.runs };
  }
  const degradedBad = spec.sli?.checkAvailability?.degradedIsBad === true ? row.degraded : 0;
  return { good: Math.max(0, row.runs - row.failures - degradedBad), total: row.runs };
}

/**
 * How many minutes one replay query covers: as many as hold `budget` samples at the SLI's rate of samples,
 * at least one and at most `REPLAY_CHUNK_MS`.
 */
function replayChunkMs(samplesPerMinute: number | null, grouped: boolean, budget: number): number {
  if (samplesPerMinute === null) return grouped ? GROUPED_REPLAY_CHUNK_MS : REPLAY_CHUNK_MS;
  const minutes = Math.floor(budget / Math.max(1, samplesPerMinute));
  return Math.min(REPLAY_CHUNK_MS, Math.max(1, minutes) * MINUTE);
}

interface GroupPoints {
  /** JSON of `labels`, as `SloRuntime.group` keys groups. */
  key: string;
  labels: Record<string, string>;
  /** In time order, the group's series summed at each time; non-finite values are to be skipped. */
  points: readonly FloatPoint[];
}

/**
 * The minute's batched SLI queries by text: each one's value at the minute's end, NaN where the batch has no
 * series for it (nothing is recorded from either).
 */
type BatchAnswers = ReadonlyMap<string, number>;

/** Events of a step that has `all` of them: from the first query's rate, NaN when it has no value there. */
function goodEvents(firstIsBad: boolean, first: number, all: number): number {
  const other = Number.isFinite(first) ? first * 60 : 0;
  return Math.max(0, Math.min(all, firstIsBad ? all - other : other));
}

/** Scratch for `evaluateAll`: which tiers of a group fire, by tier index. */
const FIRING: boolean[] = [];

/** An ungrouped SLO's one group: no labels, keyed by their JSON as `SloRuntime.group` keys groups. */
const NO_GROUP = { key: "{}", labels: {} } as const;
const NO_POINTS: readonly FloatPoint[] = [];

/** Query results keyed by their groupBy label values, each with its points by time. */
function perGroup(value: QueryValue, groupBy: readonly string[]): Map<string, GroupPoints> {
  const seriesOf = new Map<string, { labels: Record<string, string>; lists: Array<readonly FloatPoint[]> }>();
  const add = (seriesLabels: Labels, points: readonly FloatPoint[]): void => {
    const labels: Record<string, string> =
      groupBy.length === 0
        ? {}
        : Object.fromEntries(groupBy.map((name) => [name, getLabelValue(seriesLabels, name)]));
    const key = groupBy.length === 0 ? NO_GROUP.key : JSON.stringify(labels);
    const entry = seriesOf.get(key);
    if (entry === undefined) seriesOf.set(key, { labels, lists: [points] });
    else entry.lists.push(points);
  };
  if (value.type === "matrix") for (const s of value.series) add(s.labels, s.points);
  else if (value.type === "vector") for (const s of value.samples) add(s.labels, [{ t: s.t, f: s.f }]);
  const out = new Map<string, GroupPoints>();
  for (const [key, { labels, lists }] of seriesOf) {
    const only = lists.length === 1 ? lists[0] : undefined;
    // One series per group (an ungrouped SLI, or a query already summed by the group's labels) is already
    // in time order and is used as it is (non-finite values are skipped where it is read); several are
    // summed per time through a map.
    let points: readonly FloatPoint[];
    if (only !== undefined) points = only;
    else {
      const sums = new Map<number, number>();
      for (const list of lists)
        for (const p of list) if (Number.isFinite(p.f)) sums.set(p.t, (sums.get(p.t) ?? 0) + p.f);
      points = [...sums].sort((x, y) => x[0] - y[0]).map(([t, f]) => ({ t, f }));
    }
    out.set(key, { key, labels, points });
  }
  return out;
}

/** Sorted runs of minute steps, overlapping or adjacent ones joined. */
function mergeSteps(runs: Array<{ first: number; last: number }>): Array<{ first: number; last: number }> {
  const merged: Array<{ first: number; last: number }> = [];
  for (const run of [...runs].sort((a, b) => a.first - b.first)) {
    const previous = merged.at(-1);
    if (previous !== undefined && run.first <= previous.last + MINUTE) {
      previous.last = Math.max(previous.last, run.last);
    } else merged.push({ ...run });
  }
  return merged;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function formatWindow(ms: number): string {
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  return `${Math.round(ms / MINUTE)}m`;
}
