import type { Kysely, Migration } from "kysely";

type AnyDb = Kysely<unknown>;

export const checks: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("checks")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("service_name", "text", (c) => c.notNull().references("services.name"))
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("interval_ms", "bigint", (c) => c.notNull())
      .addColumn("spec", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("checks_service").on("checks").column("service_name").execute();

    await db.schema
      .createTable("check_states")
      .addColumn("check_name", "text", (c) => c.primaryKey())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("since", "bigint", (c) => c.notNull())
      .addColumn("consecutive_failures", "integer", (c) => c.notNull())
      .addColumn("consecutive_successes", "integer", (c) => c.notNull())
      .addColumn("last_run_at", "bigint")
      .addColumn("last_ok", "integer")
      .addColumn("last_duration_ms", "double precision")
      .addColumn("last_reason", "text")
      .addColumn("heartbeat_token", "text", (c) => c.unique())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("check_results")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("check_name", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("ok", "integer", (c) => c.notNull())
      .addColumn("degraded", "integer", (c) => c.notNull())
      .addColumn("duration_ms", "double precision", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("status_code", "integer")
      .addColumn("reason", "text")
      .addColumn("conditions", "text")
      .addColumn("timings", "text")
      .execute();
    await db.schema
      .createIndex("check_results_check_at")
      .on("check_results")
      .columns(["check_name", "at"])
      .execute();
    await db.schema.createIndex("check_results_at").on("check_results").column("at").execute();

    await db.schema
      .createTable("check_rollups")
      .addColumn("check_name", "text", (c) => c.notNull())
      .addColumn("resolution", "text", (c) => c.notNull())
      .addColumn("start", "bigint", (c) => c.notNull())
      .addColumn("runs", "integer", (c) => c.notNull())
      .addColumn("failures", "integer", (c) => c.notNull())
      .addColumn("degraded", "integer", (c) => c.notNull())
      .addColumn("latency_min", "double precision")
      .addColumn("latency_sum", "double precision", (c) => c.notNull())
      .addColumn("latency_max", "double precision")
      .addColumn("latency_histogram", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("check_rollups_pk", ["check_name", "resolution", "start"])
      .execute();
    await db.schema
      .createIndex("check_rollups_resolution_start")
      .on("check_rollups")
      .columns(["resolution", "start"])
      .execute();

    await db.schema
      .createTable("check_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("check_name", "text", (c) => c.notNull())
      .addColumn("at", "bigint", (c) => c.notNull())
      .addColumn("from_status", "text", (c) => c.notNull())
      .addColumn("to_status", "text", (c) => c.notNull())
      .addColumn("reason", "text")
      .execute();
    await db.schema
      .createIndex("check_events_check_at")
      .on("check_events")
      .columns(["check_name", "at"])
      .execute();
  },
};
