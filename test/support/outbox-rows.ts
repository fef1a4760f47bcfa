import type { Kysely } from "kysely";
import type { Schema } from "../../src/platform/db/schema.js";

/** Outbox rows with their requests (a table of their own): every row must have one. */
export function outboxRows(db: Kysely<Schema>) {
  return db
    .selectFrom("notification_outbox")
    .innerJoin("notification_requests", "notification_requests.outbox_id", "notification_outbox.id")
    .selectAll("notification_outbox")
    .select("notification_requests.request");
}
