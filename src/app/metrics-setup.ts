import { join } from "node:path";
import { Counter, Gauge } from "prom-client";
import type { Clock } from "../platform/clock.js";
import { NinesError } from "../platform/errors.js";
import type { Logger } from "../platform/logger.js";
import type { Metrics } from "../platform/metrics.js";
import { queryEngineOptions } from "../prom-api/index.js";
import {
  type EmbeddedTsdb,
  localBackend,
  type MetricsBackend,
  openEmbeddedTsdb,
  remoteBackend,
} from "../tsdb/index.js";
import type { Settings } from "./settings.js";
import { ninesVersion } from "./version.js";

export interface MetricsSetup {
  backend: MetricsBackend;
  /** The embedded store when Nines keeps samples itself; null with an external database. */
  tsdb: EmbeddedTsdb | null;
}

/**
 * Where samples live: the embedded TSDB under the data directory, or — when both external URLs are set — a
 * Prometheus-compatible database reached by remote_write and its HTTP API. Either way the rest of Nines sees
 * one `MetricsBackend`, and its figures are on /metrics.
 */
export async function openMetrics(
  settings: Settings,
  deps: { clock: Clock; log: Logger; metrics: Metrics },
): Promise<MetricsSetup> {
  const limits = { maxSamples: settings.queryMaxSamples, timeoutMs: settings.queryTimeout };
  const { metricsRemoteWriteUrl: writeUrl, metricsQueryUrl: queryUrl } = settings;
  if ((writeUrl === undefined) !== (queryUrl === undefined)) {
    throw new NinesError(
      "INVALID_INPUT",
      "NINES_METRICS_REMOTE_WRITE_URL and NINES_METRICS_QUERY_URL go together: set both to use an external metrics database, or neither for the embedded one",
    );
  }
  if (writeUrl !== undefined && queryUrl !== undefined) {
    const remote = remoteBackend({
      writeUrl,
      queryUrl,
      ...(settings.metricsBearerToken === undefined ? {} : { bearerToken: settings.metricsBearerToken }),
      queryTimeoutMs: settings.queryTimeout,
      log: deps.log,
      clock: deps.clock,
      userAgent: `Nines/${ninesVersion()}`,
    });
    const stats = () => remote.stats();
    // The queue keeps totals; the counters follow them at each scrape.
    const counter = (name: string, help: string, read: () => number) => {
      let seen = 0;
      return new Counter({
        name,
        help,
        registers: [deps.metrics.registry],
        collect() {
          const now = read();
          if (now > seen) this.inc(now - seen);
          seen = now;
        },
      });
    };
    const gauge = gaugeOf(deps.metrics);
    counter(
      "nines_remote_write_samples_sent_total",
      "Samples the external database accepted.",
      () => stats().sentSamples,
    );
    counter(
      "nines_remote_write_samples_failed_total",
      "Samples it refused (4xx), not retried.",
      () => stats().failedSamples,
    );
    counter(
      "nines_remote_write_samples_retried_total",
      "Samples sent again after a 5xx, 429 or network error.",
      () => stats().retriedSamples,
    );
    counter(
      "nines_remote_write_samples_dropped_total",
      "Samples dropped because the send queue was full.",
      () => stats().droppedSamples,
    );
    gauge("nines_remote_write_samples_pending", "Samples waiting to be sent.", () => stats().pendingSamples);
    deps.log.info(
      { writeUrl: redactUrl(writeUrl), queryUrl: redactUrl(queryUrl) },
      "metrics go to an external database",
    );
    return { backend: remote, tsdb: null };
  }

  const tsdb = await openEmbeddedTsdb({
    dir: join(settings.dataDir, "tsdb"),
    clock: deps.clock,
    log: deps.log,
    retentionMs: settings.tsdbRetention,
    retentionBytes: settings.tsdbRetentionSize,
  });
  const gauge = gaugeOf(deps.metrics);
  gauge("nines_tsdb_series", "Series in the embedded store.", () => tsdb.stats().series);
  gauge(
    "nines_tsdb_head_samples",
    "Samples in memory, not yet in compressed chunks on disk.",
    () => tsdb.stats().headSamples,
  );
  gauge(
    "nines_tsdb_bytes",
    "Bytes the embedded store uses on disk (chunks and write-ahead log).",
    () => tsdb.stats().bytesOnDisk,
  );
  return { backend: localBackend(tsdb, queryEngineOptions(limits)), tsdb };
}

/** A gauge on /metrics that reads its value when scraped. */
function gaugeOf(metrics: Metrics) {
  return (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.set(read());
      },
    });
}

/** A URL for logs: no credentials, no query string. */
function redactUrl(text: string): string {
  const url = new URL(text);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
