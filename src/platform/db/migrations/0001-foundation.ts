import type { Kysely, Migration } from "kysely";

// Migrations take an untyped Kysely: they describe the schema as it was at their time, not as it is now.
type AnyDb = Kysely<unknown>;

export const foundation: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("teams")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("display_name", "text")
      .addColumn("description", "text")
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("users")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("email", "text")
      .addColumn("display_name", "text")
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("team_members")
      .addColumn("team_name", "text", (c) => c.notNull().references("teams.name").onDelete("cascade"))
      .addColumn("user_name", "text", (c) => c.notNull().references("users.name").onDelete("cascade"))
      .addPrimaryKeyConstraint("team_members_pk", ["team_name", "user_name"])
      .execute();

    await db.schema
      .createTable("services")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("owner_team", "text", (c) => c.notNull().references("teams.name"))
      .addColumn("tier", "integer", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("runbook_url", "text")
      .addColumn("dashboard_url", "text")
      .addColumn("repository_url", "text")
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("services_owner_team").on("services").column("owner_team").execute();

    await db.schema
      .createTable("service_dependencies")
      .addColumn("service_name", "text", (c) => c.notNull().references("services.name").onDelete("cascade"))
      .addColumn("depends_on", "text", (c) => c.notNull().references("services.name").onDelete("cascade"))
      .addPrimaryKeyConstraint("service_dependencies_pk", ["service_name", "depends_on"])
      .execute();
    await db.schema
      .createIndex("service_dependencies_depends_on")
      .on("service_dependencies")
      .column("depends_on")
      .execute();

    await db.schema
      .createTable("config_objects")
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("document", "text", (c) => c.notNull())
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("revision", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addPrimaryKeyConstraint("config_objects_pk", ["kind", "name"])
      .execute();

    await db.schema
      .createTable("config_revisions")
      .addColumn("revision", "bigint", (c) => c.primaryKey())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("source", "text", (c) => c.notNull())
      .addColumn("content_hash", "text", (c) => c.notNull())
      .addColumn("documents", "text", (c) => c.notNull())
      .addColumn("diff", "text", (c) => c.notNull())
      .addColumn("summary", "text", (c) => c.notNull())
      .addColumn("rollback_of", "bigint")
      .execute();

    await db.schema
      .createTable("api_tokens")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("token_hash", "text", (c) => c.notNull().unique())
      .addColumn("prefix", "text", (c) => c.notNull())
      .addColumn("role", "text", (c) => c.notNull())
      .addColumn("user_name", "text")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint")
      .addColumn("last_used_at", "bigint")
      .addColumn("revoked_at", "bigint")
      .execute();

    await db.schema
      .createTable("audit_log")
      .addColumn("seq", "bigint", (c) => c.primaryKey())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("actor_kind", "text", (c) => c.notNull())
      .addColumn("actor_name", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("object_kind", "text", (c) => c.notNull())
      .addColumn("object_name", "text", (c) => c.notNull())
      .addColumn("before_digest", "text")
      .addColumn("after_digest", "text")
      .addColumn("details", "text")
      .addColumn("request_id", "text")
      .addColumn("prev_hash", "text", (c) => c.notNull())
      .addColumn("hash", "text", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("audit_log_at").on("audit_log").column("at").execute();
  },
};
