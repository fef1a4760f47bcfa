import type { SelectQueryBuilder } from "kysely";
import type { DialectAdapter } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";

type ClaimLock = <O>(
  query: SelectQueryBuilder<Schema, "notification_outbox", O>,
) => SelectQueryBuilder<Schema, "notification_outbox", O>;

/**
 * How due rows are locked while one worker claims them. PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas
 * claiming at once take different rows. SQLite: one writer at a time already, and one process.
 */
export const CLAIM_LOCK: Record<DialectAdapter["name"], ClaimLock> = {
  postgres: (query) => query.forUpdate().skipLocked(),
  sqlite: (query) => query,
};
