import {
  CLASSIC_LABEL_NAME,
  type Expr,
  isPromqlError,
  type Labels,
  parseExpr,
  PromqlError,
  quoteGo,
} from "../../promql/index.js";
import type { MetricsBackend, SeriesRequest } from "../../tsdb/index.js";
import {
  type ApiParams,
  invalidParam,
  limitParam,
  MAX_TIME,
  MIN_TIME,
  parseDuration,
  parseMatchers,
  parseTime,
  timeParam,
} from "./api-params.js";
import { labelsJson, queryResultJson, successJson } from "./prom-json.js";

/** Query limits, from the server's settings. */
export interface QueryLimits {
  /** Longest a query may run, in milliseconds; a `timeout` parameter can only shorten it. */
  readonly timeoutMs: number;
  /** Samples a query may hold at once; the engine enforces it (see `queryEngineOptions`). */
  readonly maxSamples: number;
}

export interface QueryEnv {
  readonly backend: MetricsBackend;
  readonly limits: QueryLimits;
  /** Now, in milliseconds: the default evaluation time. */
  readonly now: number;
}

/** Prometheus's cap on the points of one series in a range query. */
const MAX_POINTS = 11_000;

/** GET/POST /api/v1/query: returns the success envelope as JSON text, or throws a `PromqlError`. */
export async function instantQueryJson(params: ApiParams, env: QueryEnv): Promise<string> {
  const time = timeParam(params, "time", env.now);
  const timeoutMs = timeoutParam(params, env.limits);
  const lookbackDeltaMs = lookbackParam(params);
  const { query, parsed } = queryParam(params);
  const result = await withDeadline(timeoutMs, (signal) =>
    env.backend.instantQuery({ query, parsed, time, signal, lookbackDeltaMs }),
  );
  return queryResultJson(result);
}

/** GET/POST /api/v1/query_range. */
export async function rangeQueryJson(params: ApiParams, env: QueryEnv): Promise<string> {
  const start = requiredTime(params, "start");
  const end = requiredTime(params, "end");
  if (end < start) throw new PromqlError("bad_data", "end timestamp must not be before start time");
  let stepMs: number;
  try {
    stepMs = parseDuration(params.get("step"));
  } catch (error) {
    throw invalidParam("step", (error as Error).message);
  }
  if (stepMs <= 0) {
    throw invalidParam(
      "step",
      "zero or negative query resolution step widths are not accepted. Try a positive integer",
    );
  }
  if (Math.floor((end - start) / stepMs) > MAX_POINTS) {
    throw new PromqlError(
      "bad_data",
      "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    );
  }
  const timeoutMs = timeoutParam(params, env.limits);
  const lookbackDeltaMs = lookbackParam(params);
  const { query, parsed } = queryParam(params);
  // The engine steps in whole milliseconds, as Prometheus does.
  const step = Math.trunc(stepMs);
  const result = await withDeadline(timeoutMs, (signal) =>
    env.backend.rangeQuery({ query, parsed, start, end, step, signal, lookbackDeltaMs }),
  );
  return queryResultJson(result);
}

/** GET/POST /api/v1/series. */
export async function seriesJson(params: ApiParams, env: QueryEnv): Promise<string> {
  const selectors = params.getAll("match[]");
  if (selectors.length === 0) throw new PromqlError("bad_data", "no match[] parameter provided");
  const request = seriesRequest(params, selectors);
  const { items, truncated } = await limited(request, (r) => env.backend.series(r));
  return successJson(`[${items.map((l: Labels) => labelsJson(l)).join(",")}]`, truncatedWarning(truncated));
}

/** GET/POST /api/v1/labels. */
export async function labelNamesJson(params: ApiParams, env: QueryEnv): Promise<string> {
  const request = seriesRequest(params, params.getAll("match[]"));
  const { items, truncated } = await limited(request, (r) => env.backend.labelNames(r));
  return successJson(JSON.stringify(items), truncatedWarning(truncated));
}

/** GET /api/v1/label/:name/values. */
export async function labelValuesJson(name: string, params: ApiParams, env: QueryEnv): Promise<string> {
  if (!CLASSIC_LABEL_NAME.test(name))
    throw new PromqlError("bad_data", `invalid label name: ${quoteGo(name)}`);
  const request = seriesRequest(params, params.getAll("match[]"));
  const { items, truncated } = await limited(request, (r) => env.backend.labelValues(name, r));
  return successJson(JSON.stringify(items), truncatedWarning(truncated));
}

function seriesRequest(params: ApiParams, selectors: readonly string[]): SeriesRequest {
  const minT = timeParam(params, "start", MIN_TIME);
  const maxT = timeParam(params, "end", MAX_TIME);
  const limit = limitParam(params);
  return { matcherSets: parseMatchers(selectors), minT, maxT, ...(limit > 0 ? { limit } : {}) };
}

/** Asks for one more than the limit, to know whether to warn that the answer was cut. */
async function limited<T>(
  request: SeriesRequest,
  fetch: (request: SeriesRequest) => Promise<T[]>,
): Promise<{ items: T[]; truncated: boolean }> {
  const limit = request.limit;
  if (limit === undefined) return { items: await fetch(request), truncated: false };
  const items = await fetch({ ...request, limit: limit + 1 });
  return items.length > limit
    ? { items: items.slice(0, limit), truncated: true }
    : { items, truncated: false };
}

function truncatedWarning(truncated: boolean): string[] {
  return truncated ? ["results truncated due to limit"] : [];
}

function requiredTime(params: ApiParams, name: string): number {
  try {
    return parseTime(params.get(name));
  } catch (error) {
    throw invalidParam(name, (error as Error).message);
  }
}

function timeoutParam(params: ApiParams, limits: QueryLimits): number {
  const text = params.get("timeout");
  if (text === "") return limits.timeoutMs;
  try {
    return Math.min(parseDuration(text), limits.timeoutMs);
  } catch (error) {
    throw invalidParam("timeout", (error as Error).message);
  }
}

function lookbackParam(params: ApiParams): number | undefined {
  const text = params.get("lookback_delta");
  if (text === "") return undefined;
  try {
    const ms = parseDuration(text);
    return ms > 0 ? ms : undefined;
  } catch (error) {
    throw new PromqlError("bad_data", `error parsing lookback delta duration: ${(error as Error).message}`);
  }
}

/** Parsed queries by their text: dashboards ask the same few queries at every refresh. */
const parsedQueries = new Map<string, Expr>();
const PARSED_QUERIES_KEPT = 500;

/**
 * Parses the query here, so that a syntax error is reported as Prometheus words it, and hands the parsed
 * query on so that the embedded engine does not parse it again. Parsing costs about as much as answering a
 * query for a single series, so recent queries are kept parsed (ASTs are immutable).
 */
function queryParam(params: ApiParams): { query: string; parsed: Expr } {
  const query = params.get("query");
  const cached = parsedQueries.get(query);
  if (cached !== undefined) {
    // Map order is insertion order: re-inserting keeps the most recently used last.
    parsedQueries.delete(query);
    parsedQueries.set(query, cached);
    return { query, parsed: cached };
  }
  let parsed: Expr;
  try {
    parsed = parseExpr(query);
  } catch (error) {
    if (isPromqlError(error) && error.type === "bad_data") throw invalidParam("query", error.message);
    throw error;
  }
  parsedQueries.set(query, parsed);
  if (parsedQueries.size > PARSED_QUERIES_KEPT) {
    const oldest = parsedQueries.keys().next();
    if (oldest.done !== true) parsedQueries.delete(oldest.value);
  }
  return { query, parsed };
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")?.get;

/**
 * Runs a query under a deadline. The embedded engine evaluates synchronously and polls `signal.aborted`,
 * so a timer cannot interrupt it: the signal's `aborted` also reads the clock. A timer still aborts it for
 * backends that wait on I/O. A query stopped by the deadline fails with Prometheus's timeout error.
 */
async function withDeadline<T>(timeoutMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const signal = controller.signal;
  const deadline = performance.now() + timeoutMs;
  if (abortedGetter !== undefined) {
    Object.defineProperty(signal, "aborted", {
      get: () => abortedGetter.call(signal) === true || performance.now() > deadline,
    });
  }
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await run(signal);
  } catch (error) {
    if (isPromqlError(error) && error.type === "canceled" && performance.now() > deadline) {
      throw new PromqlError("timeout", "query timed out in expression evaluation");
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
