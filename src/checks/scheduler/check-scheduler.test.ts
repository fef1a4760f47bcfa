import { describe, expect, it, vi } from "vitest";
import { ManualClock, systemClock } from "../../platform/clock.js";
import { isNinesError } from "../../platform/errors.js";
import { CheckScheduler } from "./check-scheduler.js";
import { jobPhase } from "./job-phase.js";
import type { RunContext, SchedulerJob, SchedulerOptions } from "./scheduler-options.js";
import { SimulatedTimers } from "./simulated-timers.js";

// A whole number of minutes since the epoch, so slots of every interval used here align on it.
const START = Date.UTC(2026, 0, 1);

interface Start extends RunContext {
  key: string;
}

type Work = (key: string, context: RunContext, timers: SimulatedTimers) => Promise<void>;

function setup(options: { work?: Work } & Partial<Omit<SchedulerOptions, "run">> = {}) {
  const { work, ...rest } = options;
  const clock = new ManualClock(START);
  const timers = new SimulatedTimers(clock);
  const starts: Start[] = [];
  const errors: Array<{ key: string; error: unknown }> = [];
  const lags: Array<{ key: string; lagMs: number }> = [];
  const overruns: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const scheduler = new CheckScheduler({
    clock,
    timers,
    concurrency: 1_000,
    run: async (key, context) => {
      starts.push({ key, ...context });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await work?.(key, context, timers);
      } finally {
        inFlight -= 1;
      }
    },
    onLag: (lagMs, key) => lags.push({ key, lagMs }),
    onOverrun: (key) => overruns.push(key),
    onError: (key, error) => errors.push({ key, error }),
    ...rest,
  });
  const startsOf = (key: string) => starts.filter((start) => start.key === key);
  return {
    clock,
    timers,
    scheduler,
    starts,
    startsOf,
    errors,
    lags,
    overruns,
    maxInFlight: () => maxInFlight,
  };
}

const job = (key: string, intervalMs: number, timeoutMs = 5_000): SchedulerJob => ({
  key,
  intervalMs,
  timeoutMs,
});
const jobs = (count: number, intervalMs: number, timeoutMs = 5_000): SchedulerJob[] =>
  Array.from({ length: count }, (_, i) => job(`check-${i}`, intervalMs, timeoutMs));
const hang = (): Promise<void> => new Promise(() => {});
const errorCode = (error: unknown) => (isNinesError(error) ? error.code : undefined);

describe("CheckScheduler: spreading", () => {
  it("spreads 1,000 jobs with the same interval evenly across it, at phases that survive a restart", async () => {
    const { scheduler, timers, starts } = setup();
    scheduler.sync(jobs(1_000, 60_000));
    scheduler.start();
    await timers.advance(60_000 - 1);

    expect(starts).toHaveLength(1_000);
    const buckets = new Array<number>(10).fill(0);
    for (const start of starts) {
      expect(start.startedAt - START).toBe(jobPhase(start.key, 60_000));
      const bucket = Math.floor((start.startedAt - START) / 6_000);
      buckets[bucket] = (buckets[bucket] ?? 0) + 1;
    }
    // 100 expected per tenth of the interval; a standard deviation is about 10.
    for (const count of buckets) expect(count).toBeGreaterThan(65);
    for (const count of buckets) expect(count).toBeLessThan(135);
    expect(new Set(starts.map((start) => start.startedAt)).size).toBeGreaterThan(950);

    // Another process started at another time runs each job at the same offset in the interval.
    const later = setup();
    later.clock.set(START + 7_654_321);
    later.scheduler.sync(jobs(1_000, 60_000));
    later.scheduler.start();
    await later.timers.advance(60_000);
    const offsetOf = new Map(starts.map((start) => [start.key, start.dueAt % 60_000]));
    expect(later.starts).toHaveLength(1_000);
    for (const start of later.starts) expect(start.dueAt % 60_000).toBe(offsetOf.get(start.key));
    await Promise.all([scheduler.stop(), later.scheduler.stop()]);
  });
});

describe("CheckScheduler: concurrency", () => {
  it("never has more runs in flight than its concurrency, and waiting runs start in order of due time", async () => {
    const { scheduler, timers, starts, lags, maxInFlight } = setup({
      concurrency: 3,
      work: (_key, { signal }, t) => t.sleep(2_000, signal),
    });
    scheduler.sync(jobs(12, 10_000));
    scheduler.start();
    for (let step = 0; step < 60; step += 1) {
      await timers.advance(1_000);
      expect(scheduler.stats().inFlight).toBeLessThanOrEqual(3);
    }

    expect(maxInFlight()).toBe(3);
    expect(starts.length).toBeGreaterThanOrEqual(12 * 5);
    for (let i = 1; i < starts.length; i += 1) {
      expect(starts[i]?.dueAt).toBeGreaterThanOrEqual(starts[i - 1]?.dueAt ?? 0);
    }
    expect(lags.some(({ lagMs }) => lagMs > 0)).toBe(true);
    await scheduler.stop();
  });

  it("aborts a run that hangs past its timeout, frees its slot for others and runs the job again", async () => {
    const abortedAt: number[] = [];
    const { scheduler, timers, clock, startsOf, errors, lags } = setup({
      concurrency: 1,
      work: (key, { signal }) => {
        if (key !== "hangs") return Promise.resolve();
        signal.addEventListener("abort", () => abortedAt.push(clock.now()));
        return hang(); // and ignores the signal
      },
    });
    scheduler.sync([job("hangs", 10_000, 3_000), job("other", 1_000, 3_000)]);
    scheduler.start();
    await timers.advanceTo(START + jobPhase("hangs", 10_000) + 23_000);

    const hangs = startsOf("hangs");
    expect(hangs).toHaveLength(3);
    expect(abortedAt).toEqual(hangs.map((start) => start.startedAt + 3_000));
    expect(hangs.every((start) => errorCode(start.signal.reason) === "TIMEOUT")).toBe(true);
    expect(errors.map(({ key, error }) => [key, errorCode(error)])).toEqual([
      ["hangs", "TIMEOUT"],
      ["hangs", "TIMEOUT"],
      ["hangs", "TIMEOUT"],
    ]);
    // "other" fell due while the hanging run held the only slot, and got it when that run timed out.
    const otherStarts = startsOf("other").map((start) => start.startedAt);
    for (const at of abortedAt) expect(otherStarts).toContain(at);
    const otherLags = lags.filter(({ key }) => key === "other").map(({ lagMs }) => lagMs);
    expect(Math.max(...otherLags)).toBeGreaterThan(0);
    expect(Math.max(...otherLags)).toBeLessThanOrEqual(3_000);
    expect(scheduler.stats().inFlight).toBe(0);
    await scheduler.stop();
  });

  it("skips a slot that falls due while the job's previous run is still going, and counts it", async () => {
    const { scheduler, timers, startsOf, overruns, maxInFlight } = setup({
      work: (_key, { signal }, t) => t.sleep(2_500, signal),
    });
    scheduler.sync([job("slow", 1_000, 10_000)]);
    scheduler.start();
    const first = START + jobPhase("slow", 1_000);
    await timers.advanceTo(first + 8_500);

    // Runs at +0, +3 s and +6 s; the slots at +1, +2, +4, +5, +7 and +8 s were skipped.
    expect(startsOf("slow").map((start) => start.dueAt - first)).toEqual([0, 3_000, 6_000]);
    expect(overruns).toEqual(new Array(6).fill("slow"));
    expect(scheduler.stats()).toMatchObject({ runs: 3, overruns: 6 });
    expect(maxInFlight()).toBe(1);
    await scheduler.stop();
  });
});

describe("CheckScheduler: reconfiguration", () => {
  it("sync adds, removes and changes jobs while leaving unchanged ones on their slots", async () => {
    const { scheduler, timers, clock, startsOf, errors } = setup({
      work: (key, { signal }, t) => (key === "removed" ? t.sleep(60_000, signal) : Promise.resolve()),
    });
    scheduler.sync([job("same", 10_000), job("changed", 10_000), job("removed", 10_000, 120_000)]);
    scheduler.start();
    await timers.advance(25_000);
    const removedRun = startsOf("removed")[0];
    expect(removedRun?.signal.aborted).toBe(false);
    const changedBefore = startsOf("changed").length;
    const syncedAt = clock.now();

    scheduler.sync([job("same", 10_000), job("changed", 20_000), job("added", 10_000)]);
    expect(removedRun?.signal.aborted).toBe(true);
    expect(errorCode(removedRun?.signal.reason)).toBe("UNAVAILABLE");
    await timers.advance(60_000);

    const same = startsOf("same").map((start) => start.dueAt);
    const samePhase = jobPhase("same", 10_000);
    expect(same).toHaveLength(Math.floor((85_000 - samePhase) / 10_000) + 1);
    expect(same.every((dueAt, i) => dueAt === START + samePhase + i * 10_000)).toBe(true);

    const changed = startsOf("changed").slice(changedBefore);
    const lastBefore = startsOf("changed")[changedBefore - 1]?.dueAt ?? 0;
    expect(changed.length).toBeGreaterThanOrEqual(2);
    for (const start of changed) expect((start.dueAt - START) % 20_000).toBe(jobPhase("changed", 20_000));
    expect(changed[0]?.dueAt).toBeGreaterThanOrEqual(lastBefore + 20_000);
    expect(changed[1]?.dueAt).toBe((changed[0]?.dueAt ?? 0) + 20_000);

    expect(startsOf("removed")).toHaveLength(1);
    const added = startsOf("added");
    expect(added.length).toBeGreaterThanOrEqual(5);
    expect(added[0]?.dueAt).toBeGreaterThanOrEqual(syncedAt);
    for (const start of added) expect((start.dueAt - START) % 10_000).toBe(jobPhase("added", 10_000));

    expect(errors).toEqual([]);
    expect(scheduler.stats()).toMatchObject({ jobs: 3, inFlight: 0 });
    await scheduler.stop();
  });

  it("changing the interval of 1,000 jobs moves them to new slots without running them all at once", async () => {
    const { scheduler, timers, starts } = setup();
    scheduler.sync(jobs(1_000, 60_000));
    scheduler.start();
    await timers.advance(90_000);
    const before = starts.length;

    scheduler.sync(jobs(1_000, 30_000));
    await timers.advance(60_000);
    const perSecond = new Map<number, number>();
    for (const start of starts.slice(before)) {
      const second = Math.floor(start.startedAt / 1_000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    // About 33 a second on average at the new interval; a thundering herd would be 1,000.
    expect(Math.max(...perSecond.values())).toBeLessThan(100);
    expect(starts.length - before).toBeGreaterThan(1_000);
    await scheduler.stop();
  });

  it("a job removed and added back while its run is still going does not run twice at once", async () => {
    const { scheduler, timers, startsOf, maxInFlight } = setup({
      work: (_key, _context, t) => t.sleep(4_000), // ignores its signal
    });
    scheduler.sync([job("flappy", 1_000, 10_000)]);
    scheduler.start();
    await timers.advance(1_000);
    expect(startsOf("flappy")).toHaveLength(1);
    scheduler.sync([]);
    scheduler.sync([job("flappy", 1_000, 10_000)]);
    await timers.advance(10_000);
    expect(maxInFlight()).toBe(1);
    expect(startsOf("flappy").length).toBeGreaterThan(1);
    const stopped = scheduler.stop();
    await timers.advance(10_000);
    await stopped;
  });

  it("rejects invalid or duplicate jobs and keeps the jobs it had", () => {
    const { scheduler } = setup();
    scheduler.sync([job("a", 1_000)]);
    expect(() => scheduler.sync([job("a", 1_000), job("a", 2_000)])).toThrow(/appears twice/);
    expect(() => scheduler.sync([job("b", 0)])).toThrow(/intervalMs/);
    expect(() => scheduler.sync([job("b", 1_000, Number.NaN)])).toThrow(/timeoutMs/);
    expect(scheduler.stats().jobs).toBe(1);
  });
});

describe("CheckScheduler: runNow", () => {
  it("runs a job at once outside its schedule, resolves when the run ends and keeps the schedule", async () => {
    const { scheduler, timers, clock, startsOf } = setup({
      work: (_key, { signal }, t) => t.sleep(1_000, signal),
    });
    scheduler.sync([job("api", 60_000)]);
    scheduler.start();
    const phase = jobPhase("api", 60_000);
    await timers.advanceTo(START + phase + 10_000);
    expect(startsOf("api")).toHaveLength(1);

    const calledAt = clock.now();
    let outcome: string | undefined;
    void scheduler.runNow("api").then((result) => {
      outcome = result;
    });
    expect(startsOf("api")[1]).toMatchObject({ dueAt: calledAt, startedAt: calledAt, manual: true });
    await timers.advance(999);
    expect(outcome).toBeUndefined();
    await timers.advance(1);
    expect(outcome).toBe("ok");

    await timers.advanceTo(START + phase + 60_000);
    expect(startsOf("api").map((start) => start.dueAt - START)).toEqual([
      phase,
      calledAt - START,
      phase + 60_000,
    ]);
    await scheduler.stop();
  });

  it("waits for the run in flight instead of starting a second one", async () => {
    const { scheduler, timers, startsOf } = setup({ work: (_key, { signal }, t) => t.sleep(1_000, signal) });
    scheduler.sync([job("api", 60_000)]);
    const first = scheduler.runNow("api");
    const second = scheduler.runNow("api");
    await timers.advance(1_000);
    await expect(Promise.all([first, second])).resolves.toEqual(["ok", "ok"]);
    expect(startsOf("api")).toHaveLength(1);
  });

  it("goes ahead of due runs waiting for a slot", async () => {
    const { scheduler, timers, starts } = setup({
      concurrency: 1,
      work: (_key, { signal }, t) => t.sleep(5_000, signal),
    });
    // Slow jobs are due in hours; "frequent" falls due while "blocker" holds the only slot.
    const slow = (key: string) => job(key, 3_600_000 * 1_000, 10_000);
    scheduler.sync([slow("blocker"), slow("manual"), job("frequent", 1_000, 10_000)]);
    scheduler.start();
    const blocker = scheduler.runNow("blocker");
    await timers.advance(1_500);
    expect(scheduler.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    const manual = scheduler.runNow("manual");
    expect(scheduler.stats().queued).toBe(2);
    await timers.advance(3_500);
    expect(starts.map((start) => start.key)).toEqual(["blocker", "manual"]);
    await timers.advance(5_000);
    await expect(Promise.all([blocker, manual])).resolves.toEqual(["ok", "ok"]);
    expect(starts.map((start) => [start.key, start.manual])).toEqual([
      ["blocker", true],
      ["manual", true],
      ["frequent", false],
    ]);
    const stopped = scheduler.stop();
    await timers.advance(0);
    await stopped;
  });

  it("reports a failed run through onError and resolves with its outcome; unknown keys are NOT_FOUND", async () => {
    const { scheduler, errors } = setup({
      work: async () => {
        throw new Error("connection refused");
      },
    });
    scheduler.sync([job("broken", 60_000)]);
    await expect(scheduler.runNow("broken")).resolves.toBe("failed");
    expect(errors.map(({ key, error }) => [key, (error as Error).message])).toEqual([
      ["broken", "connection refused"],
    ]);
    await expect(scheduler.runNow("missing")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("CheckScheduler: stop", () => {
  it("aborts runs in flight, resolves once they settle, and runs nothing afterwards", async () => {
    const { scheduler, timers, starts, errors } = setup({
      work: (_key, { signal }, t) => t.sleep(50_000, signal),
    });
    scheduler.sync(jobs(100, 60_000, 55_000));
    scheduler.start();
    await timers.advance(30_000);
    const inFlight = scheduler.stats().inFlight;
    expect(inFlight).toBeGreaterThan(0);

    let stopped = false;
    const stopping = scheduler.stop().then(() => {
      stopped = true;
    });
    await timers.advance(0);
    expect(stopped).toBe(true);
    await stopping;
    expect(starts.filter((start) => start.signal.aborted)).toHaveLength(inFlight);
    expect(errors).toEqual([]);

    const runs = starts.length;
    await timers.advance(300_000);
    expect(starts).toHaveLength(runs);
    expect(timers.pending).toBe(0);
  });

  it("waits for a run that ignores its signal no longer than its timeout", async () => {
    const { scheduler, timers, errors } = setup({ work: () => hang() });
    scheduler.sync([job("stuck", 1_000, 5_000)]);
    scheduler.start();
    await timers.advance(1_000);
    expect(scheduler.stats().inFlight).toBe(1);

    let stopped = false;
    void scheduler.stop().then(() => {
      stopped = true;
    });
    await timers.advance(3_000);
    expect(stopped).toBe(false);
    await timers.advance(2_000);
    expect(stopped).toBe(true);
    expect(errors).toEqual([]);
    expect(scheduler.stats()).toMatchObject({ inFlight: 0, runs: 1 });
  });
});

describe("CheckScheduler: lag and pauses", () => {
  it("after a pause longer than the interval runs each job once, then at its next aligned slot", async () => {
    const { scheduler, timers, clock, starts, lags } = setup();
    scheduler.sync(jobs(100, 1_000));
    scheduler.start();
    await timers.advance(1_000);
    expect(starts).toHaveLength(100);

    // The event loop was blocked: the clock moves on, no timer fires meanwhile.
    clock.advance(10_500);
    const resumedAt = clock.now();
    await timers.advance(0);
    const afterPause = starts.slice(100);
    expect(afterPause).toHaveLength(100);
    expect(new Set(afterPause.map((start) => start.key)).size).toBe(100);
    expect(afterPause.every((start) => start.startedAt === resumedAt)).toBe(true);
    expect(Math.min(...lags.slice(100).map(({ lagMs }) => lagMs))).toBeGreaterThan(9_000);

    await timers.advance(1_000 - 1);
    const next = starts.slice(200);
    expect(next).toHaveLength(100);
    for (const start of next) {
      expect(start.dueAt).toBeGreaterThan(resumedAt);
      expect((start.dueAt - START) % 1_000).toBe(jobPhase(start.key, 1_000));
    }
    expect(scheduler.stats().overruns).toBe(0);
    await scheduler.stop();
  });

  it("reports the lag of every run, start time minus due time", async () => {
    const { scheduler, timers, starts, lags } = setup({
      concurrency: 1,
      work: (_key, { signal }, t) => t.sleep(700, signal),
    });
    scheduler.sync(jobs(5, 2_000));
    scheduler.start();
    await timers.advance(10_000);
    expect(lags).toHaveLength(starts.length);
    expect(lags).toEqual(starts.map((start) => ({ key: start.key, lagMs: start.startedAt - start.dueAt })));
    expect(lags.some(({ lagMs }) => lagMs > 0)).toBe(true);
    expect(scheduler.stats().lastLagMs).toBe(lags.at(-1)?.lagMs);
    await scheduler.stop();
  });
});

describe("CheckScheduler: robustness", () => {
  it("keeps running on time after the wall clock steps back an hour", async () => {
    const { scheduler, timers, clock, startsOf } = setup();
    scheduler.sync([job("api", 10_000)]);
    scheduler.start();
    await timers.advance(20_000);
    const before = startsOf("api").length;

    timers.stepClock(-3_600_000);
    const steppedAt = clock.now();
    await timers.advance(25_000);
    const after = startsOf("api").slice(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after[0]?.startedAt).toBeGreaterThanOrEqual(steppedAt);
    for (const start of after)
      expect((start.dueAt - START + 3_600_000) % 10_000).toBe(jobPhase("api", 10_000));
    await scheduler.stop();
  });

  it("keeps going when a run throws synchronously or a hook throws", async () => {
    const { scheduler, timers, starts, errors } = setup({
      work: (key) => {
        if (key === "check-0") throw new Error("sync throw");
        return Promise.resolve();
      },
      onLag: () => {
        throw new Error("hook throw");
      },
    });
    scheduler.sync(jobs(2, 1_000));
    scheduler.start();
    await timers.advance(3_000);
    expect(starts).toHaveLength(6);
    const messages = errors.map(({ error }) => (error as Error).message);
    expect(messages.filter((message) => message === "sync throw")).toHaveLength(3);
    expect(messages.filter((message) => message === "hook throw")).toHaveLength(6);
    await scheduler.stop();
  });
});

describe("CheckScheduler: scale", () => {
  it("runs 10,000 jobs each exactly as often as its slots fall in the window", async () => {
    const intervals = [10_000, 15_000, 30_000, 60_000];
    const specs = Array.from({ length: 10_000 }, (_, i) => job(`check-${i}`, intervals[i % 4] ?? 10_000));
    const timers = new SimulatedTimers(new ManualClock(START));
    const runsOf = new Map<string, number>();
    const misaligned: string[] = [];
    const phaseOf = new Map(specs.map((spec) => [spec.key, jobPhase(spec.key, spec.intervalMs)]));
    const intervalOf = new Map(specs.map((spec) => [spec.key, spec.intervalMs]));
    const fast = new CheckScheduler({
      clock: timers.clock,
      timers,
      concurrency: 1_000,
      run: async (key, { dueAt, startedAt }) => {
        runsOf.set(key, (runsOf.get(key) ?? 0) + 1);
        const interval = intervalOf.get(key) ?? 0;
        if ((dueAt - START) % interval !== phaseOf.get(key) || startedAt !== dueAt) misaligned.push(key);
      },
    });
    fast.sync(specs);
    fast.start();
    const window = 120_000;
    await timers.advance(window - 1);

    for (const spec of specs) {
      const phase = phaseOf.get(spec.key) ?? 0;
      expect(runsOf.get(spec.key)).toBe(Math.ceil((window - phase) / spec.intervalMs));
    }
    expect(misaligned).toEqual([]);
    expect(fast.stats()).toMatchObject({ jobs: 10_000, inFlight: 0, queued: 0, overruns: 0 });
    await fast.stop();
  });
});

describe("CheckScheduler: real timers", () => {
  it("runs jobs periodically on the system clock and timers", async () => {
    const counts = new Map<string, number>();
    const scheduler = new CheckScheduler({
      clock: systemClock,
      concurrency: 2,
      run: async (key) => {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      },
    });
    scheduler.sync(jobs(3, 20, 1_000));
    scheduler.start();
    await vi.waitFor(
      () => {
        for (let i = 0; i < 3; i += 1) expect(counts.get(`check-${i}`) ?? 0).toBeGreaterThanOrEqual(2);
      },
      { timeout: 10_000, interval: 10 },
    );
    await scheduler.stop();
    expect(scheduler.stats().inFlight).toBe(0);
  });
});
