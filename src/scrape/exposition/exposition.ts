import type { Labels } from "../../promql/index.js";

/** Metric types as the two formats name them; the Prometheus text format's `untyped` is `unknown` here. */
export type MetricType =
  | "counter"
  | "gauge"
  | "histogram"
  | "gaugehistogram"
  | "summary"
  | "info"
  | "stateset"
  | "unknown";

/** One sample of a page: histograms and summaries arrive as their plain float series (`_bucket`, `_sum`, …). */
export interface ExposedSample {
  /** Sorted, with `__name__`; empty label values are dropped as Prometheus does. */
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds since the epoch when the page gave a timestamp. */
  readonly timestampMs?: number;
}

/** What `# HELP`, `# TYPE` and `# UNIT` said about one metric family. */
export interface MetricMetadata {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

export interface ParsedPage {
  readonly format: "prometheus-text" | "openmetrics";
  readonly samples: ExposedSample[];
  readonly metadata: MetricMetadata[];
}

/** A page that does not follow its format; `line` is 1-based. */
export class ExpositionError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = "ExpositionError";
  }
}

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * What Prometheus 2 sends: OpenMetrics preferred, the text format next. Protocol buffers are not asked for,
 * since Nines reads text only.
 */
export const SCRAPE_ACCEPT_HEADER =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** Which parser a response gets, by its Content-Type as Prometheus decides: OpenMetrics or else the text format. */
export function formatForContentType(contentType: string | undefined): ParsedPage["format"] {
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return media === "application/openmetrics-text" ? "openmetrics" : "prometheus-text";
}
