import type { Kysely } from "kysely";
import type { Schema } from "./schema.js";

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
}

export interface OpenedDatabase {
  db: Kysely<Schema>;
  adapter: DialectAdapter;
  /** Where the state lives, for logs; never includes a password. */
  description: string;
}

export type QueryObserver = (durationMs: number, failed: boolean) => void;
