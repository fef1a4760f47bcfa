import { describe, expect, it } from "vitest";
import { ManualClock } from "../platform/clock.js";
import { anonymousActor, type Ctx, systemActor } from "../platform/context.js";
import { createEventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import type { RouteSpec } from "../platform/route.js";
import { MemoryMetricsStore } from "../tsdb/index.js";
import { ScrapeConfigSpec } from "./scrape-config-kind.js";
import { ScrapeRuntime } from "./scrape-runtime.js";
import { scrapeRoutes } from "./scrape-routes.js";

describe("GET /api/v1/targets", () => {
  it("lists targets in Prometheus's shape, before their first scrape as unknown", async () => {
    const runtime = new ScrapeRuntime({
      clock: new ManualClock(),
      log: silentLogger,
      events: createEventBus(() => {}),
      backend: new MemoryMetricsStore(),
      schedule: false,
    });
    await runtime.sync([
      {
        apiVersion: "nines/v1",
        kind: "ScrapeConfig",
        metadata: { name: "node" },
        spec: ScrapeConfigSpec.parse({
          static_configs: [{ targets: ["127.0.0.1:9"], labels: { env: "prod" } }],
          scrape_interval: "1m30s",
        }),
      },
    ]);
    const route = scrapeRoutes(runtime)[0] as RouteSpec;
    const ctx = { actor: systemActor("test"), anonymousRead: false } as unknown as Ctx;
    const body = await route.handler({ ctx, body: undefined, query: { state: "any" }, params: {} });
    expect(route.response.parse(body)).toEqual({
      status: "success",
      data: {
        activeTargets: [
          {
            discoveredLabels: {
              __address__: "127.0.0.1:9",
              __metrics_path__: "/metrics",
              __scheme__: "http",
              __scrape_interval__: "1m30s",
              __scrape_timeout__: "10s",
              env: "prod",
              instance: "127.0.0.1:9",
              job: "node",
            },
            labels: { env: "prod", instance: "127.0.0.1:9", job: "node" },
            scrapePool: "node",
            scrapeUrl: "http://127.0.0.1:9/metrics",
            globalUrl: "http://127.0.0.1:9/metrics",
            lastError: "",
            lastScrape: "0001-01-01T00:00:00Z",
            lastScrapeDuration: 0,
            lastSamplesScraped: 0,
            health: "unknown",
            scrapeInterval: "1m30s",
            scrapeTimeout: "10s",
          },
        ],
        droppedTargets: [],
      },
    });
    const anonymous = { actor: anonymousActor, anonymousRead: false } as unknown as Ctx;
    await expect(
      route.handler({ ctx: anonymous, body: undefined, query: { state: "any" }, params: {} }),
    ).rejects.toThrow(/token/);
  });
});
