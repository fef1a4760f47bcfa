import { createToken } from "../auth/index.js";
import { buildServer, type NinesServer } from "../http/server.js";
import { type Clock, systemClock } from "../platform/clock.js";
import { type Ctx, systemActor } from "../platform/context.js";
import { openDatabase } from "../platform/db/database.js";
import { migrateToLatest } from "../platform/db/migrate.js";
import { createEventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import { createMetrics } from "../platform/metrics.js";
import { localBackend, MemoryMetricsStore } from "../tsdb/index.js";
import { promApiRoutes, queryEngineOptions } from "./prom-api-routes.js";
import type { QueryLimits } from "./query-api/query-handlers.js";

export interface PromApiTestServer {
  server: NinesServer;
  store: MemoryMetricsStore;
  /** Secrets of tokens with these roles. */
  tokens: { viewer: string; responder: string };
  close(): Promise<void>;
}

/**
 * For tests: the Prometheus routes alone on the real HTTP server, over an in-memory store, with an
 * in-memory state database that holds a viewer and a responder token.
 */
export async function startPromApiTestServer(
  options: { anonymousRead?: boolean; limits?: Partial<QueryLimits>; clock?: Clock } = {},
): Promise<PromApiTestServer> {
  const opened = openDatabase({ url: "sqlite::memory:", dataDir: "." });
  await migrateToLatest(opened.db);
  const clock = options.clock ?? systemClock;
  const events = createEventBus(() => {});
  const ctx: Ctx = {
    actor: systemActor("test"),
    clock,
    db: opened.db,
    adapter: opened.adapter,
    log: silentLogger,
    events,
    anonymousRead: false,
  };
  const viewer = await createToken({ ctx, input: { name: "viewer", role: "viewer" } });
  const responder = await createToken({ ctx, input: { name: "responder", role: "responder" } });
  const limits: QueryLimits = { timeoutMs: 120_000, maxSamples: 50_000_000, ...options.limits };
  const store = new MemoryMetricsStore();
  const backend = localBackend(store, queryEngineOptions(limits));
  const server = await buildServer(
    {
      db: opened.db,
      adapter: opened.adapter,
      clock,
      log: silentLogger,
      events,
      metrics: createMetrics(),
      anonymousRead: options.anonymousRead ?? false,
      version: "test",
      readiness: async () => ({ ok: true, checks: {} }),
    },
    promApiRoutes({ backend: () => backend, limits, version: "0.0.0-test" }),
  );
  return {
    server,
    store,
    tokens: { viewer: viewer.token, responder: responder.token },
    async close() {
      await server.close();
      await opened.db.destroy();
    },
  };
}
