import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { DialectAdapter, OpenedDatabase, QueryObserver } from "./dialect.js";
import type { Schema } from "./schema.js";

const sqliteAdapter: DialectAdapter = {
  name: "sqlite",
  // One process owns the file and Kysely runs one transaction at a time on its single connection, so
  // writers are already serialised.
  lockForUpdate: async () => {},
};

export function openSqlite(path: string, observe?: QueryObserver): OpenedDatabase {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma("journal_mode = WAL");
  // NORMAL in WAL mode survives a crash of the process (kill -9); only a power loss may lose the last commits.
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database }),
    log: observe ? (event) => observe(event.queryDurationMillis, event.level === "error") : undefined,
  });
  return { db, adapter: sqliteAdapter, description: `sqlite:${path}` };
}
