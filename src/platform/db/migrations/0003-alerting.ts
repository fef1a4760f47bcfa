import type { Kysely, Migration } from "kysely";

type AnyDb = Kysely<unknown>;

/**
 * Alerting: alerts as received (stored before the sender gets its 200), silences, the routing state
 * (aggregation groups, timers, notification log) as a snapshot, and the notification outbox with every
 * delivery attempt.
 */
export const alerting: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("alerts")
      .addColumn("fingerprint", "text", (c) => c.primaryKey())
      .addColumn("labels", "text", (c) => c.notNull())
      .addColumn("annotations", "text", (c) => c.notNull())
      .addColumn("starts_at", "bigint", (c) => c.notNull())
      .addColumn("ends_at", "bigint")
      .addColumn("generator_url", "text")
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("received_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("alerts_ends_at").on("alerts").column("ends_at").execute();

    await db.schema
      .createTable("silences")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("matchers", "text", (c) => c.notNull())
      .addColumn("starts_at", "bigint", (c) => c.notNull())
      .addColumn("ends_at", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("comment", "text", (c) => c.notNull())
      /** JSON: a recurrence (time intervals or a cron schedule with a duration), or null for a one-off. */
      .addColumn("recurrence", "text")
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("alerting_state")
      .addColumn("key", "text", (c) => c.primaryKey())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("notification_outbox")
      .addColumn("id", "text", (c) => c.primaryKey())
      /** One per notification and integration: a retried or re-enqueued notification is not sent twice. */
      .addColumn("idempotency_key", "text", (c) => c.notNull().unique())
      .addColumn("receiver", "text", (c) => c.notNull())
      .addColumn("integration", "text", (c) => c.notNull())
      .addColumn("request", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("next_attempt_at", "bigint", (c) => c.notNull())
      .addColumn("last_error", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("notification_outbox_due")
      .on("notification_outbox")
      .columns(["status", "next_attempt_at"])
      .execute();

    await db.schema
      .createTable("notification_attempts")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("outbox_id", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("duration_ms", "double precision", (c) => c.notNull())
      .addColumn("ok", "integer", (c) => c.notNull())
      .addColumn("status_code", "integer")
      /** What the receiver answered (truncated), or why the attempt failed. */
      .addColumn("response", "text")
      .execute();
    await db.schema
      .createIndex("notification_attempts_outbox")
      .on("notification_attempts")
      .columns(["outbox_id", "at"])
      .execute();
  },
  async down(db: AnyDb) {
    for (const table of [
      "notification_attempts",
      "notification_outbox",
      "alerting_state",
      "silences",
      "alerts",
    ])
      await db.schema.dropTable(table).execute();
  },
};
