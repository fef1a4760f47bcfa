import type { Labels, Queryable } from "../promql/index.js";
import type { LabelMatcher } from "../promql/index.js";

/**
 * Why a sample was refused, with Prometheus's meaning: `out_of_order` is older than the newest sample of its
 * series, `duplicate_sample` repeats a timestamp with another value, `out_of_bounds` is older than the store
 * accepts at all (before the head's window or the retention).
 */
export type AppendErrorReason = "out_of_order" | "duplicate_sample" | "out_of_bounds";

/** Thrown by `Appender.add` for a sample the store will not take; the appender stays usable. */
export class AppendError extends Error {
  constructor(
    readonly reason: AppendErrorReason,
    readonly labels: Labels,
    readonly t: number,
    message: string,
  ) {
    super(message);
    this.name = "AppendError";
  }
}

/**
 * A batch of samples written all together or not at all, as Prometheus's `storage.Appender`: a scrape or
 * one remote_write request. `add` checks each sample against the store and the batch so far and throws an
 * `AppendError` for a bad one (the caller decides: a scrape skips and counts it, remote_write rolls back);
 * `commit` makes the batch durable (written to the write-ahead log) and visible to queries.
 */
export interface Appender {
  /** `v` may be `STALE_NAN` to mark the series stale. Labels must be sorted and valid. */
  add(labels: Labels, t: number, v: number): void;
  /** Resolves once the batch is in the write-ahead log and visible; returns the number of samples written. */
  commit(): Promise<number>;
  rollback(): void;
}

/** Which series a metadata query is about: a series matches if it matches any of the matcher sets. */
export interface SeriesRequest {
  /** One list per `match[]`; an empty outer list means every series. */
  readonly matcherSets: readonly (readonly LabelMatcher[])[];
  /** Inclusive bounds in milliseconds; series without samples in the range may still be returned. */
  readonly minT: number;
  readonly maxT: number;
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/**
 * Where Nines keeps samples: the embedded TSDB or an external Prometheus-compatible database. The PromQL
 * engine reads it as a `Queryable`; scrapes, remote_write and check results write through appenders; the
 * Prometheus HTTP API answers metadata queries from it. SLOs and rules do not care which backend it is.
 */
export interface MetricsStore extends Queryable {
  appender(): Appender;
  /** Label sets of the matching series, sorted. */
  series(request: SeriesRequest): Promise<Labels[]>;
  /** Sorted label names of the matching series. */
  labelNames(request: SeriesRequest): Promise<string[]>;
  /** Sorted values of one label over the matching series. */
  labelValues(name: string, request: SeriesRequest): Promise<string[]>;
  /** Flushes what is buffered and releases files and timers. */
  close(): Promise<void>;
}
