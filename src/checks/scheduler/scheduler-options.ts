import type { Clock } from "../../platform/clock.js";

/** One periodic job. The scheduler knows jobs only by key; what a run does is the `run` callback's business. */
export interface SchedulerJob {
  /** Unique and stable: the phase within the interval is derived from it. */
  key: string;
  intervalMs: number;
  /** A run still going after this long is aborted through its signal and stops holding a slot. */
  timeoutMs: number;
}

/** What one run is told. */
export interface RunContext {
  /** Aborted when the run times out, its job is removed or the scheduler stops; `reason` says which. */
  signal: AbortSignal;
  /** When the run was due (epoch ms): its aligned slot, or when `runNow` was called. */
  dueAt: number;
  startedAt: number;
  /** True for a run asked for through `runNow` rather than due by the schedule. */
  manual: boolean;
}

/** The timer functions the scheduler uses; injectable so tests can run in simulated time. */
export interface SchedulerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SchedulerOptions {
  clock: Clock;
  /** Default: the global setTimeout and clearTimeout. */
  timers?: SchedulerTimers;
  /** Most runs in flight at once; due jobs wait for a free slot in order of due time. */
  concurrency: number;
  /** One run of one job. A rejection is reported through `onError` and never stops the scheduler. */
  run(key: string, context: RunContext): Promise<void>;
  /** Start time minus due time, for every run. */
  onLag?(lagMs: number, key: string): void;
  /** A run fell due while the previous run of the same job was still going; it was skipped. */
  onOverrun?(key: string): void;
  /** A run rejected or timed out (a NinesError with code TIMEOUT). Cancelled runs are not reported. */
  onError?(key: string, error: unknown): void;
}

/** How a run ended, as far as the scheduler is concerned. */
export type RunOutcome = "ok" | "failed" | "timeout" | "aborted";

export interface SchedulerStats {
  jobs: number;
  inFlight: number;
  /** Runs that are due (or asked for by `runNow`) and wait for a free slot. */
  queued: number;
  /** Runs started since the scheduler was created. */
  runs: number;
  /** Runs skipped because the previous run of the same job was still going. */
  overruns: number;
  /** Lag of the latest run started, undefined before the first. */
  lastLagMs: number | undefined;
}
