import { labelsFrom, labelsKey, METRIC_NAME, type Labels } from "../../promql/index.js";
import type { QueryFn } from "./rule-eval.js";

/**
 * Restoring the `for` state of alerts after a restart, as Prometheus's rules/manager.go RestoreForState: the
 * ALERTS_FOR_STATE series written before the restart tell when each alert became active, so an alert that was
 * pending for 8 of its 10 minutes does not start counting again from zero.
 */

/** Prometheus's `--rules.alert.for-outage-tolerance`: older state is not restored. */
export const FOR_OUTAGE_TOLERANCE_MS = 60 * 60_000;
/** Prometheus's `--rules.alert.for-grace-period`: least time between a restore and the alert firing. */
export const FOR_GRACE_PERIOD_MS = 10 * 60_000;

/** The last ALERTS_FOR_STATE sample of one alert: when it was written and the activeAt it recorded (ms). */
export interface StoredForState {
  sampleAt: number;
  activeAt: number;
}

/**
 * The last sample of each ALERTS_FOR_STATE series of the rule within the outage tolerance before `ts`, by the
 * key of its labels without `__name__`; a series whose last sample is a staleness marker (the alert went
 * inactive before the restart) is absent. An instant query with the tolerance as its lookback window answers
 * exactly that, and `timestamp()` of the same selector gives the sample's time.
 */
export async function readForState(
  query: QueryFn,
  alertname: string,
  ts: number,
  toleranceMs: number,
): Promise<Map<string, StoredForState>> {
  const selector = `ALERTS_FOR_STATE{alertname=${JSON.stringify(alertname)}}`;
  const ask = async (expr: string) => {
    const { value } = await query({ query: expr, time: ts, lookbackDeltaMs: toleranceMs });
    if (value.type !== "vector") throw new Error(`${expr} did not return a vector`);
    return value.samples;
  };
  const [values, times] = await Promise.all([ask(selector), ask(`timestamp(${selector})`)]);
  const sampleAt = new Map(times.map((s) => [forStateKey(s.labels), Math.round(s.f * 1000)]));
  const out = new Map<string, StoredForState>();
  for (const s of values) {
    const key = forStateKey(s.labels);
    const at = sampleAt.get(key);
    if (at === undefined || !Number.isFinite(s.f)) continue;
    out.set(key, { sampleAt: at, activeAt: s.f * 1000 });
  }
  return out;
}

/** The key an ALERTS_FOR_STATE series is found by: its labels without `__name__`. */
export function forStateKey(labels: Labels): string {
  return labelsKey(labels.some((l) => l.name === METRIC_NAME) ? withoutName(labels) : labels);
}

function withoutName(labels: Labels): Labels {
  return labelsFrom(labels.filter((l) => l.name !== METRIC_NAME).map((l) => [l.name, l.value] as const));
}

/**
 * The activeAt to give an alert found active again at `now`, from its stored state: Prometheus's three cases.
 * Whole seconds throughout, as Prometheus reads the sample time and activeAt.
 */
export function restoredActiveAt(args: {
  stored: StoredForState;
  now: number;
  holdMs: number;
  gracePeriodMs: number;
}): number {
  const { stored, now, holdMs, gracePeriodMs } = args;
  const downAt = Math.floor(stored.sampleAt / 1000) * 1000;
  const activeAt = Math.floor(stored.activeAt / 1000) * 1000;
  const remaining = holdMs - (downAt - activeAt);
  // Already past `for` when the process went down: it fires again at the next evaluation.
  if (remaining <= 0) return activeAt;
  // Less than the grace period left: fire one grace period after the restore, not sooner.
  if (remaining < gracePeriodMs) return now + gracePeriodMs - holdMs;
  // Otherwise the time spent down does not count as pending.
  return activeAt + (now - downAt);
}
