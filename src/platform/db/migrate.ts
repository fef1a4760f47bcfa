import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import { NinesError } from "../errors.js";
import { foundation } from "./migrations/0001-foundation.js";
import { checks } from "./migrations/0002-checks.js";
import { alerting } from "./migrations/0003-alerting.js";
import { outboxGroups } from "./migrations/0004-outbox-groups.js";
import { notificationRequests } from "./migrations/0005-notification-requests.js";
import { alertIntakeLog } from "./migrations/0006-alert-intake-log.js";
import type { Schema } from "./schema.js";

/** Every migration, in order. Names sort in the order they must run; never rename or edit a shipped one. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-foundation": foundation,
  "0002-checks": checks,
  "0003-alerting": alerting,
  "0004-outbox-groups": outboxGroups,
  "0005-notification-requests": notificationRequests,
  "0006-alert-intake-log": alertIntakeLog,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

function migrator(db: Kysely<Schema>): Migrator {
  return new Migrator({ db, provider, migrationTableName: "nines_migrations" });
}

/** Brings the schema up to date; runs at start-up. Throws (the server must not start) if one fails. */
export async function migrateToLatest(db: Kysely<Schema>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new NinesError(
      "INTERNAL",
      `Database migration ${failed} failed; the database was left as it was.`,
      {
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Brings the schema up to the named migration (tests of a later migration start from the one before). */
export async function migrateTo(db: Kysely<Schema>, name: string): Promise<void> {
  const { error } = await migrator(db).migrateTo(name);
  if (error) throw new NinesError("INTERNAL", `Database migration to ${name} failed.`, { cause: error });
}

/** True when every migration this build knows has been applied; used by /readyz. */
export async function migrationsApplied(db: Kysely<Schema>): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
