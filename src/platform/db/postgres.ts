import { createRequire } from "node:module";
import { Kysely, PostgresDialect, sql } from "kysely";
import type pg from "pg";
import {
  type DialectAdapter,
  type OpenedDatabase,
  type QueryObserver,
  writeRowsInOneTransaction,
} from "./dialect.js";
import type { Schema } from "./schema.js";

let loaded: typeof pg | undefined;

/** pg is loaded when PostgreSQL is opened: a server on SQLite does not pay for it at every start. */
function loadPg(): typeof pg {
  if (loaded === undefined) {
    loaded = createRequire(import.meta.url)("pg") as typeof pg;
    // int8 (bigint) columns hold epoch milliseconds and sequence numbers, all well inside 2^53.
    loaded.types.setTypeParser(20, (value) => Number(value));
  }
  return loaded;
}

const postgresAdapter: DialectAdapter = {
  name: "postgres",
  lockForUpdate: async (trx, key) => {
    await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
  },
  // Writes go over the network, so the event loop is free meanwhile: one transaction of multi-row inserts.
  writeRows: (db, writes) => writeRowsInOneTransaction(db, writes),
};

export function openPostgres(url: string, observe?: QueryObserver): OpenedDatabase {
  const pool = new (loadPg().Pool)({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const db = new Kysely<Schema>({
    dialect: new PostgresDialect({ pool }),
    log: observe ? (event) => observe(event.queryDurationMillis, event.level === "error") : undefined,
  });
  return { db, adapter: postgresAdapter, description: redactUrl(url) };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}
