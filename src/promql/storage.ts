import type { LabelMatcher } from "./parse/ast.js";
import type { Labels } from "./labels.js";

/**
 * What the engine needs from a time-series store. Backends (the in-memory store, the disk TSDB, a remote
 * Prometheus) return every series that matches all matchers with its float samples in `[minT, maxT]`,
 * sorted by time. Staleness markers are returned as samples whose value is `STALE_NAN`.
 */
export interface Queryable {
  select(request: SelectRequest): Promise<readonly Series[]> | readonly Series[];
}

export interface SelectRequest {
  readonly matchers: readonly LabelMatcher[];
  /** Inclusive bounds in milliseconds since the epoch. */
  readonly minT: number;
  readonly maxT: number;
  readonly signal?: AbortSignal;
  /**
   * Where a store may take the returned `timestamps` and `values` arrays from instead of allocating them.
   * They are reused once the query has been evaluated, so the store must not keep them.
   */
  readonly allocate?: (n: number) => Float64Array;
}

export interface Series {
  readonly labels: Labels;
  /** Sample timestamps in milliseconds, ascending. */
  readonly timestamps: ArrayLike<number>;
  /** A `Float64Array` keeps the staleness marker's bit pattern intact; plain arrays may not. */
  readonly values: ArrayLike<number>;
}

const staleBuffer = new DataView(new ArrayBuffer(8));
staleBuffer.setBigUint64(0, 0x7ff0000000000002n);

/**
 * The NaN bit pattern Prometheus writes to mark a series stale. JavaScript engines may canonicalise NaN
 * payloads when values pass through arithmetic, so stores should keep this bit pattern in typed arrays and
 * check it with `isStaleNaN` before doing anything else with the value.
 */
export const STALE_NAN: number = staleBuffer.getFloat64(0);

const probe = new DataView(new ArrayBuffer(8));

export function isStaleNaN(value: number): boolean {
  if (!Number.isNaN(value)) return false;
  probe.setFloat64(0, value);
  return probe.getBigUint64(0) === 0x7ff0000000000002n;
}
