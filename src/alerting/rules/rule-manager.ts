import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Clock } from "../../platform/clock.js";
import type { EventBus } from "../../platform/events.js";
import type { Log } from "../../platform/logger.js";
import { type InstantSample, type Labels, labelsKey, STALE_NAN } from "../../promql/index.js";
import { AppendError, type Appender } from "../../tsdb/index.js";
import type { AlertSink } from "../alert-model.js";
import {
  FOR_GRACE_PERIOD_MS,
  FOR_OUTAGE_TOLERANCE_MS,
  forStateKey,
  readForState,
  restoredActiveAt,
} from "./for-state-restore.js";
import type { RuleGroupDefinition } from "./rule-file.js";
import {
  AlertingRule,
  generatorUrl,
  type QueryFn,
  RecordingRule,
  type Rule,
  type RuleContext,
} from "./rule-eval.js";

/**
 * Rule groups evaluated on a schedule, as Prometheus's rules/group.go and rules/manager.go: each group at a
 * stable offset within its interval, its rules one after the other (a rule sees what the rules before it
 * wrote at the same instant), results written through one appender per rule with staleness markers for
 * series that went away, alerts sent to the AlertSink.
 */

export interface RuleManagerOptions {
  /** A MetricsBackend: where rules query and where results are written. */
  backend: { instantQuery: QueryFn; appender(): Appender };
  clock: Clock;
  log?: Log;
  sink?: AlertSink;
  /** For groups without an interval; 1 minute unless said. */
  defaultIntervalMs?: number;
  externalLabels?: Record<string, string>;
  /** Base of generatorURL and $externalURL. */
  externalURL?: string;
  /** Least time between two sends of the same firing alert; 1 minute unless said. */
  resendDelayMs?: number;
  /** The groups in force (RuleGroup objects, rule files); read at start and after each apply of RuleGroup. */
  load?: () => Promise<RuleGroupDefinition[]>;
  events?: EventBus;
  /** False: no timers, groups evaluate only through evaluateAt() (tests, `nines test rules`). True unless said. */
  schedule?: boolean;
  /** How old the ALERTS_FOR_STATE restored at start may be (`--rules.alert.for-outage-tolerance`); 1h. */
  forOutageToleranceMs?: number;
  /** Least time from the restore to firing (`--rules.alert.for-grace-period`); 10m. */
  forGracePeriodMs?: number;
}

export class RuleGroup {
  readonly rules: Rule[];
  /** Series each rule wrote at its last successful evaluation, for staleness markers. */
  seriesInPreviousEval: Array<Map<string, Labels>>;
  lastEvaluation: number | undefined;
  evaluationSeconds = 0;
  timer: NodeJS.Timeout | null = null;
  running: Promise<void> | null = null;
  /** Evaluations left before the `for` state is restored; 0: nothing to restore. */
  evaluationsBeforeRestore = 0;

  constructor(
    readonly definition: RuleGroupDefinition,
    readonly intervalMs: number,
    context: RuleContext,
  ) {
    this.rules = definition.rules.map((r) =>
      r.kind === "recording" ? new RecordingRule(r) : new AlertingRule(r, context),
    );
    this.seriesInPreviousEval = this.rules.map(() => new Map());
  }

  get name(): string {
    return this.definition.name;
  }

  get file(): string {
    return this.definition.file;
  }

  get key(): string {
    return `${this.file};${this.name}`;
  }

  /** This group's offset within its interval, stable across restarts (Prometheus hashes name and file). */
  offsetMs(): number {
    const digest = createHash("sha256").update(`${this.name}\u0000${this.file}`).digest();
    return Number(digest.readBigUInt64BE(0) % BigInt(this.intervalMs));
  }

  /** The latest evaluation instant at or before `now`. */
  evalTimestamp(now: number): number {
    const offset = this.offsetMs();
    const adjusted = now - offset;
    return adjusted - (((adjusted % this.intervalMs) + this.intervalMs) % this.intervalMs) + offset;
  }

  /**
   * Holds this group's alerting rules back from writing ALERTS until their `for` state is restored, after two
   * evaluations: as Prometheus, the first one may run before recording rules and scrapes have caught up.
   */
  restoreAfterStart(): void {
    this.evaluationsBeforeRestore = 2;
    for (const rule of this.rules) if (rule instanceof AlertingRule) rule.restored = false;
  }

  /** Takes over a replaced group's alerts and series so that a reload neither resends nor loses them. */
  copyState(from: RuleGroup): void {
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationSeconds = from.evaluationSeconds;
    const byKey = new Map(from.rules.map((r, i) => [r.key, i]));
    this.rules.forEach((rule, i) => {
      const j = byKey.get(rule.key);
      if (j === undefined) return;
      const old = from.rules[j] as Rule;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[j] ?? new Map();
      rule.health = old.health;
      rule.lastError = old.lastError;
      rule.lastEvaluation = old.lastEvaluation;
      rule.evaluationSeconds = old.evaluationSeconds;
      if (rule instanceof AlertingRule && old instanceof AlertingRule) rule.active = old.active;
      byKey.delete(rule.key);
    });
  }
}

export interface EvaluationOutcome {
  group: string;
  rule: string;
  error: string;
}

export class RuleManager {
  private readonly groups = new Map<string, RuleGroup>();
  private started = false;
  private readonly context: RuleContext;
  private unsubscribe: (() => void) | null = null;
  private reloading: Promise<void> = Promise.resolve();

  constructor(private readonly options: RuleManagerOptions) {
    this.context = { externalLabels: options.externalLabels ?? {}, externalURL: options.externalURL ?? "" };
  }

  /** Starts every group's loop (unless schedule is false). */
  async start(): Promise<void> {
    this.started = true;
    const { load, events } = this.options;
    if (load !== undefined) {
      await this.sync(await load());
      this.unsubscribe =
        events?.on("config.applied", (event) => {
          if (!event.changes.some((c) => c.kind === "RuleGroup")) return;
          const reload = async () => this.sync(await load());
          this.reloading = this.reloading.then(reload, reload);
          this.reloading.catch((error: unknown) =>
            this.options.log?.error({ err: error }, "reloading rule groups failed"),
          );
        }) ?? null;
    }
    // The groups in force at start restore their alerts' `for` state; groups added by a later reload do not.
    for (const group of this.groups.values())
      if (group.lastEvaluation === undefined) group.restoreAfterStart();
    for (const group of this.groups.values()) this.schedule(group);
  }

  /** Stops the loops and waits for evaluations in flight. */
  async stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.reloading.catch(() => {});
    for (const group of this.groups.values()) {
      if (group.timer) clearTimeout(group.timer);
      group.timer = null;
    }
    await Promise.allSettled([...this.groups.values()].map((g) => g.running));
  }

  /**
   * Brings the groups in line with these definitions: unchanged groups keep running, changed ones take over
   * their predecessor's alerts, removed ones mark their series stale.
   */
  async sync(definitions: readonly RuleGroupDefinition[]): Promise<void> {
    const desired = new Map<string, RuleGroupDefinition>();
    for (const d of definitions) desired.set(`${d.file};${d.name}`, d);
    for (const [key, group] of [...this.groups]) {
      if (desired.has(key)) continue;
      this.groups.delete(key);
      if (group.timer) clearTimeout(group.timer);
      await group.running?.catch(() => {});
      await this.markGroupStale(group, this.options.clock.now());
    }
    for (const [key, definition] of desired) {
      const current = this.groups.get(key);
      if (current !== undefined && sameDefinition(current.definition, definition)) continue;
      const interval = definition.intervalMs ?? this.options.defaultIntervalMs ?? 60_000;
      const group = new RuleGroup(definition, interval, this.context);
      if (current !== undefined) {
        if (current.timer) clearTimeout(current.timer);
        await current.running?.catch(() => {});
        group.copyState(current);
      }
      this.groups.set(key, group);
      if (this.started) this.schedule(group);
    }
  }

  /** The groups in file, then name order. */
  ruleGroups(): RuleGroup[] {
    return [...this.groups.values()].sort((a, b) =>
      a.file === b.file ? (a.name < b.name ? -1 : 1) : a.file < b.file ? -1 : 1,
    );
  }

  /** Evaluates every group (in the given order, or file/name order) at `ts`; returns the rules that failed. */
  async evaluateAt(ts: number, order?: readonly RuleGroup[]): Promise<EvaluationOutcome[]> {
    const failures: EvaluationOutcome[] = [];
    for (const group of order ?? this.ruleGroups()) {
      await this.evalGroup(group, ts);
      for (const rule of group.rules)
        if (rule.health === "err")
          failures.push({ group: group.name, rule: rule.name, error: rule.lastError });
    }
    return failures;
  }

  private schedule(group: RuleGroup): void {
    if (this.options.schedule === false || !this.started) return;
    if (group.timer) clearTimeout(group.timer);
    const now = this.options.clock.now();
    const next = group.evalTimestamp(now) + group.intervalMs;
    group.timer = setTimeout(
      () => {
        group.timer = null;
        if (!this.started || this.groups.get(group.key) !== group) return;
        // A slow evaluation skips the instants it missed, as Prometheus does.
        const ts = group.evalTimestamp(this.options.clock.now());
        group.running = this.evalGroup(group, ts).finally(() => {
          group.running = null;
          if (this.started && this.groups.get(group.key) === group) this.schedule(group);
        });
      },
      Math.max(0, next - now),
    );
    group.timer.unref?.();
  }

  private async evalGroup(group: RuleGroup, ts: number): Promise<void> {
    const started = performance.now();
    const query = this.options.backend.instantQuery;
    for (let i = 0; i < group.rules.length; i++) {
      const rule = group.rules[i] as Rule;
      const ruleStarted = performance.now();
      let vector: InstantSample[];
      try {
        vector = await rule.eval(query, ts, group.definition.limit);
        rule.health = "ok";
        rule.lastError = "";
      } catch (error) {
        rule.health = "err";
        rule.lastError = (error as Error).message;
        rule.lastEvaluation = ts;
        rule.evaluationSeconds = (performance.now() - ruleStarted) / 1000;
        this.options.log?.warn({ group: group.name, rule: rule.name, err: error }, "evaluating rule failed");
        continue;
      }
      if (rule instanceof AlertingRule && this.options.sink !== undefined) {
        const alerts = rule.alertsToSend(
          ts,
          this.options.resendDelayMs ?? 60_000,
          group.intervalMs,
          generatorUrl(this.context.externalURL, rule.definition.expr),
        );
        if (alerts.length > 0) {
          try {
            await this.options.sink.receive(alerts, "rules");
          } catch (error) {
            this.options.log?.error(
              { group: group.name, rule: rule.name, err: error },
              "sending alerts failed",
            );
          }
        }
      }
      await this.write(group, i, vector, ts);
      rule.lastEvaluation = ts;
      rule.evaluationSeconds = (performance.now() - ruleStarted) / 1000;
    }
    group.lastEvaluation = ts;
    group.evaluationSeconds = (performance.now() - started) / 1000;
    if (group.evaluationsBeforeRestore > 0 && --group.evaluationsBeforeRestore === 0)
      await this.restoreForState(group, this.options.clock.now());
  }

  /**
   * Prometheus's RestoreForState: each pending alert of a rule whose `for` is at least the grace period takes
   * the activeAt its ALERTS_FOR_STATE recorded, if written within the outage tolerance and not marked stale.
   */
  private async restoreForState(group: RuleGroup, now: number): Promise<void> {
    const toleranceMs = this.options.forOutageToleranceMs ?? FOR_OUTAGE_TOLERANCE_MS;
    const gracePeriodMs = this.options.forGracePeriodMs ?? FOR_GRACE_PERIOD_MS;
    for (const rule of group.rules) {
      if (!(rule instanceof AlertingRule)) continue;
      const holdMs = rule.definition.forMs;
      const alerts = rule.activeAlerts();
      // A `for` shorter than the grace period would only be lengthened by a restore.
      if (holdMs >= gracePeriodMs && alerts.length > 0) {
        try {
          const stored = await readForState(this.options.backend.instantQuery, rule.name, now, toleranceMs);
          for (const alert of alerts) {
            const found = stored.get(forStateKey(rule.forStateLabels(alert)));
            if (found === undefined) continue;
            alert.activeAt = restoredActiveAt({ stored: found, now, holdMs, gracePeriodMs });
          }
        } catch (error) {
          this.options.log?.error(
            { group: group.name, rule: rule.name, err: error },
            "restoring the 'for' state of alerts failed",
          );
        }
      }
      rule.restored = true;
    }
  }

  private async write(
    group: RuleGroup,
    index: number,
    vector: readonly InstantSample[],
    ts: number,
  ): Promise<void> {
    const app = this.options.backend.appender();
    const returned = new Map<string, Labels>();
    for (const s of vector) {
      try {
        app.add(s.labels, s.t, s.f);
        returned.set(labelsKey(s.labels), s.labels);
      } catch (error) {
        if (!(error instanceof AppendError)) throw error;
        this.options.log?.warn({ group: group.name, reason: error.reason }, "rule result not written");
      }
    }
    for (const [key, labels] of group.seriesInPreviousEval[index] ?? []) {
      if (returned.has(key)) continue;
      try {
        app.add(labels, ts, STALE_NAN);
      } catch (error) {
        if (!(error instanceof AppendError)) throw error;
      }
    }
    await app.commit();
    group.seriesInPreviousEval[index] = returned;
  }

  private async markGroupStale(group: RuleGroup, ts: number): Promise<void> {
    const app = this.options.backend.appender();
    for (const series of group.seriesInPreviousEval) {
      for (const labels of series.values()) {
        try {
          app.add(labels, ts, STALE_NAN);
        } catch (error) {
          if (!(error instanceof AppendError)) throw error;
        }
      }
    }
    await app.commit();
  }
}

function sameDefinition(a: RuleGroupDefinition, b: RuleGroupDefinition): boolean {
  const strip = (d: RuleGroupDefinition) => ({ ...d, rules: d.rules.map(({ query: _q, ...r }) => r) });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}
