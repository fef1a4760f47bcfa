import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The whole /metrics page: the registry, then what domains render themselves. */
export async function renderMetrics(metrics: Metrics): Promise<string> {
  return [await metrics.registry.metrics(), ...metrics.exposition.map((render) => render())].join("");
}

/**
 * Nines's own metrics, in one registry per running instance (so tests can run several side by side).
 * Domains register their metrics on `registry`; /metrics exposes it.
 */
export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<"method" | "route" | "status_code">;
  dbQueryDuration: Histogram<"outcome">;
  /** Text in the exposition format that domains render themselves (one series per check, …), appended to /metrics. */
  exposition: Array<() => string>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and the process CPU and memory series.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const httpRequestDuration = new Histogram({
    name: "nines_http_request_duration_seconds",
    help: "Time to answer HTTP requests, by route template and status.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const dbQueryDuration = new Histogram({
    name: "nines_db_query_duration_seconds",
    help: "Time of state-database queries.",
    labelNames: ["outcome"] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  return { registry, httpRequestDuration, dbQueryDuration, exposition: [] };
}
