/**
 * The scheduler of synthetic checks: runs many periodic jobs (thousands of runs a second, tens of thousands
 * of jobs) at phases spread evenly over their intervals, with bounded concurrency, per-run timeouts that
 * free the slot even when a target hangs, overrun skipping, no burst after a pause, and reconfiguration
 * without reset. It knows jobs only by key; the checks runner supplies what a run does. `SimulatedTimers`
 * drives it (and code built on it) in simulated time in tests.
 */

export { CheckScheduler } from "./check-scheduler.js";
export { jobPhase } from "./job-phase.js";
export type {
  RunContext,
  RunOutcome,
  SchedulerJob,
  SchedulerOptions,
  SchedulerStats,
  SchedulerTimers,
} from "./scheduler-options.js";
export { SimulatedTimers } from "./simulated-timers.js";
