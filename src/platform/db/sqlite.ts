import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import SqliteDatabase from "better-sqlite3";
import { type Driver, Kysely, SqliteDialect, type SqliteDialectConfig } from "kysely";
import {
  columnsOf,
  type DialectAdapter,
  type OpenedDatabase,
  type QueryObserver,
  type RowWrite,
} from "./dialect.js";
import type { Schema } from "./schema.js";

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** One insert (or upsert) statement per table and column set, with named parameters (`@column`). */
function insertSql(write: RowWrite, columns: readonly string[]): string {
  let text = `insert into ${quote(write.table)} (${columns.map(quote).join(", ")}) values (${columns.map((c) => `@${c}`).join(", ")})`;
  const conflict = write.onConflict;
  if (conflict) {
    text += ` on conflict (${conflict.key.map(quote).join(", ")}) do `;
    text +=
      conflict.update.length === 0
        ? "nothing"
        : `update set ${conflict.update.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(", ")}`;
  }
  return text;
}

function sqliteAdapter(database: SqliteDatabase.Database): DialectAdapter {
  // Kysely prepares every statement anew; a batch writer that runs the same insert thousands of times a
  // second keeps its statements.
  const statements = new Map<string, SqliteDatabase.Statement>();
  const statementFor = (write: RowWrite): SqliteDatabase.Statement => {
    const columns = columnsOf(write);
    const key = `${write.table}|${columns.join(",")}|${write.onConflict?.key.join(",") ?? ""}|${write.onConflict?.update.join(",") ?? ""}`;
    let statement = statements.get(key);
    if (!statement) {
      statement = database.prepare(insertSql(write, columns));
      statements.set(key, statement);
    }
    return statement;
  };
  const inTransaction = database.transaction((run: () => void) => run());
  return {
    name: "sqlite",
    // One process owns the file and Kysely runs one transaction at a time on its single connection, so
    // writers are already serialised.
    lockForUpdate: async () => {},
    async writeRows(db, writes, options = {}) {
      const slice = Math.max(1, options.sliceRows ?? Number.POSITIVE_INFINITY);
      const jobs = writes
        .filter((w) => w.rows.length > 0)
        .map((w) => ({ statement: statementFor(w), rows: w.rows as ReadonlyArray<object> }));
      let job = 0;
      let row = 0;
      while (job < jobs.length) {
        // Holding Kysely's one connection keeps its transactions out while this slice runs.
        await db.connection().execute(async () => {
          inTransaction(() => {
            for (let n = 0; n < slice; n++) {
              const current = jobs[job];
              if (!current) return;
              current.statement.run(current.rows[row]);
              if (++row >= current.rows.length) {
                job++;
                row = 0;
              }
            }
          });
        });
        if (job < jobs.length) await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

/**
 * Copies the write-ahead log back into the database file from a thread of its own: done by the writer on
 * commit (SQLite's default), a checkpoint holds the event loop for tens of milliseconds at a time once
 * thousands of rows a second are written. PASSIVE: it never waits for, nor blocks, readers or the writer.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma("busy_timeout = 5000");
const timer = setInterval(() => {
  try { db.pragma("wal_checkpoint(PASSIVE)"); } catch {}
}, workerData.everyMs);
parentPort.on("message", () => { clearInterval(timer); db.close(); process.exit(0); });
`;
const CHECKPOINT_EVERY_MS = 1000;
/** SQLite's own default, restored should the checkpoint thread fail. */
const AUTO_CHECKPOINT_PAGES = 1000;

function startCheckpointer(path: string, database: SqliteDatabase.Database): () => Promise<void> {
  database.pragma("wal_autocheckpoint = 0");
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    workerData: {
      module: createRequire(import.meta.url).resolve("better-sqlite3"),
      path,
      everyMs: CHECKPOINT_EVERY_MS,
    },
    resourceLimits: { maxOldGenerationSizeMb: 16 },
  });
  worker.unref();
  let running = true;
  const fallBack = () => {
    if (!running) return;
    running = false;
    if (database.open) database.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  worker.on("error", fallBack);
  worker.on("exit", fallBack);
  return async () => {
    if (!running) return;
    running = false;
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    worker.postMessage("close");
    const timeout = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(timeout);
  };
}

/** How many prepared statements the Kysely connection keeps, by SQL text. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * better-sqlite3 as Kysely sees it, keeping prepared statements by SQL text (least recently used out first):
 * Kysely prepares every query anew, and compiling an upsert cost about as much as running it on the alert
 * intake's path. Safe because Kysely runs one query at a time on this one connection and Nines does not stream.
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (statement !== undefined) {
        statements.delete(sqlText);
      } else {
        statement = database.prepare(sqlText);
        if (statements.size >= STATEMENT_CACHE_SIZE) {
          const oldest = statements.keys().next();
          if (!oldest.done) statements.delete(oldest.value);
        }
      }
      statements.set(sqlText, statement);
      return statement;
    },
    close() {
      database.close();
    },
  };
}

/** Kysely's SQLite dialect, with something to stop before the connection closes. */
class ClosingSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly beforeClose: () => Promise<void>,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const destroy = driver.destroy.bind(driver);
    driver.destroy = async () => {
      await this.beforeClose();
      await destroy();
    };
    return driver;
  }
}

export function openSqlite(path: string, observe?: QueryObserver): OpenedDatabase {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new SqliteDatabase(path);
  database.pragma("journal_mode = WAL");
  // NORMAL in WAL mode survives a crash of the process (kill -9); only a power loss may lose the last commits.
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  database.pragma("busy_timeout = 5000");
  const stopCheckpointer = path === ":memory:" ? async () => {} : startCheckpointer(path, database);
  const db = new Kysely<Schema>({
    dialect: new ClosingSqliteDialect({ database: withStatementCache(database) }, stopCheckpointer),
    log: observe ? (event) => observe(event.queryDurationMillis, event.level === "error") : undefined,
  });
  return { db, adapter: sqliteAdapter(database), description: `sqlite:${path}` };
}
