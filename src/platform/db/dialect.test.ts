import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DIALECTS,
  type DialectName,
  newTestDatabase,
  openMigrated,
  type TestDatabase,
} from "../../../test/support/databases.js";
import type { OpenedDatabase, RowWrite } from "./dialect.js";
import type { Schema } from "./schema.js";

const STATE_UPDATE = ["status", "since", "updated_at"] as const;

function state(name: string, status: string, at: number): Schema["check_states"] {
  return {
    check_name: name,
    status,
    since: at,
    consecutive_failures: 0,
    consecutive_successes: 0,
    last_run_at: null,
    last_ok: null,
    last_duration_ms: null,
    last_reason: null,
    heartbeat_token: null,
    updated_at: at,
  };
}

function result(id: string, check: string, at: number, reason: string | null = null) {
  return {
    id,
    check_name: check,
    at,
    ok: 1,
    degraded: 0,
    duration_ms: 1.5,
    attempts: 1,
    status_code: 200,
    reason,
    conditions: null,
    timings: '{"connect":0.5}',
  } satisfies Schema["check_results"];
}

function suite(dialect: DialectName) {
  describe(`batch writes (${dialect})`, () => {
    let database: TestDatabase;
    let opened: OpenedDatabase;

    beforeAll(async () => {
      database = await newTestDatabase(dialect);
      opened = await openMigrated(database);
    });

    afterAll(async () => {
      await opened.db.destroy();
      await database.drop();
    });

    it("stores rows of several tables; an upsert changes only the columns it names, a do-nothing keeps the first", async () => {
      const { db, adapter } = opened;
      await adapter.writeRows(db, [
        { table: "check_states", rows: [state("a", "up", 1), state("b", "up", 1)] },
        { table: "check_results", rows: [result("r1", "a", 1, "first")] },
      ]);
      await db
        .updateTable("check_states")
        .set({ heartbeat_token: "tok-a" })
        .where("check_name", "=", "a")
        .execute();
      await adapter.writeRows(
        db,
        [
          {
            table: "check_states",
            rows: [state("a", "down", 2), state("c", "pending", 2)],
            onConflict: { key: ["check_name"], update: STATE_UPDATE },
          },
          {
            table: "check_results",
            rows: [result("r1", "a", 1, "second"), result("r2", "a", 2)],
            onConflict: { key: ["id"], update: [] },
          },
        ],
        { sliceRows: 1 },
      );
      const states = await db.selectFrom("check_states").selectAll().orderBy("check_name").execute();
      expect(states.map((s) => [s.check_name, s.status, s.since, s.heartbeat_token])).toEqual([
        ["a", "down", 2, "tok-a"],
        ["b", "up", 1, null],
        ["c", "pending", 2, null],
      ]);
      const results = await db.selectFrom("check_results").selectAll().orderBy("id").execute();
      expect(results.map((r) => [r.id, r.reason, r.duration_ms])).toEqual([
        ["r1", "first", 1.5],
        ["r2", null, 1.5],
      ]);
    });

    it("a row the database refuses fails the write, and the caller hears of it", async () => {
      const { db, adapter } = opened;
      const bad = { ...state("z", "up", 1), status: null } as unknown as Schema["check_states"];
      await expect(adapter.writeRows(db, [{ table: "check_states", rows: [bad] }])).rejects.toThrow();
      const row = await db
        .selectFrom("check_states")
        .select("check_name")
        .where("check_name", "=", "z")
        .executeTakeFirst();
      expect(row).toBeUndefined();
    });

    if (dialect === "sqlite") {
      it("a long write leaves room between its slices for other queries", async () => {
        const { db, adapter } = opened;
        const rows = Array.from({ length: 2000 }, (_, i) =>
          result(`slice-${String(i).padStart(5, "0")}`, "s", i),
        );
        const order: string[] = [];
        const write: RowWrite = { table: "check_results", rows };
        const writing = adapter.writeRows(db, [write], { sliceRows: 100 }).then(() => order.push("write"));
        // Asked for after the write started: it must not wait for all 20 slices.
        const reading = db
          .selectFrom("check_results")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("check_name", "=", "s")
          .executeTakeFirstOrThrow()
          .then((row) => {
            order.push("read");
            return Number(row.n);
          });
        const [seen] = await Promise.all([reading, writing]);
        expect(order).toEqual(["read", "write"]);
        expect(seen).toBeGreaterThan(0);
        expect(seen).toBeLessThan(rows.length);
      });
    }
  });
}

for (const dialect of DIALECTS) suite(dialect);
