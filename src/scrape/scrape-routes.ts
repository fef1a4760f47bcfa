import { z } from "zod";
import { authorize } from "../auth/index.js";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import { formatPromDuration } from "../promql/index.js";
import type { ScrapeRuntime, TargetStatus } from "./scrape-runtime.js";

const ActiveTarget = z.object({
  discoveredLabels: z.record(z.string(), z.string()),
  labels: z.record(z.string(), z.string()),
  scrapePool: z.string(),
  scrapeUrl: z.string(),
  globalUrl: z.string(),
  lastError: z.string(),
  lastScrape: z
    .string()
    .describe("RFC 3339; 0001-01-01T00:00:00Z before the first scrape, as Prometheus says."),
  lastScrapeDuration: z.number(),
  lastSamplesScraped: z.number(),
  health: z.enum(["up", "down", "unknown"]),
  scrapeInterval: z.string(),
  scrapeTimeout: z.string(),
});

const TargetsResponse = z.object({
  status: z.literal("success"),
  data: z.object({ activeTargets: z.array(ActiveTarget), droppedTargets: z.array(z.never()) }),
});

const TargetsQuery = z.object({
  state: z.enum(["active", "dropped", "any"]).default("any"),
  scrapePool: z.string().optional(),
});

function toActiveTarget(t: TargetStatus): z.infer<typeof ActiveTarget> {
  const url = new URL(t.scrapeUrl);
  return {
    discoveredLabels: {
      __address__: url.host,
      __metrics_path__: url.pathname,
      __scheme__: url.protocol.replace(":", ""),
      __scrape_interval__: formatPromDuration(t.scrapeIntervalMs),
      __scrape_timeout__: formatPromDuration(t.scrapeTimeoutMs),
      ...t.labels,
    },
    labels: t.labels,
    scrapePool: t.scrapePool,
    scrapeUrl: t.scrapeUrl,
    globalUrl: t.scrapeUrl,
    lastError: t.lastError,
    lastScrape: t.lastScrape === null ? "0001-01-01T00:00:00Z" : new Date(t.lastScrape).toISOString(),
    lastScrapeDuration: t.lastScrapeDurationSeconds,
    lastSamplesScraped: t.lastSamples,
    health: t.health,
    scrapeInterval: formatPromDuration(t.scrapeIntervalMs),
    scrapeTimeout: formatPromDuration(t.scrapeTimeoutMs),
  };
}

/** Prometheus's GET /api/v1/targets over the scrape runtime: every target with its health and last error. */
export function scrapeRoutes(runtime: ScrapeRuntime): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/targets",
      tag: "scrape",
      summary: "Scrape targets with their health, last scrape and last error, in Prometheus's shape",
      query: TargetsQuery,
      response: TargetsResponse,
      async handler({ ctx, query }) {
        authorize(ctx, "metrics.read");
        const targets =
          query.state === "dropped"
            ? []
            : runtime
                .targetStatuses()
                .filter((t) => query.scrapePool === undefined || t.scrapePool === query.scrapePool);
        return {
          status: "success" as const,
          data: { activeTargets: targets.map(toActiveTarget), droppedTargets: [] },
        };
      },
    }),
  ];
}
