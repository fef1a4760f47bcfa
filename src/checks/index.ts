/**
 * Synthetic checks: HTTP, TCP, DNS and TLS probes run on a schedule, and heartbeats that jobs push. Each run
 * is judged by its conditions, moves the check's state through failure and success thresholds, and is kept
 * as raw history and per-minute, per-hour and per-day rollups. State changes are published as
 * "check.stateChanged" for SLOs, alerting and incidents; every check is on /metrics in blackbox_exporter's names.
 */
export { CheckSpec, checkKind, Duration, durationMs, HeartbeatSpec } from "./check-kind.js";
export type { CheckRan } from "./check-events.js";
export type { CheckStateChanged } from "./check-recorder.js";
export { countAtOrBelow, type LatencyHistogram } from "./latency-histogram.js";
export { CHECK_STATUSES } from "./check-outcome.js";
export type { CheckOutcome, CheckStatus } from "./check-outcome.js";
export { CheckSummary, listChecks, UptimeCache } from "./check-queries.js";
export { checkRoutes } from "./check-routes.js";
export { ChecksRuntime, DEFAULT_RETENTION } from "./checks-runtime.js";
export type { Retention } from "./checks-runtime.js";
export { createAddressPolicy } from "./probe-api.js";
export {
  adaptiveExecutor,
  inProcessExecutor,
  type ProbeExecutor,
  workerExecutor,
  workersAvailable,
} from "./probe-executor.js";
