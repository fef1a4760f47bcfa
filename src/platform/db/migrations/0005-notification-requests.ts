import type { Kysely, Migration } from "kysely";

type AnyDb = Kysely<unknown>;
type Tables = Kysely<{
  notification_outbox: { id: string; request: string };
  notification_requests: { outbox_id: string; request: string };
}>;

/** Runs `body` in one transaction: Kysely runs PostgreSQL's migrations in one, SQLite's statement by statement. */
async function atomically(db: AnyDb, body: (trx: AnyDb) => Promise<void>): Promise<void> {
  if (db.isTransaction) await body(db);
  else await db.transaction().execute(body);
}

/**
 * Notification requests apart from their outbox rows. A row changes at every claim and attempt; its request
 * (the notification and its alerts, 1 KB to 1 MB) does not, and both databases rewrite a whole row when it
 * changes (SQLite with its overflow pages, into the WAL and again at checkpoint). Requests move to a table
 * of their own, written once with their row and deleted with it (the foreign key cascades).
 */
export const notificationRequests: Migration = {
  async up(db: AnyDb) {
    // One transaction, so a process killed midway leaves the requests where they were.
    await atomically(db, async (trx) => {
      await trx.schema
        .createTable("notification_requests")
        .addColumn("outbox_id", "text", (c) =>
          c.primaryKey().references("notification_outbox.id").onDelete("cascade"),
        )
        .addColumn("request", "text", (c) => c.notNull())
        .execute();
      const tables = trx as unknown as Tables;
      await tables
        .insertInto("notification_requests")
        .columns(["outbox_id", "request"])
        .expression(tables.selectFrom("notification_outbox").select(["id", "request"]))
        .execute();
      await trx.schema.alterTable("notification_outbox").dropColumn("request").execute();
    });
  },
  async down(db: AnyDb) {
    await atomically(db, async (trx) => {
      await trx.schema
        .alterTable("notification_outbox")
        .addColumn("request", "text", (c) => c.notNull().defaultTo(""))
        .execute();
      const tables = trx as unknown as Tables;
      await tables
        .updateTable("notification_outbox")
        .set((eb) => ({
          request: eb
            .selectFrom("notification_requests")
            .select("request")
            .whereRef("notification_requests.outbox_id", "=", "notification_outbox.id"),
        }))
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom("notification_requests")
              .select("outbox_id")
              .whereRef("notification_requests.outbox_id", "=", "notification_outbox.id"),
          ),
        )
        .execute();
      await trx.schema.dropTable("notification_requests").execute();
    });
  },
};
