import { type Clock, systemClock } from "../../platform/clock.js";
import { NinesError } from "../../platform/errors.js";
import { type Log, silentLogger } from "../../platform/logger.js";
import { isStaleNaN, type Labels, labelsKey } from "../../promql/index.js";
import type { MetricsBackend } from "../metrics-backend.js";
import { AppendError, type Appender } from "../metrics-store.js";
import { RemoteQueryClient } from "./remote-query-client.js";
import {
  type QueuedSeries,
  type RemoteEndpoint,
  RemoteWriteQueue,
  type RemoteWriteQueueOptions,
  type RemoteWriteStats,
} from "./remote-write-queue.js";

export interface RemoteBackendOptions {
  /** The remote_write receiver, e.g. `http://prometheus:9090/api/v1/write`. */
  readonly writeUrl: string;
  /** The base of the Prometheus HTTP API, e.g. `http://prometheus:9090` (Mimir: `http://mimir/prometheus`). */
  readonly queryUrl: string;
  /** Sent with every request, e.g. `X-Scope-OrgID` for Mimir or Cortex tenants. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly bearerToken?: string;
  /** Credentials in a URL (`http://user:pass@host`) are moved here too, since fetch refuses them. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Per remote_write request (Prometheus `remote_timeout`). Default 30 s. */
  readonly writeTimeoutMs?: number;
  /** Evaluation timeout sent with each query (Prometheus `--query.timeout`). Default 2 minutes. */
  readonly queryTimeoutMs?: number;
  /** How long `close()` keeps sending what is queued (Prometheus `flush_deadline`). Default 1 minute. */
  readonly closeTimeoutMs?: number;
  readonly queue?: RemoteWriteQueueOptions;
  readonly log?: Log;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Default "Nines"; the app passes `Nines/<version>`. */
  readonly userAgent?: string;
}

/** The remote backend, with the send queue's counters and a way to wait for what is queued. */
export interface RemoteBackend extends MetricsBackend {
  readonly kind: "remote";
  /** Counters of the remote_write queue, for `/metrics`. */
  stats(): RemoteWriteStats;
  /** Resolves once everything committed before the call was sent, refused or dropped. */
  flush(): Promise<void>;
}

interface SeriesState extends QueuedSeries {
  /** The newest sample this process committed for the series, to refuse out-of-order samples early. */
  last: { t: number; v: number; stale: boolean } | undefined;
}

/**
 * Series whose newest sample is older than this (by the clock) are forgotten, so label churn does not grow
 * memory forever; a later out-of-order sample for them is then refused by the remote instead of here.
 */
const SERIES_IDLE_MS = 60 * 60_000;
const SWEEP_EVERY_MS = 5 * 60_000;

/** Queries get this much longer over HTTP than their evaluation timeout, so the remote's answer wins. */
const QUERY_HTTP_GRACE_MS = 5000;

/**
 * The external backend: samples go out by remote_write to a Prometheus-compatible database (Prometheus,
 * Mimir, Thanos Receive, VictoriaMetrics) and every query is answered by that database's HTTP API, behind
 * the same `MetricsBackend` as the embedded engine.
 *
 * `commit` resolves when the samples are queued in memory, not when the remote has them: durability is the
 * remote's, and samples waiting to be sent (at most the queue's capacity) are lost if the process dies.
 *
 * @example
 * const metrics = remoteBackend({
 *   writeUrl: "http://prometheus:9090/api/v1/write",
 *   queryUrl: "http://prometheus:9090",
 * });
 */
export function remoteBackend(options: RemoteBackendOptions): RemoteBackend {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const log = options.log ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const write = endpointFor(
    "writeUrl",
    options.writeUrl,
    options,
    options.writeTimeoutMs ?? 30_000,
    fetchImpl,
  );
  const queryTimeoutMs = options.queryTimeoutMs ?? 120_000;
  const queryBase = options.queryUrl.endsWith("/") ? options.queryUrl : `${options.queryUrl}/`;
  const query = endpointFor("queryUrl", queryBase, options, queryTimeoutMs + QUERY_HTTP_GRACE_MS, fetchImpl);
  const queue = new RemoteWriteQueue(write, options.queue ?? {}, log, clock);
  const client = new RemoteQueryClient(query, queryTimeoutMs);
  const known = new Map<string, SeriesState>();
  let closed = false;
  let lastSweep = clock.now();

  const sweep = (): void => {
    const now = clock.now();
    if (now - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = now;
    for (const [key, state] of known) {
      if (state.last === undefined || state.last.t < now - SERIES_IDLE_MS) known.delete(key);
    }
  };

  const seriesFor = (labels: Labels): SeriesState => {
    const key = labelsKey(labels);
    let state = known.get(key);
    if (state === undefined) {
      state = { labels, last: undefined };
      known.set(key, state);
    }
    return state;
  };

  const appender = (): Appender => {
    const pending: Array<{ series: SeriesState; t: number; v: number; stale: boolean }> = [];
    const batchNewest = new Map<SeriesState, { t: number; v: number; stale: boolean }>();
    return {
      add: (labels, t, v) => {
        if (!Number.isSafeInteger(t)) {
          throw new AppendError(
            "out_of_bounds",
            labels,
            t,
            "timestamp is not a whole number of milliseconds",
          );
        }
        const series = seriesFor(labels);
        const stale = isStaleNaN(v);
        const last = batchNewest.get(series) ?? series.last;
        if (last !== undefined) {
          if (t < last.t) throw new AppendError("out_of_order", labels, t, "out of order sample");
          if (t === last.t && !sameValue(v, stale, last)) {
            throw new AppendError("duplicate_sample", labels, t, "duplicate sample for timestamp");
          }
        }
        const sample = { t, v, stale };
        batchNewest.set(series, sample);
        pending.push({ series, ...sample });
      },
      commit: async () => {
        if (closed) throw new NinesError("UNAVAILABLE", "The remote metrics backend is closed.");
        for (const p of pending) {
          queue.push(p.series, p.t, p.v, p.stale);
          p.series.last = { t: p.t, v: p.v, stale: p.stale };
        }
        const n = pending.length;
        pending.length = 0;
        batchNewest.clear();
        sweep();
        return n;
      },
      rollback: () => {
        pending.length = 0;
        batchNewest.clear();
      },
    };
  };

  return {
    kind: "remote",
    appender,
    instantQuery: (q) => client.instantQuery(q),
    rangeQuery: (q) => client.rangeQuery(q),
    series: (request) => client.series(request),
    labelNames: (request) => client.labelNames(request),
    labelValues: (name, request) => client.labelValues(name, request),
    stats: () => queue.stats(),
    flush: () => queue.flush(),
    close: async () => {
      if (closed) return;
      closed = true;
      await queue.close(options.closeTimeoutMs ?? 60_000);
      const left = queue.stats();
      if (left.droppedSamples > 0) {
        log.warn({ url: write.displayUrl, droppedSamples: left.droppedSamples }, "remote_write closed");
      }
    },
  };
}

function endpointFor(
  setting: string,
  raw: string,
  options: RemoteBackendOptions,
  timeoutMs: number,
  fetchImpl: typeof fetch,
): RemoteEndpoint {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new NinesError("INVALID_CONFIG", `${setting} is not a URL: give http(s)://host:port/path.`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new NinesError("INVALID_CONFIG", `${setting} must be an http:// or https:// URL.`);
  }
  const headers: Record<string, string> = {
    "User-Agent": options.userAgent ?? "Nines",
    ...options.headers,
  };
  const basic =
    options.basicAuth ??
    (url.username !== ""
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined);
  url.username = "";
  url.password = "";
  if (options.bearerToken !== undefined) headers.Authorization = `Bearer ${options.bearerToken}`;
  else if (basic !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString("base64")}`;
  }
  // Query strings can carry API keys; log lines show only where the backend is.
  const displayUrl = `${url.origin}${url.pathname}`;
  return { url: url.toString(), displayUrl, headers, timeoutMs, fetch: fetchImpl };
}

/** Same value for the duplicate check: a staleness marker equals only another, any NaN another NaN. */
function sameValue(v: number, stale: boolean, last: { v: number; stale: boolean }): boolean {
  if (stale || last.stale) return stale === last.stale;
  if (Number.isNaN(v) || Number.isNaN(last.v)) return Number.isNaN(v) && Number.isNaN(last.v);
  return v === last.v;
}
