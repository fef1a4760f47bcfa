/**
 * Prometheus's protocols, spoken by Nines: the HTTP query API (query, query_range, series, labels, label
 * values, buildinfo) in Prometheus's request and response formats, so that Grafana's Prometheus data source
 * and other API clients work against Nines, and the remote_write 1.0 receiver, so that Prometheus servers,
 * agents and collectors can send samples. Both run over a `MetricsBackend`: the embedded store or a remote
 * Prometheus-compatible database.
 */

export {
  PROMETHEUS_COMPATIBLE_VERSION,
  type PromApiDeps,
  promApiRoutes,
  queryEngineOptions,
} from "./prom-api-routes.js";
export type { QueryLimits } from "./query-api/query-handlers.js";
export { formatTimestamp, formatValue } from "./query-api/prom-json.js";
export {
  REMOTE_WRITE_BODY_LIMIT,
  type RemoteWriteOutcome,
  receiveRemoteWrite,
} from "./remote-write/receive-write.js";
export {
  type DecodedSeries,
  decodeWriteRequest,
  ProtobufError,
} from "./remote-write/write-request-decoder.js";
export {
  type EncodableSeries,
  encodeWriteRequest,
  snappyCompress,
} from "./remote-write/write-request-encoder.js";
