/**
 * Metrics storage for Nines: the `MetricsStore` interface that scrapes, remote_write, check results, the PromQL
 * engine and the Prometheus HTTP API share, and its implementations — in memory (tests), the embedded
 * time-series store (head + write-ahead log + compressed chunks in its own files) and an external
 * Prometheus-compatible database reached by remote_write and its HTTP API.
 */

export {
  AppendError,
  type AppendErrorReason,
  type Appender,
  type MetricsStore,
  type SeriesRequest,
} from "./metrics-store.js";
export { MemoryMetricsStore } from "./memory-metrics-store.js";
export {
  type InstantQueryText,
  localBackend,
  type MetricsBackend,
  type RangeQueryText,
} from "./metrics-backend.js";
export { type RemoteBackend, type RemoteBackendOptions, remoteBackend } from "./remote/remote-backend.js";
export type { RemoteWriteQueueOptions, RemoteWriteStats } from "./remote/remote-write-queue.js";
export {
  type CompactionResult,
  EmbeddedTsdb,
  type EmbeddedTsdbOptions,
  type EmbeddedTsdbStats,
  openEmbeddedTsdb,
  type RetentionResult,
} from "./embedded/index.js";
