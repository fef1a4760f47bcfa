import type { Kysely, Migration } from "kysely";

type AnyDb = Kysely<unknown>;

/**
 * The alert intake's log: each intake (the requests read together, one transaction) appends one row holding
 * the alerts it stored, before the senders hear back; the alerts table takes them in bulk at the next routing
 * save, which deletes the rows it applied. Upserting a request's hundred alerts by fingerprint dirtied a
 * random page of the alerts table's index per alert: in a storm that was most of what a commit wrote.
 */
export const alertIntakeLog: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("alert_intake_log")
      /** Increases with every intake of a process, and across restarts (start-up applies and empties the log). */
      .addColumn("seq", "bigint", (c) => c.primaryKey())
      .addColumn("at", "bigint", (c) => c.notNull())
      /** JSON: the alerts as stored, each an array in the alerts table's column order. */
      .addColumn("alerts", "text", (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("alert_intake_log").execute();
  },
};
