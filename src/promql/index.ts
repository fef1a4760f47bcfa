/**
 * PromQL for Nines: the query language that SLIs, alerting rules, recording rules and dashboards are
 * written in. It parses queries with the Prometheus project's own grammar into a typed syntax tree and
 * evaluates them with Prometheus 3 semantics (lookback, staleness, delayed `__name__` removal, vector
 * matching, every stable function) against any `Queryable`: the in-memory store, the embedded TSDB or a
 * remote Prometheus. `runPromqlTestFile` measures the engine against Prometheus's own `.test` files.
 */

export type * from "./parse/ast.js";
export { parseExpr } from "./parse/parse-expr.js";
export { typeOf } from "./parse/check-types.js";
export { FUNCTIONS, type FunctionSignature } from "./parse/functions.js";
export {
  Engine,
  type EngineOptions,
  type FloatPoint,
  type InstantQuery,
  type InstantSample,
  type QueryResult,
  type QueryValue,
  type RangeQuery,
  type RangeSeriesResult,
} from "./eval/engine.js";
export { isStaleNaN, type Queryable, type SelectRequest, type Series, STALE_NAN } from "./storage.js";
export { MemoryStorage, matcherTest } from "./memory-storage.js";
export {
  CLASSIC_LABEL_NAME,
  compareLabels,
  compareStrings,
  formatLabels,
  formatMatchers,
  type Label,
  type Labels,
  labelsFrom,
  labelsKey,
  METRIC_NAME,
} from "./labels.js";
export { isPromqlError, PromqlError, type PromqlErrorType, toNinesError } from "./promql-error.js";
export {
  parseSeriesLine,
  type SequenceValue,
  type SeriesDefinition,
} from "./promqltest/parse-test-file.js";
export {
  runPromqlTest,
  runPromqlTestFile,
  type TestFailure,
  type TestFileResult,
} from "./promqltest/run-test-file.js";
export { compileAnchored, expandTemplate } from "./eval/go-regexp.js";
export { formatDuration as formatPromDuration, quoteGo } from "./parse/literals.js";
