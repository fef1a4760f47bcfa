import { sql } from "kysely";
import { createNines } from "../../app/nines-app.js";
import { loadSettings } from "../../app/settings.js";
import { buildServer } from "../../http/server.js";
import { systemClock } from "../../platform/clock.js";
import { silentLogger } from "../../platform/logger.js";
import { createNotificationOutbox } from "../../notify/index.js";
import { AlertingRuntime } from "../alerting-runtime.js";
import { alertmanagerApiRoutes } from "../api/am-api-routes.js";

/**
 * A Nines server with the alerting runtime and the Alertmanager API on their own port, for the crash tests
 * (test/alerting-kill9.test.ts, bench/alerting/kill9.mjs): it writes outbox rows and delivers nothing, so the
 * test can count them, and it restarts faster than `nines serve` (the whole 20-cycle test: 55 s here against
 * 134 s with `nines serve`), which keeps the cycles inside the test's time bound. Settings come from the environment (NINES_DATA_DIR, NINES_CONFIG, NINES_ADMIN_TOKEN, …);
 * prints `listening <url>` on stdout once it serves. SIGTERM stops it gracefully; SIGKILL is the test.
 */
async function main(): Promise<void> {
  const settings = loadSettings(process.env, { port: "0", host: "127.0.0.1" });
  const app = await createNines(settings, { log: silentLogger, alerting: false });
  const runtime = new AlertingRuntime({
    db: app.database.db,
    clock: systemClock,
    log: app.log,
    events: app.events,
    // Rows only: the crash test checks that every notification reaches the outbox; delivery is the worker's.
    outbox: createNotificationOutbox({ clock: systemClock }),
  });
  await runtime.start();
  const server = await buildServer(
    {
      db: app.database.db,
      adapter: app.database.adapter,
      clock: systemClock,
      log: silentLogger,
      events: app.events,
      metrics: app.metrics,
      anonymousRead: settings.anonymousRead,
      version: "alerting-test-server",
      readiness: async () => {
        await sql`select 1`.execute(app.database.db);
        return { ok: true, checks: {} };
      },
    },
    alertmanagerApiRoutes({ runtime, version: "alerting-test-server" }),
  );
  const url = await server.listen({ host: "127.0.0.1", port: Number(process.env.NINES_ALERTING_PORT ?? 0) });
  process.stdout.write(`listening ${url}\n`);
  process.on("SIGTERM", () => {
    void (async () => {
      await server.close();
      await runtime.stop();
      await app.close();
      process.exit(0);
    })();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
