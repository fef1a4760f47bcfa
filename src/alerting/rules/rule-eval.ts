import {
  type InstantSample,
  type Labels,
  labelsFrom,
  labelsKey,
  METRIC_NAME,
  type QueryResult,
} from "../../promql/index.js";
import type { IncomingAlert } from "../alert-model.js";
import { expandAlertTemplate, parseAlertTemplate } from "./alert-template.js";
import type { GoTemplate } from "./go-template.js";
import type { RuleDefinition } from "./rule-file.js";

/**
 * One rule's evaluation, as Prometheus's rules/recording.go and rules/alerting.go: a recording rule renames
 * and relabels its query's result; an alerting rule keeps each alert's state (inactive → pending → firing,
 * `for`, `keep_firing_for`, resolved alerts kept 15 minutes) and writes ALERTS and ALERTS_FOR_STATE.
 */

/** Answers an instant query at `time` (ms), as MetricsBackend.instantQuery does. */
export type QueryFn = (query: {
  query: string;
  time: number;
  lookbackDeltaMs?: number;
}) => Promise<QueryResult>;

export type AlertState = "inactive" | "pending" | "firing";
export type RuleHealth = "unknown" | "ok" | "err";

/** How long a resolved alert stays in memory (and is re-sent), as Prometheus's resolvedRetention. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

export interface Alert {
  /** Sorted; includes alertname. */
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  activeAt: number;
  firedAt: number | undefined;
  resolvedAt: number | undefined;
  lastSentAt: number | undefined;
  validUntil: number | undefined;
  keepFiringSince: number | undefined;
}

export interface RuleContext {
  externalLabels: Readonly<Record<string, string>>;
  externalURL: string;
}

/** The query's result as a vector: a scalar becomes one sample without labels, as EngineQueryFunc does. */
export async function queryVector(query: QueryFn, expr: string, time: number): Promise<InstantSample[]> {
  const { value } = await query({ query: expr, time });
  if (value.type === "vector") return value.samples;
  if (value.type === "scalar") return [{ labels: [], t: value.t, f: value.f }];
  throw new Error("rule result is not a vector or scalar");
}

function toRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

abstract class BaseRule {
  health: RuleHealth = "unknown";
  lastError = "";
  /** ms since the epoch; undefined before the first evaluation. */
  lastEvaluation: number | undefined;
  evaluationSeconds = 0;

  constructor(readonly definition: RuleDefinition) {}

  get name(): string {
    return this.definition.name;
  }

  /** Identity across reloads: kind, name and labels, as Prometheus's nameAndLabels. */
  get key(): string {
    return `${this.definition.kind}\u0000${this.name}\u0000${JSON.stringify(Object.entries(this.definition.labels).sort())}`;
  }

  abstract eval(query: QueryFn, ts: number, limit: number): Promise<InstantSample[]>;
}

export class RecordingRule extends BaseRule {
  async eval(query: QueryFn, ts: number, limit: number): Promise<InstantSample[]> {
    const vector = await queryVector(query, this.definition.expr, ts);
    const seen = new Set<string>();
    const out: InstantSample[] = [];
    for (const s of vector) {
      const record = toRecord(s.labels);
      record[METRIC_NAME] = this.name;
      Object.assign(record, this.definition.labels);
      const labels = labelsFrom(record);
      const key = labelsKey(labels);
      if (seen.has(key))
        throw new Error("vector contains metrics with the same labelset after applying rule labels");
      seen.add(key);
      out.push({ labels, t: ts, f: s.f });
    }
    if (limit > 0 && out.length > limit)
      throw new Error(`exceeded limit of ${limit} with ${out.length} series`);
    return out;
  }
}

export class AlertingRule extends BaseRule {
  /** Alerts by label-set key: pending, firing, and resolved ones kept for RESOLVED_RETENTION_MS. */
  active = new Map<string, Alert>();
  /**
   * False from a start until the `for` state is restored (see for-state-restore.ts): meanwhile ALERTS and
   * ALERTS_FOR_STATE are not written, so the state stored before the restart is still the last one.
   */
  restored = true;
  private readonly labelTemplates: Array<[string, GoTemplate]>;
  private readonly annotationTemplates: Array<[string, GoTemplate]>;

  constructor(
    definition: RuleDefinition,
    private readonly context: RuleContext,
  ) {
    super(definition);
    const parse = (map: Record<string, string>) =>
      Object.entries(map).map(
        ([k, v]) => [k, parseAlertTemplate(definition.name, v)] as [string, GoTemplate],
      );
    this.labelTemplates = parse(definition.labels);
    this.annotationTemplates = parse(definition.annotations);
  }

  /** The rule's state: the most advanced of its alerts' states. */
  get state(): AlertState {
    let state: AlertState = "inactive";
    for (const a of this.active.values()) {
      if (a.state === "firing") return "firing";
      if (a.state === "pending") state = "pending";
    }
    return state;
  }

  /** Pending and firing alerts (not the resolved ones kept for re-sending). */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.state !== "inactive");
  }

  async eval(query: QueryFn, ts: number, limit: number): Promise<InstantSample[]> {
    const vector = await queryVector(query, this.definition.expr, ts);
    const found = new Map<string, Alert>();
    for (const s of vector) {
      const data = {
        labels: toRecord(s.labels),
        externalLabels: this.context.externalLabels,
        externalURL: this.context.externalURL,
        value: s.f,
      };
      const record = toRecord(s.labels);
      delete record[METRIC_NAME];
      for (const [k, t] of this.labelTemplates) record[k] = expandAlertTemplate(t, this.name, data);
      record.alertname = this.name;
      const annotations: Record<string, string> = {};
      for (const [k, t] of this.annotationTemplates) annotations[k] = expandAlertTemplate(t, this.name, data);
      const labels = labelsFrom(record);
      const key = labelsKey(labels);
      if (found.has(key))
        throw new Error("vector contains metrics with the same labelset after applying alert labels");
      found.set(key, {
        labels,
        annotations,
        state: "pending",
        value: s.f,
        activeAt: ts,
        firedAt: undefined,
        resolvedAt: undefined,
        lastSentAt: undefined,
        validUntil: undefined,
        keepFiringSince: undefined,
      });
    }
    for (const [key, alert] of found) {
      const existing = this.active.get(key);
      if (existing !== undefined && existing.state !== "inactive") {
        existing.value = alert.value;
        existing.annotations = alert.annotations;
        continue;
      }
      this.active.set(key, alert);
    }
    const out: InstantSample[] = [];
    let activeCount = 0;
    for (const [key, alert] of [...this.active]) {
      if (!found.has(key)) {
        let keepFiring = false;
        if (alert.state === "firing" && this.definition.keepFiringForMs > 0) {
          alert.keepFiringSince ??= ts;
          keepFiring = ts - alert.keepFiringSince < this.definition.keepFiringForMs;
        }
        if (
          alert.state === "pending" ||
          (alert.resolvedAt !== undefined && ts - alert.resolvedAt > RESOLVED_RETENTION_MS)
        ) {
          this.active.delete(key);
        }
        if (alert.state !== "inactive" && !keepFiring) {
          alert.state = "inactive";
          alert.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else alert.keepFiringSince = undefined;
      activeCount++;
      if (alert.state === "pending" && ts - alert.activeAt >= this.definition.forMs) {
        alert.state = "firing";
        alert.firedAt = ts;
      }
      if (this.restored) out.push(this.alertsSample(alert, ts), this.forStateSample(alert, ts));
    }
    if (limit > 0 && activeCount > limit) {
      this.active.clear();
      throw new Error(`exceeded limit of ${limit} with ${activeCount} alerts`);
    }
    return out;
  }

  private alertsSample(alert: Alert, ts: number): InstantSample {
    const record = { ...this.definition.labels, ...toRecord(alert.labels) };
    record[METRIC_NAME] = "ALERTS";
    record.alertname = this.name;
    record.alertstate = alert.state;
    return { labels: labelsFrom(record), t: ts, f: 1 };
  }

  private forStateSample(alert: Alert, ts: number): InstantSample {
    return { labels: this.forStateLabels(alert), t: ts, f: Math.floor(alert.activeAt / 1000) };
  }

  /** The labels of an alert's ALERTS_FOR_STATE series. */
  forStateLabels(alert: Alert): Labels {
    const record = { ...this.definition.labels, ...toRecord(alert.labels) };
    record[METRIC_NAME] = "ALERTS_FOR_STATE";
    record.alertname = this.name;
    return labelsFrom(record);
  }

  /**
   * The alerts to send after an evaluation at `ts`, in Prometheus's terms: firing alerts again once the resend
   * delay has passed, resolved ones as soon as they resolve (and again each resend delay while kept); each
   * valid for 4 × max(interval, resend delay).
   */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number, generatorURL: string): IncomingAlert[] {
    const out: IncomingAlert[] = [];
    for (const alert of this.active.values()) {
      if (alert.state === "pending") continue;
      const resolvedSinceSent =
        alert.resolvedAt !== undefined &&
        (alert.lastSentAt === undefined || alert.resolvedAt > alert.lastSentAt);
      if (!resolvedSinceSent && alert.lastSentAt !== undefined && alert.lastSentAt + resendDelayMs >= ts)
        continue;
      alert.lastSentAt = ts;
      alert.validUntil = ts + 4 * Math.max(resendDelayMs, intervalMs);
      const labels = { ...toRecord(alert.labels) };
      for (const [k, v] of Object.entries(this.context.externalLabels)) if (!(k in labels)) labels[k] = v;
      out.push({
        labels,
        annotations: { ...alert.annotations },
        startsAt: new Date(alert.firedAt ?? alert.activeAt).toISOString(),
        endsAt: new Date(alert.resolvedAt ?? alert.validUntil).toISOString(),
        generatorURL,
      });
    }
    return out;
  }
}

export type Rule = RecordingRule | AlertingRule;

/** The link Prometheus puts in generatorURL: the expression in its graph page's table tab. */
export function generatorUrl(externalURL: string, expr: string): string {
  const q = encodeURIComponent(expr).replace(/%20/g, "+");
  return `${externalURL.replace(/\/$/, "")}/graph?g0.expr=${q}&g0.tab=1`;
}
