import { type Kysely, sql } from "kysely";
import type { Schema } from "./schema.js";

/**
 * Many rows of one table to write at once. With `onConflict`, a row whose `key` columns match a stored row
 * replaces that row's `update` columns (none: the stored row is kept, so writing the same rows twice is
 * harmless). Every row must have the same columns.
 */
export type RowWrite = {
  [T in keyof Schema]: {
    table: T;
    rows: ReadonlyArray<Schema[T]>;
    onConflict?: {
      key: ReadonlyArray<keyof Schema[T] & string>;
      update: ReadonlyArray<keyof Schema[T] & string>;
    };
  };
}[keyof Schema];

export interface WriteRowsOptions {
  /**
   * SQLite writes on the event loop's thread: thousands of rows in one transaction would hold it (and every
   * HTTP request) for tens of milliseconds. Rows are written in transactions of at most this many, with the
   * loop free in between. PostgreSQL writes all in one transaction. Unlimited unless said.
   */
  sliceRows?: number;
}

/**
 * What differs between SQLite and PostgreSQL lives behind this interface, one implementation per dialect
 * (sqlite.ts, postgres.ts), so the rest of the code never branches on the dialect.
 */
export interface DialectAdapter {
  readonly name: "sqlite" | "postgres";
  /**
   * Serialises writers that must not interleave (the audit hash chain, revision numbers) for the rest of the
   * current transaction, across every process that shares the database.
   */
  lockForUpdate(trx: Kysely<Schema>, key: string): Promise<void>;
  /**
   * Writes batches of rows, in order, as cheaply as the dialect allows: SQLite runs one prepared statement
   * per table (kept between calls) row by row, PostgreSQL sends multi-row inserts. Not for use inside a
   * transaction of the caller's: it opens its own.
   */
  writeRows(db: Kysely<Schema>, writes: readonly RowWrite[], options?: WriteRowsOptions): Promise<void>;
}

export interface OpenedDatabase {
  db: Kysely<Schema>;
  adapter: DialectAdapter;
  /** Where the state lives, for logs; never includes a password. */
  description: string;
}

export type QueryObserver = (durationMs: number, failed: boolean) => void;

/** The columns a write names, from its first row: every row of a write has the same ones. */
export function columnsOf(write: RowWrite): string[] {
  const first = write.rows[0];
  return first ? Object.keys(first) : [];
}

/** PostgreSQL takes at most 65,535 parameters a statement; a multi-row insert stays well under. */
const MAX_PARAMETERS = 30_000;

/** The batch writer addresses tables by name, so it sees the schema as untyped rows. */
type Untyped = Kysely<Record<string, Record<string, unknown>>>;

/**
 * Writes batches of rows as multi-row inserts in one transaction, through Kysely: PostgreSQL's writer, and
 * the portable one for code that has no adapter at hand.
 */
export async function writeRowsInOneTransaction(
  db: Kysely<Schema>,
  writes: readonly RowWrite[],
): Promise<void> {
  const pending = writes.filter((w) => w.rows.length > 0);
  if (pending.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const untyped = trx as unknown as Untyped;
    for (const write of pending) {
      const chunk = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, columnsOf(write).length)));
      const rows = write.rows as unknown as ReadonlyArray<Record<string, unknown>>;
      const conflict = write.onConflict;
      for (let i = 0; i < rows.length; i += chunk) {
        const insert = untyped.insertInto(write.table).values(rows.slice(i, i + chunk));
        await (conflict
          ? insert.onConflict((oc) => {
              const target = oc.columns([...conflict.key]);
              return conflict.update.length === 0
                ? target.doNothing()
                : target.doUpdateSet(
                    Object.fromEntries(conflict.update.map((c) => [c, sql.ref(`excluded.${c}`)])),
                  );
            })
          : insert
        ).execute();
      }
    }
  });
}
