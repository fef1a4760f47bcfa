/**
 * Scraping: Nines pulls metrics from Prometheus exporters like Prometheus does. A `ScrapeConfig` object holds
 * one job in Prometheus's own `scrape_configs` terms (static targets, interval, timeout, auth,
 * metric_relabel_configs); the runtime scrapes each target on its own loop, parses the Prometheus text format
 * or OpenMetrics by Content-Type, and writes the samples, `up` and the other report series, and staleness
 * markers into the metrics backend. A bad page fails its scrape with a reason and never stops the process.
 */
export {
  type ExposedSample,
  ExpositionError,
  type MetricMetadata,
  type MetricType,
  type ParsedPage,
  SCRAPE_ACCEPT_HEADER,
} from "./exposition/exposition.js";
export { parseExposition } from "./exposition/parse-exposition.js";
export { parseOpenMetrics } from "./exposition/openmetrics-parser.js";
export { parsePrometheusText } from "./exposition/prometheus-text-parser.js";
export { RelabelConfig, relabel, compileRelabels } from "./relabel.js";
export {
  ScrapeConfigSpec,
  type ScrapeConfigObject,
  scrapeConfigKind,
  StaticConfig,
} from "./scrape-config-kind.js";
export {
  loadScrapeConfigs,
  ScrapeRuntime,
  type ScrapeRuntimeOptions,
  type ScrapeResult,
  type TargetHealth,
  type TargetStatus,
} from "./scrape-runtime.js";
export { scrapeRoutes } from "./scrape-routes.js";
