import { performance } from "node:perf_hooks";
import type { AddressPolicy } from "./address-policy.js";
import { DEFAULT_ADDRESS_POLICY } from "./address-policy.js";
import {
  DEFAULT_TIMEOUT_MS,
  type LookupFn,
  MAX_TIMEOUT_MS,
  type ProbeOptions,
  systemLookup,
} from "./probe-options.js";
import type { PhaseTimings, ProbeFailure, ProbePhase } from "./probe-result.js";

/**
 * The state one probe run carries through its stages: the deadline (as an AbortSignal), the phase it is in
 * (so a timeout says where it happened), the phase timings and the injected dependencies.
 */
export class ProbeRun {
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly timeoutMs: number;
  readonly now: () => number;
  readonly policy: AddressPolicy;
  readonly lookup: LookupFn;
  readonly timings: PhaseTimings = {};
  /** Human words for what the run is doing, for the timeout reason. */
  activity = "starting";
  private readonly t0 = performance.now();
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly external: AbortSignal | undefined;
  private readonly onExternalAbort = (): void => this.controller.abort();

  constructor(options: ProbeOptions) {
    this.now = options.now;
    this.startedAt = options.now();
    this.timeoutMs = Math.min(Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS), MAX_TIMEOUT_MS);
    this.policy = options.addressPolicy ?? DEFAULT_ADDRESS_POLICY;
    this.lookup = options.lookup ?? systemLookup;
    this.signal = this.controller.signal;
    this.timer = setTimeout(() => this.controller.abort(), this.timeoutMs);
    this.external = options.signal;
    if (this.external?.aborted) this.controller.abort();
    else this.external?.addEventListener("abort", this.onExternalAbort, { once: true });
  }

  /** The fields every probe type's result starts with, before anything has happened. */
  emptyResult() {
    return {
      ok: false,
      failure: null,
      startedAt: this.startedAt,
      durationMs: 0,
      timings: this.timings,
      ip: null,
      connected: false,
    };
  }

  /** Milliseconds since the run started, from a monotonic timer. */
  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Starts timing a phase; the returned function stops it and adds the time to the phase's total. */
  startPhase(phase: ProbePhase, activity: string): () => void {
    this.activity = activity;
    const start = performance.now();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.timings[phase] = (this.timings[phase] ?? 0) + (performance.now() - start);
    };
  }

  /** The failure to report once the signal has fired. */
  abortFailure(): ProbeFailure {
    if (this.external?.aborted) return { kind: "aborted", reason: "aborted before the probe finished" };
    return { kind: "timeout", reason: `timeout after ${this.timeoutMs} ms while ${this.activity}` };
  }

  /** Resolves with the promise's value, or with `undefined` as soon as the run is aborted. */
  async race<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | undefined> {
    if (this.signal.aborted) return undefined;
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(undefined);
      this.signal.addEventListener("abort", onAbort, { once: true });
      promise.then(
        (value) => {
          this.signal.removeEventListener("abort", onAbort);
          resolve({ value });
        },
        (error: unknown) => {
          this.signal.removeEventListener("abort", onAbort);
          resolve({ error });
        },
      );
    });
  }

  finish(): void {
    clearTimeout(this.timer);
    this.external?.removeEventListener("abort", this.onExternalAbort);
  }

  /** Runs a probe's body, then stops the run's timer and sets the verdict and the duration on its result. */
  async complete<R extends { failure: ProbeFailure | null; ok: boolean; durationMs: number }>(
    result: R,
    body: () => Promise<ProbeFailure | null>,
  ): Promise<R> {
    try {
      result.failure = await body();
    } finally {
      this.finish();
    }
    result.ok = result.failure === null;
    result.durationMs = this.elapsed();
    return result;
  }
}
