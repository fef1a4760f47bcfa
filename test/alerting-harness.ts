import { createNotificationOutbox, type NotificationOutbox } from "../src/notify/index.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { AlertingRuntime, alertmanagerApiRoutes } from "../src/alerting/index.js";
import { buildServer, type NinesServer } from "../src/http/server.js";
import { type Clock, systemClock } from "../src/platform/clock.js";
import { silentLogger } from "../src/platform/logger.js";
import type { DialectName, TestDatabase } from "./support/databases.js";
import { ADMIN_TOKEN, startTestApp, type TestApp } from "./support/test-app.js";

/** An AlertmanagerConfig routing everything to one webhook receiver, grouped by alertname. */
export function amConfigYaml(
  options: { groupWait?: string; groupInterval?: string; url?: string } = {},
): string {
  return `apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    route:
      receiver: hook
      group_by: [alertname]
      group_wait: ${options.groupWait ?? "30s"}
      group_interval: ${options.groupInterval ?? "5m"}
      repeat_interval: 4h
    receivers:
      - name: hook
        webhook_configs: [{ url: "${options.url ?? "http://127.0.0.1:9/hook"}" }]
`;
}

export interface AlertingTestApp {
  test: TestApp;
  runtime: AlertingRuntime;
  /** A server with the Alertmanager API routes, over the test app's database and event bus. */
  server: NinesServer;
  url?: string;
  auth(token?: string): { authorization: string };
  /** Stops this server; without graceful, the runtime is dropped without saving (a crash). */
  close(options?: { keepDatabase?: boolean; graceful?: boolean }): Promise<void>;
}

/**
 * A Nines test app plus the alerting runtime and its routes on a second server: until the composition root
 * wires the runtime (src/app), the tests mount it themselves.
 */
export async function startAlertingApp(
  dialect: DialectName,
  options: {
    configYaml?: string;
    anonymousRead?: boolean;
    listen?: boolean;
    database?: TestDatabase;
    clock?: Clock;
    outbox?: NotificationOutbox;
    periodicSaveMs?: number;
    /** Timers and real-time saves; on with the system clock unless said. */
    schedule?: boolean;
    persistDelayMs?: number;
  } = {},
): Promise<AlertingTestApp> {
  const dir = mkdtempSync(join(tmpdir(), "nines-alerting-"));
  let configPath: string | undefined;
  if (options.configYaml !== undefined) {
    configPath = join(dir, "nines.yaml");
    writeFileSync(configPath, options.configYaml);
  }
  const clock = options.clock ?? systemClock;
  const test = await startTestApp(dialect, {
    ...(configPath ? { configPath } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.database ? { database: options.database } : {}),
    anonymousRead: options.anonymousRead ?? false,
    // This harness runs its own runtime (with a recording outbox) on a second server.
    alerting: false,
  });
  const { app } = test;
  const runtime = new AlertingRuntime({
    db: app.database.db,
    clock,
    log: silentLogger,
    events: app.events,
    // The real outbox writes the rows; no worker runs here, so nothing is delivered.
    outbox: options.outbox ?? createNotificationOutbox({ clock }),
    schedule: options.schedule ?? clock === systemClock,
    ...(options.periodicSaveMs === undefined ? {} : { periodicSaveMs: options.periodicSaveMs }),
    ...(options.persistDelayMs === undefined ? {} : { persistDelayMs: options.persistDelayMs }),
  });
  await runtime.start();
  const server = await buildServer(
    {
      db: app.database.db,
      adapter: app.database.adapter,
      clock,
      log: silentLogger,
      events: app.events,
      metrics: app.metrics,
      anonymousRead: options.anonymousRead ?? false,
      version: "test",
      readiness: async () => {
        await sql`select 1`.execute(app.database.db);
        return { ok: true, checks: {} };
      },
    },
    alertmanagerApiRoutes({ runtime, version: "test" }),
  );
  const url = options.listen ? await server.listen({ host: "127.0.0.1", port: 0 }) : undefined;
  return {
    test,
    runtime,
    server,
    ...(url ? { url } : {}),
    auth: (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` }),
    async close(closeOptions = {}) {
      if (closeOptions.graceful !== false) await runtime.stop();
      await server.close();
      await test.close(closeOptions.keepDatabase ? { keepDatabase: true } : {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
