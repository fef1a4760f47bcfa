import type { Clock } from "../../platform/clock.js";
import { NinesError } from "../../platform/errors.js";
import { FifoQueue } from "./fifo-queue.js";
import { phaseFraction, slotAfter, slotAtOrAfter } from "./job-phase.js";
import { type HeapItem, MinHeap } from "./min-heap.js";
import type {
  RunOutcome,
  SchedulerJob,
  SchedulerOptions,
  SchedulerStats,
  SchedulerTimers,
} from "./scheduler-options.js";

// Node fires longer timeouts at once; the timer then wakes early, finds nothing due and re-arms.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
// A timer firing this much before its time means the wall clock stepped back (timers are monotonic).
const CLOCK_STEP_TOLERANCE_MS = 1_000;

const SYSTEM_TIMERS: SchedulerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

type Waiter = (outcome: RunOutcome) => void;

interface Job extends HeapItem {
  readonly key: string;
  readonly fraction: number;
  intervalMs: number;
  timeoutMs: number;
  phase: number;
  /** Next due time; meaningful while the job is in the due heap. */
  dueAt: number;
  /** Due time of the latest scheduled slot that ran or was skipped. */
  lastDueAt: number | undefined;
  /** Waiting for a free slot; an entry in a queue is live only while it is its job's `pending`. */
  pending: Pending | undefined;
  run: Run | undefined;
  removed: boolean;
}

interface Pending {
  readonly job: Job;
  readonly dueAt: number;
  /** Carries a slot of the schedule (the next slot is computed from it), not only a `runNow` request. */
  readonly scheduled: boolean;
  readonly manual: boolean;
  readonly waiters: Waiter[];
}

interface Run extends HeapItem {
  readonly job: Job;
  readonly controller: AbortController;
  deadline: number;
  readonly waiters: Waiter[];
  /** Aborted by stop() or by removal of its job: not an error, whatever the run then does. */
  cancelled: boolean;
  finished: boolean;
}

/**
 * Runs many periodic jobs, each at a fixed phase of its interval derived from a hash of its key, with at
 * most `concurrency` runs in flight. One min-heap of due times and one min-heap of run deadlines share a
 * single timer, so a run costs O(log n) whatever the number of jobs.
 *
 * - A run that outlives its job's `timeoutMs` is aborted through its signal and stops holding a slot,
 *   even if it ignores the signal; the scheduler then treats the run as over.
 * - A job never has two runs at once: a slot that falls due while the previous run is still going is
 *   skipped and counted as an overrun. After a pause longer than an interval, a job runs once, then at its
 *   next aligned slot: no burst.
 * - `sync` adds, removes and changes jobs without disturbing the others. In-flight runs of removed jobs
 *   are aborted; they keep their slot until they settle or time out.
 *
 * @example
 * ```ts
 * const scheduler = new CheckScheduler({
 *   clock: systemClock,
 *   concurrency: 500,
 *   run: async (key, { signal }) => {
 *     await recordResult(key, await runProbe(specFor(key), { now: systemClock.now, signal }));
 *   },
 *   onLag: (lagMs) => lagHistogram.observe(lagMs / 1000),
 *   onError: (key, error) => logger.warn({ key, err: error }, "check run failed"),
 * });
 * scheduler.sync([{ key: "api-health", intervalMs: 30_000, timeoutMs: 10_000 }]);
 * scheduler.start();
 * await scheduler.runNow("api-health"); // "ok"
 * await scheduler.stop();
 * ```
 */
export class CheckScheduler {
  private readonly clock: Clock;
  private readonly timers: SchedulerTimers;
  private readonly concurrency: number;
  private readonly jobs = new Map<string, Job>();
  /** Jobs removed while a run was in flight, kept until it ends so that a re-added key cannot run twice. */
  private readonly leaving = new Map<string, Job>();
  private readonly due = new MinHeap<Job>(
    (a, b) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.key < b.key),
  );
  private readonly deadlines = new MinHeap<Run>((a, b) => a.deadline < b.deadline);
  /** runNow requests go before due runs; both lanes are in order of arrival, hence of due time. */
  private readonly urgent = new FifoQueue<Pending>();
  private readonly ready = new FifoQueue<Pending>();
  private idleWaiters: Array<() => void> = [];
  private running = false;
  private busy = false;
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private queued = 0;
  private inFlight = 0;
  private runs = 0;
  private overruns = 0;
  private lastLagMs: number | undefined;

  constructor(private readonly options: SchedulerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1)
      throw invalid(`concurrency must be a whole number of at least 1, got ${options.concurrency}.`);
    this.clock = options.clock;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    this.concurrency = options.concurrency;
  }

  /** Starts running jobs at their slots. Jobs may be synced before or after; `runNow` works either way. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    for (const job of this.jobs.values()) {
      if (!this.due.has(job) && job.pending === undefined) this.schedule(job, now);
    }
    this.settle();
  }

  /**
   * Stops scheduling, drops queued runs and aborts the runs in flight. Resolves when every run has settled
   * or reached its timeout, whichever comes first. `start()` may be called again afterwards.
   */
  stop(): Promise<void> {
    this.running = false;
    this.due.clear();
    for (const lane of [this.urgent, this.ready]) {
      for (let entry = lane.shift(); entry !== undefined; entry = lane.shift()) {
        if (entry.job.pending === entry) this.dropPending(entry.job);
      }
    }
    const reason = new NinesError("UNAVAILABLE", "The check scheduler stopped; the run was cancelled.");
    for (const run of this.deadlines.values()) this.cancel(run, reason);
    const idle =
      this.inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.settle();
    return idle;
  }

  /**
   * Makes the set of jobs equal to `jobs`. New jobs wait for their first slot; removed jobs stop and their
   * in-flight runs are aborted; a job whose interval changed keeps its phase (as a fraction of the interval)
   * and moves to its next slot under the new interval, at least one new interval after its last slot; a new
   * timeout applies from the next run. Unchanged jobs are untouched. Throws INVALID_INPUT and changes
   * nothing if a job is invalid or a key repeats.
   */
  sync(jobs: readonly SchedulerJob[]): void {
    const wanted = new Map<string, SchedulerJob>();
    for (const job of jobs) {
      checkJob(job);
      if (wanted.has(job.key)) throw invalid(`Job key "${job.key}" appears twice; keys must be unique.`);
      wanted.set(job.key, job);
    }
    const now = this.clock.now();
    for (const job of this.jobs.values()) if (!wanted.has(job.key)) this.remove(job);
    for (const spec of wanted.values()) {
      const job = this.jobs.get(spec.key);
      if (job === undefined) this.add(spec, now);
      else this.change(job, spec, now);
    }
    this.settle();
  }

  /**
   * Runs a job now, outside its schedule, ahead of due runs that wait for a slot (so it waits only when all
   * slots are taken). If the job is already running, waits for that run instead of starting another.
   * Resolves with how the run ended ("aborted" if the job is removed or the scheduler stops before it
   * ends); rejects with NOT_FOUND for an unknown key.
   */
  runNow(key: string): Promise<RunOutcome> {
    const job = this.jobs.get(key);
    if (job === undefined)
      return Promise.reject(
        new NinesError("NOT_FOUND", `No scheduled job has the key "${key}". Sync it before running it.`),
      );
    return new Promise<RunOutcome>((resolve) => {
      if (job.run !== undefined) {
        job.run.waiters.push(resolve);
        return;
      }
      const pending = job.pending;
      if (pending?.manual) {
        pending.waiters.push(resolve);
        return;
      }
      // A run already due and waiting moves to the front, keeping its slot.
      const entry: Pending =
        pending === undefined
          ? { job, dueAt: this.clock.now(), scheduled: false, manual: true, waiters: [resolve] }
          : { ...pending, manual: true, waiters: [...pending.waiters, resolve] };
      if (pending === undefined) this.queued += 1;
      job.pending = entry;
      this.urgent.push(entry);
      this.settle();
    });
  }

  stats(): SchedulerStats {
    return {
      jobs: this.jobs.size,
      inFlight: this.inFlight,
      queued: this.queued,
      runs: this.runs,
      overruns: this.overruns,
      lastLagMs: this.lastLagMs,
    };
  }

  private add(spec: SchedulerJob, now: number): void {
    const returning = this.leaving.get(spec.key);
    if (returning !== undefined) {
      this.leaving.delete(spec.key);
      returning.removed = false;
      this.jobs.set(spec.key, returning);
      this.change(returning, spec, now);
      if (this.running && !this.due.has(returning)) this.schedule(returning, now);
      return;
    }
    const fraction = phaseFraction(spec.key);
    const job: Job = {
      heapIndex: -1,
      key: spec.key,
      fraction,
      intervalMs: spec.intervalMs,
      timeoutMs: spec.timeoutMs,
      phase: Math.floor(fraction * spec.intervalMs),
      dueAt: 0,
      lastDueAt: undefined,
      pending: undefined,
      run: undefined,
      removed: false,
    };
    this.jobs.set(job.key, job);
    if (this.running) this.schedule(job, now);
  }

  private change(job: Job, spec: SchedulerJob, now: number): void {
    job.timeoutMs = spec.timeoutMs;
    if (spec.intervalMs === job.intervalMs) return;
    job.intervalMs = spec.intervalMs;
    job.phase = Math.floor(job.fraction * spec.intervalMs);
    // A queued job computes its next slot when it starts; only a job waiting in the heap moves now.
    if (this.due.remove(job)) this.schedule(job, now);
  }

  private remove(job: Job): void {
    this.jobs.delete(job.key);
    job.removed = true;
    this.due.remove(job);
    if (job.pending !== undefined) this.dropPending(job);
    if (job.run !== undefined) {
      this.leaving.set(job.key, job);
      this.cancel(
        job.run,
        new NinesError(
          "UNAVAILABLE",
          `Job "${job.key}" was removed from the schedule; its run was cancelled.`,
        ),
      );
    }
  }

  private schedule(job: Job, now: number): void {
    job.dueAt =
      job.lastDueAt === undefined
        ? slotAtOrAfter(job.phase, job.intervalMs, now)
        : this.nextDue(job, job.lastDueAt, now);
    this.due.push(job);
  }

  /** The slot after `lastDueAt`; if that is already past (a pause, a long queue), the next slot from now. */
  private nextDue(job: Job, lastDueAt: number, now: number): number {
    if (lastDueAt > now) return slotAtOrAfter(job.phase, job.intervalMs, now); // the clock stepped back
    const next = lastDueAt + job.intervalMs;
    return next > now
      ? slotAtOrAfter(job.phase, job.intervalMs, next)
      : slotAfter(job.phase, job.intervalMs, now);
  }

  private dropPending(job: Job): void {
    const pending = job.pending;
    if (pending === undefined) return;
    job.pending = undefined;
    this.queued -= 1;
    for (const waiter of pending.waiters) waiter("aborted");
  }

  private cancel(run: Run, reason: NinesError): void {
    if (run.cancelled || run.finished) return;
    run.cancelled = true;
    run.controller.abort(reason);
  }

  private readonly onTimer = (): void => {
    const expectedAt = this.timerAt;
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.busy = true;
    try {
      const now = this.clock.now();
      if (now < expectedAt - CLOCK_STEP_TOLERANCE_MS) this.rebase(now);
      // Timeouts first: they free slots for the runs that are due.
      for (
        let run = this.deadlines.peek();
        run !== undefined && run.deadline <= now;
        run = this.deadlines.peek()
      ) {
        this.finish(
          run,
          "timeout",
          new NinesError(
            "TIMEOUT",
            `Job "${run.job.key}" ran longer than its timeout of ${run.job.timeoutMs} ms and was aborted.`,
          ),
        );
      }
      if (this.running) {
        for (let job = this.due.peek(); job !== undefined && job.dueAt <= now; job = this.due.peek()) {
          this.due.pop();
          this.fallDue(job, now);
        }
      }
      this.pump();
    } finally {
      this.busy = false;
    }
    this.arm();
  };

  /** After the wall clock stepped back, due times and deadlines ahead by the step would stall every job. */
  private rebase(now: number): void {
    const jobs = this.due.values();
    this.due.clear();
    for (const job of jobs) this.schedule(job, now);
    for (const run of this.deadlines.values()) {
      run.deadline = Math.min(run.deadline, now + run.job.timeoutMs);
      this.deadlines.update(run);
    }
  }

  private fallDue(job: Job, now: number): void {
    if (job.run !== undefined || job.pending !== undefined) {
      // Skipped, not stacked. A pending runNow request is not an overrun: it will run soon anyway.
      if (job.run !== undefined) {
        this.overruns += 1;
        const onOverrun = this.options.onOverrun;
        if (onOverrun !== undefined) this.hook(job.key, () => onOverrun(job.key));
      }
      job.lastDueAt = job.dueAt;
      job.dueAt = this.nextDue(job, job.dueAt, now);
      this.due.push(job);
      return;
    }
    const entry: Pending = { job, dueAt: job.dueAt, scheduled: true, manual: false, waiters: [] };
    job.pending = entry;
    this.queued += 1;
    this.ready.push(entry);
  }

  /** Starts queued runs while slots are free, then sets the timer; a no-op when called from inside. */
  private settle(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      this.pump();
    } finally {
      this.busy = false;
    }
    this.arm();
  }

  private pump(): void {
    while (this.inFlight < this.concurrency) {
      const entry = this.nextPending();
      if (entry === undefined) return;
      this.startRun(entry);
    }
  }

  private nextPending(): Pending | undefined {
    for (let entry = this.urgent.shift(); entry !== undefined; entry = this.urgent.shift()) {
      if (entry.job.pending === entry) return entry;
    }
    for (let entry = this.ready.shift(); entry !== undefined; entry = this.ready.shift()) {
      if (entry.job.pending === entry) return entry;
    }
    return undefined;
  }

  private startRun(entry: Pending): void {
    const job = entry.job;
    job.pending = undefined;
    this.queued -= 1;
    const startedAt = this.clock.now();
    if (entry.scheduled) job.lastDueAt = entry.dueAt;
    if (this.running && !this.due.has(job)) {
      job.dueAt = this.nextDue(job, entry.dueAt, startedAt);
      this.due.push(job);
    }
    const controller = new AbortController();
    const run: Run = {
      heapIndex: -1,
      job,
      controller,
      deadline: startedAt + job.timeoutMs,
      waiters: entry.waiters,
      cancelled: false,
      finished: false,
    };
    job.run = run;
    this.inFlight += 1;
    this.runs += 1;
    this.deadlines.push(run);
    const lag = startedAt - entry.dueAt;
    this.lastLagMs = lag;
    const onLag = this.options.onLag;
    if (onLag !== undefined) this.hook(job.key, () => onLag(lag, job.key));
    let result: Promise<void>;
    try {
      result = this.options.run(job.key, {
        signal: controller.signal,
        dueAt: entry.dueAt,
        startedAt,
        manual: entry.manual,
      });
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      () => this.finish(run, "ok", undefined),
      (error: unknown) => this.finish(run, "failed", error),
    );
  }

  private finish(run: Run, outcome: RunOutcome, error: unknown): void {
    if (run.finished) return;
    run.finished = true;
    const job = run.job;
    this.deadlines.remove(run);
    this.inFlight -= 1;
    if (job.run === run) job.run = undefined;
    if (job.removed && this.leaving.get(job.key) === job) this.leaving.delete(job.key);
    let result = outcome;
    if (run.cancelled) result = "aborted";
    else if (outcome === "timeout") {
      run.controller.abort(error);
      this.report(job.key, error);
    } else if (outcome === "failed") this.report(job.key, error);
    for (const waiter of run.waiters) waiter(result);
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
    this.settle();
  }

  /** One timer for the earliest due time and the earliest run deadline. */
  private arm(): void {
    let wake = Number.POSITIVE_INFINITY;
    const next = this.running ? this.due.peek() : undefined;
    if (next !== undefined) wake = next.dueAt;
    const run = this.deadlines.peek();
    if (run !== undefined && run.deadline < wake) wake = run.deadline;
    if (wake === Number.POSITIVE_INFINITY) {
      this.disarm();
      return;
    }
    // A timer set for earlier wakes up, finds nothing to do and re-arms: cheaper than resetting it each time.
    if (this.timerAt <= wake) return;
    this.disarm();
    const now = this.clock.now();
    const delay = Math.min(Math.max(0, wake - now), MAX_TIMER_DELAY_MS);
    this.timerAt = now + delay;
    this.timer = this.timers.setTimeout(this.onTimer, delay);
  }

  private disarm(): void {
    if (this.timerAt === Number.POSITIVE_INFINITY) return;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private hook(key: string, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.report(key, error);
    }
  }

  private report(key: string, error: unknown): void {
    try {
      this.options.onError?.(key, error);
    } catch {
      // A throwing error hook has nowhere left to report to; the scheduler must keep going.
    }
  }
}

function checkJob(job: SchedulerJob): void {
  if (typeof job.key !== "string" || job.key === "") throw invalid("Every job needs a non-empty key.");
  for (const field of ["intervalMs", "timeoutMs"] as const) {
    const value = job[field];
    if (!Number.isFinite(value) || value < 1)
      throw invalid(
        `Job "${job.key}": ${field} must be a number of milliseconds of at least 1, got ${value}.`,
      );
  }
}

function invalid(message: string): NinesError {
  return new NinesError("INVALID_INPUT", message);
}
