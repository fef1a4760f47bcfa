import { resolve } from "node:path";
import type { OpenedDatabase, QueryObserver } from "./dialect.js";
import { openPostgres } from "./postgres.js";
import { openSqlite } from "./sqlite.js";

/**
 * Opens the state database named by a URL: `postgres://…` or `postgresql://…` for PostgreSQL; `sqlite:PATH`,
 * a plain path, or nothing (the data directory's nines.db) for the embedded SQLite default.
 */
export function openDatabase(options: {
  url?: string | undefined;
  dataDir: string;
  observe?: QueryObserver;
}): OpenedDatabase {
  const url = options.url?.trim();
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.observe);
  const path = url ? url.replace(/^sqlite:(\/\/)?/, "") : resolve(options.dataDir, "nines.db");
  return openSqlite(path === ":memory:" ? path : resolve(path), options.observe);
}
