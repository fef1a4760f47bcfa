import { createHash } from "node:crypto";
import type { Kysely, Migration } from "kysely";

type AnyDb = Kysely<unknown>;
type OutboxRows = Kysely<{ notification_outbox: { id: string; request: string; group_hash: string | null } }>;

/**
 * Notifications by aggregation group: an alert's trace records the first of a run of notifications to its
 * group and finds the rest by group and time, so the outbox needs the group as an indexed column. Rows written
 * before this migration get theirs here, computed as the outbox's notificationGroupHash does (a copy, frozen as
 * a shipped migration must be).
 */
export const outboxGroups: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("notification_outbox").addColumn("group_hash", "text").execute();
    await db.schema
      .createIndex("notification_outbox_group")
      .on("notification_outbox")
      .columns(["group_hash", "created_at"])
      .execute();
    const outbox = db as unknown as OutboxRows;
    const rows = await outbox.selectFrom("notification_outbox").select(["id", "request"]).execute();
    for (const row of rows) {
      const request = (JSON.parse(row.request) as { request: { receiver: string; groupKey: string } })
        .request;
      const hash = createHash("sha256")
        .update(request.receiver)
        .update("\n")
        .update(request.groupKey)
        .digest("hex")
        .slice(0, 32);
      await outbox
        .updateTable("notification_outbox")
        .set({ group_hash: hash })
        .where("id", "=", row.id)
        .execute();
    }
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex("notification_outbox_group").execute();
    await db.schema.alterTable("notification_outbox").dropColumn("group_hash").execute();
  },
};
