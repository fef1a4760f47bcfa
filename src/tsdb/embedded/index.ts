/**
 * The embedded time-series store: Nines's own `MetricsStore` for the standalone mode. Samples go to a head of
 * open chunks protected by a write-ahead log, then to Gorilla-compressed chunks in a SQLite file of their own
 * (apart from the state database), found through an in-memory label index; retention by time and size and
 * compaction run in the background. docs/tsdb.md describes the files and the durability bound.
 */

export {
  type CompactionResult,
  EmbeddedTsdb,
  type EmbeddedTsdbOptions,
  type EmbeddedTsdbStats,
  openEmbeddedTsdb,
  type RetentionResult,
} from "./embedded-tsdb.js";
