import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNines, type NinesApp } from "../../src/app/nines-app.js";
import { loadSettings } from "../../src/app/settings.js";
import type { Clock } from "../../src/platform/clock.js";
import { silentLogger } from "../../src/platform/logger.js";
import { type DialectName, newTestDatabase, type TestDatabase } from "./databases.js";

export const ADMIN_TOKEN = "nines_test-admin-token-0123456789abcdef";

export interface TestApp {
  app: NinesApp;
  database: TestDatabase;
  dataDir: string;
  /** Authorization header for a token. */
  auth(token?: string): { authorization: string };
  /** Stops the server; with keepDatabase, the database stays for another app to open. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/** A real Nines on a fresh database of the given dialect, with a known admin token. */
export async function startTestApp(
  dialect: DialectName,
  options: {
    configPath?: string;
    clock?: Clock;
    anonymousRead?: boolean;
    listen?: boolean;
    database?: TestDatabase;
    uptimeCacheTtlMs?: number;
    /** False: the app's own alerting runtime stays off (tests that mount their own). */
    alerting?: boolean;
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await newTestDatabase(dialect));
  const dataDir = mkdtempSync(join(tmpdir(), "nines-data-"));
  const settings = loadSettings(
    {},
    {
      databaseUrl: database.url,
      dataDir,
      port: "0",
      adminToken: ADMIN_TOKEN,
      configPath: options.configPath,
      anonymousRead: options.anonymousRead ? "true" : undefined,
    },
  );
  const app = await createNines(settings, {
    clock: options.clock,
    log: silentLogger,
    ...(options.uptimeCacheTtlMs === undefined ? {} : { uptimeCacheTtlMs: options.uptimeCacheTtlMs }),
    ...(options.alerting === undefined ? {} : { alerting: options.alerting }),
  });
  if (options.listen) await app.listen();
  return {
    app,
    database,
    dataDir,
    auth: (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` }),
    async close(closeOptions = {}) {
      await app.close();
      if (!closeOptions.keepDatabase) await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
