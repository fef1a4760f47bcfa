import type { ConditionOutcome } from "./conditions/evaluate-conditions.js";
import type { PhaseTimings, ProbeType, TlsInfo } from "./probes/probe-result.js";

export const CHECK_STATUSES = ["pending", "up", "degraded", "down", "paused"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** What one run of a check found, after retries and conditions. */
export interface CheckOutcome {
  check: string;
  at: number;
  ok: boolean;
  degraded: boolean;
  durationMs: number;
  attempts: number;
  /** One line on why the run failed or is degraded; null when it was simply good. */
  reason: string | null;
  statusCode: number | null;
  conditions: ConditionOutcome[];
  timings: PhaseTimings;
  /** What metrics need of the last attempt's result beyond the fields above; absent for heartbeats. */
  probe?: ProbeSummary;
}

/**
 * The few fields of a probe result that outlive the run. The full result (headers, body, certificate chain)
 * stays where the probe ran: copied to the main thread and kept there until the check's next run, thousands
 * of them a second aged into the old generation and made its garbage.
 */
export interface ProbeSummary {
  type: ProbeType;
  tls: Pick<TlsInfo, "earliestNotAfter" | "leafNotAfter"> | null;
}

export interface CheckStateValue {
  status: CheckStatus;
  since: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

export interface Thresholds {
  failureThreshold: number;
  successThreshold: number;
}

export interface StateTransition {
  from: CheckStatus;
  to: CheckStatus;
  at: number;
  reason: string | null;
}

/**
 * Applies one run to a check's state: down after `failureThreshold` failed runs in a row, up again after
 * `successThreshold` good ones; between up and degraded the latest good run decides at once. A new check
 * (pending) takes the state of its first run without waiting for the thresholds.
 */
export function applyOutcome(
  state: CheckStateValue,
  outcome: Pick<CheckOutcome, "ok" | "degraded" | "at" | "reason">,
  thresholds: Thresholds,
): { state: CheckStateValue; transition: StateTransition | null } {
  const next = {
    status: state.status,
    since: state.since,
    consecutiveFailures: state.consecutiveFailures,
    consecutiveSuccesses: state.consecutiveSuccesses,
  };
  const transition = advanceState(next, outcome, thresholds);
  return { state: next, transition };
}

/** `applyOutcome` on the state itself: thousands of runs a second then allocate nothing when nothing changes. */
export function advanceState(
  state: CheckStateValue,
  outcome: Pick<CheckOutcome, "ok" | "degraded" | "at" | "reason">,
  thresholds: Thresholds,
): StateTransition | null {
  const consecutiveFailures = outcome.ok ? 0 : state.consecutiveFailures + 1;
  const consecutiveSuccesses = outcome.ok ? state.consecutiveSuccesses + 1 : 0;
  const good: CheckStatus = outcome.degraded ? "degraded" : "up";
  const from = state.status;
  let status = from;
  if (from === "pending" || from === "paused") {
    status = outcome.ok ? good : consecutiveFailures >= thresholds.failureThreshold ? "down" : "pending";
  } else if (from === "down") {
    if (outcome.ok && consecutiveSuccesses >= thresholds.successThreshold) status = good;
  } else if (outcome.ok) {
    status = good;
  } else if (consecutiveFailures >= thresholds.failureThreshold) {
    status = "down";
  }
  state.consecutiveFailures = consecutiveFailures;
  state.consecutiveSuccesses = consecutiveSuccesses;
  if (status === from) return null;
  state.status = status;
  state.since = outcome.at;
  return { from, to: status, at: outcome.at, reason: outcome.reason };
}
