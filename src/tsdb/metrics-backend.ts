import {
  Engine,
  type EngineOptions,
  type Expr,
  type InstantQuery,
  type Labels,
  type QueryResult,
  type RangeQuery,
} from "../promql/index.js";
import type { Appender, MetricsStore, SeriesRequest } from "./metrics-store.js";

/**
 * A query as text: a remote backend sends the text as it is. `parsed`, the same query already parsed, saves
 * the embedded engine parsing a query that runs again and again (SLIs, rules).
 */
export type InstantQueryText = Omit<InstantQuery, "query"> & {
  readonly query: string;
  readonly parsed?: Expr;
};
export type RangeQueryText = Omit<RangeQuery, "query"> & { readonly query: string; readonly parsed?: Expr };

/**
 * What the rest of Nines (the Prometheus HTTP API, recording and alerting rules, SLIs) uses for metrics:
 * somewhere to write samples and something that answers PromQL. Two implementations: `localBackend` (the
 * embedded PromQL engine over a `MetricsStore`) and the remote backend (remote_write out, the database's
 * HTTP query API in), so that rules and SLOs do not care which one runs.
 *
 * Query errors are `PromqlError`s with Prometheus's error types (`bad_data`, `execution`, `timeout`,
 * `canceled`, `too_many_samples`…), whichever backend raised them.
 */
export interface MetricsBackend {
  readonly kind: "embedded" | "remote";
  appender(): Appender;
  instantQuery(query: InstantQueryText): Promise<QueryResult>;
  rangeQuery(query: RangeQueryText): Promise<QueryResult>;
  series(request: SeriesRequest): Promise<Labels[]>;
  labelNames(request: SeriesRequest): Promise<string[]>;
  labelValues(name: string, request: SeriesRequest): Promise<string[]>;
  close(): Promise<void>;
}

/** The embedded backend: Nines's own PromQL engine over a store in this process. */
export function localBackend(store: MetricsStore, engineOptions: EngineOptions = {}): MetricsBackend {
  const engine = new Engine(store, engineOptions);
  return {
    kind: "embedded",
    appender: () => store.appender(),
    instantQuery: (query) => engine.instantQuery({ ...query, query: query.parsed ?? query.query }),
    rangeQuery: (query) => engine.rangeQuery({ ...query, query: query.parsed ?? query.query }),
    series: (request) => store.series(request),
    labelNames: (request) => store.labelNames(request),
    labelValues: (name, request) => store.labelValues(name, request),
    close: () => store.close(),
  };
}
