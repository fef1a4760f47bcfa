import { ManualClock } from "../../platform/clock.js";
import { type HeapItem, MinHeap } from "./min-heap.js";
import type { SchedulerTimers } from "./scheduler-options.js";

class SimulatedTimer implements HeapItem {
  heapIndex = -1;

  constructor(
    public at: number,
    readonly sequence: number,
    readonly callback: () => void,
  ) {}
}

const settlePromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Timers that fire only when `advance` moves their clock, in order of due time, letting promise callbacks
 * run after each one: a day of schedule runs in milliseconds and every run happens at its exact instant.
 * Code under test must use only these timers and the clock, not real I/O or real timers.
 */
export class SimulatedTimers implements SchedulerTimers {
  private readonly queue = new MinHeap<SimulatedTimer>(
    (a, b) => a.at < b.at || (a.at === b.at && a.sequence < b.sequence),
  );
  private sequence = 0;

  constructor(readonly clock: ManualClock = new ManualClock()) {}

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.queue.size;
  }

  setTimeout(callback: () => void, ms: number): SimulatedTimer {
    const timer = new SimulatedTimer(this.clock.now() + Math.max(0, ms), this.sequence++, callback);
    this.queue.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle instanceof SimulatedTimer) this.queue.remove(handle);
  }

  /** Moves the clock forward by `ms`; timers already overdue (the clock was moved directly) fire first. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.clock.now() + ms);
  }

  async advanceTo(target: number): Promise<void> {
    await settlePromises();
    for (
      let timer = this.queue.peek();
      timer !== undefined && timer.at <= target;
      timer = this.queue.peek()
    ) {
      this.queue.pop();
      if (timer.at > this.clock.now()) this.clock.set(timer.at);
      timer.callback();
      await settlePromises();
    }
    if (this.clock.now() < target) this.clock.set(target);
  }

  /**
   * Steps the wall clock by `ms` (negative: back) without moving the timers, as an NTP step does: each
   * pending timer still fires after the delay it was set with.
   */
  stepClock(ms: number): void {
    this.clock.advance(ms);
    // The same shift for every timer keeps the heap in order.
    for (const timer of this.queue.values()) timer.at += ms;
  }

  /** Resolves after `ms` of simulated time; for runs that take time. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = this.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        this.clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
