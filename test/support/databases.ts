import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openDatabase } from "../../src/platform/db/database.js";
import type { OpenedDatabase } from "../../src/platform/db/dialect.js";
import { migrateToLatest } from "../../src/platform/db/migrate.js";

export type DialectName = "sqlite" | "postgres";

/** A fresh, empty database of one dialect, for one test file; drop() removes every trace of it. */
export interface TestDatabase {
  dialect: DialectName;
  url: string;
  drop(): Promise<void>;
}

/**
 * The PostgreSQL server the suites run against: NINES_TEST_PG_URL (.ci/run starts a throwaway cluster and
 * sets it). Without it the PostgreSQL runs are skipped locally, and fail under CI so they cannot go missing.
 */
export const PG_URL = process.env.NINES_TEST_PG_URL;
export const REQUIRE_PG = process.env.CI === "true" || process.env.NINES_TEST_REQUIRE_PG === "1";

export const DIALECTS: DialectName[] = PG_URL || REQUIRE_PG ? ["sqlite", "postgres"] : ["sqlite"];

let counter = 0;

export async function newTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "nines-test-"));
    return {
      dialect,
      url: `sqlite:${join(dir, "nines.db")}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!PG_URL)
    throw new Error("NINES_TEST_PG_URL is not set: the PostgreSQL suites must run in CI (see .ci/run)");
  const name = `nines_test_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  // .ci/run checks this file to be sure the PostgreSQL runs happened.
  if (process.env.NINES_TEST_PG_MARKER) appendFileSync(process.env.NINES_TEST_PG_MARKER, `${name}\n`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** Opens and migrates a test database, as the server does at start-up. */
export async function openMigrated(database: TestDatabase): Promise<OpenedDatabase> {
  const opened = openDatabase({ url: database.url, dataDir: tmpdir() });
  await migrateToLatest(opened.db);
  return opened;
}
