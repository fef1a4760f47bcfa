import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DIALECTS,
  type DialectName,
  newTestDatabase,
  openMigrated,
  type TestDatabase,
} from "../../test/support/databases.js";
import { ManualClock } from "../platform/clock.js";
import type { DialectAdapter, OpenedDatabase } from "../platform/db/dialect.js";
import { createEventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import type { CheckOutcome } from "./check-outcome.js";
import { type CheckStateChanged, CheckRecorder } from "./check-recorder.js";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 10);
const THRESHOLDS = { failureThreshold: 1, successThreshold: 1 };

function outcome(check: string, at: number, ok: boolean, durationMs = 10): CheckOutcome {
  return {
    check,
    at,
    ok,
    degraded: false,
    durationMs,
    attempts: 1,
    reason: ok ? null : "connection refused",
    statusCode: ok ? 200 : null,
    conditions: [],
    timings: { connect: 1 },
  };
}

function suite(dialect: DialectName) {
  describe(`check recorder (${dialect})`, () => {
    let database: TestDatabase;
    let opened: OpenedDatabase;
    const clock = new ManualClock(T0);
    const recorder = (adapter: DialectAdapter = opened.adapter) => {
      const events = createEventBus(() => {});
      const changes: CheckStateChanged[] = [];
      events.on("check.stateChanged", (e) => {
        changes.push(e);
      });
      const r = new CheckRecorder({ db: opened.db, adapter, clock, log: silentLogger, events });
      return { r, changes };
    };
    const count = async (table: "check_results" | "check_events", check: string) =>
      (await opened.db.selectFrom(table).select("id").where("check_name", "=", check).execute()).length;

    beforeAll(async () => {
      database = await newTestDatabase(dialect);
      opened = await openMigrated(database);
    });

    afterAll(async () => {
      await opened.db.destroy();
      await database.drop();
    });

    it("stores runs, states, state changes and rollups, and tells subscribers once stored", async () => {
      const { r, changes } = recorder();
      r.ensure("web");
      for (let i = 0; i < 600; i++) r.record(outcome("web", T0 + i * 10, i < 300), "api", THRESHOLDS);
      expect(changes).toEqual([]);
      await r.flush({ rollups: true });
      expect(changes.map((c) => [c.from, c.to])).toEqual([
        ["pending", "up"],
        ["up", "down"],
      ]);
      expect(await count("check_results", "web")).toBe(600);
      expect(await count("check_events", "web")).toBe(2);
      const state = await opened.db
        .selectFrom("check_states")
        .selectAll()
        .where("check_name", "=", "web")
        .executeTakeFirstOrThrow();
      expect(state).toMatchObject({ status: "down", consecutive_failures: 300, last_ok: 0 });
      const rollups = await opened.db
        .selectFrom("check_rollups")
        .selectAll()
        .where("check_name", "=", "web")
        .orderBy("resolution")
        .execute();
      expect(rollups.map((row) => [row.resolution, row.runs, row.failures])).toEqual([
        ["1d", 600, 300],
        ["1h", 600, 300],
        ["1m", 600, 300],
      ]);
    });

    it("after a restart inside a bucket, the bucket's counts add to what was stored", async () => {
      const first = recorder().r;
      for (let i = 0; i < 5; i++) first.record(outcome("restart", T0 + i, true), "api", THRESHOLDS);
      await first.stop();
      const second = recorder().r;
      await second.load();
      expect(second.state("restart")).toMatchObject({ status: "up", consecutiveSuccesses: 5 });
      for (let i = 5; i < 8; i++) second.record(outcome("restart", T0 + i, false), "api", THRESHOLDS);
      await second.stop();
      const minute = await opened.db
        .selectFrom("check_rollups")
        .selectAll()
        .where("check_name", "=", "restart")
        .where("resolution", "=", "1m")
        .executeTakeFirstOrThrow();
      expect([minute.runs, minute.failures]).toEqual([8, 3]);
    });

    it("a flush that fails part-way loses nothing and stores nothing twice", async () => {
      let failNext = true;
      const flaky: DialectAdapter = {
        ...opened.adapter,
        async writeRows(db, writes, options) {
          if (!failNext) return opened.adapter.writeRows(db, writes, options);
          failNext = false;
          // The results get in; then the connection drops.
          await opened.adapter.writeRows(db, writes.slice(0, 1), options);
          throw new Error("connection lost");
        },
      };
      const { r, changes } = recorder(flaky);
      for (let i = 0; i < 50; i++) r.record(outcome("flaky", T0 + i, i < 25), "api", THRESHOLDS);
      await expect(r.flush({ rollups: true })).rejects.toThrow("connection lost");
      expect(changes).toEqual([]);
      r.record(outcome("flaky", T0 + 50, true), "api", THRESHOLDS);
      await r.flush({ rollups: true });
      expect(await count("check_results", "flaky")).toBe(51);
      expect(await count("check_events", "flaky")).toBe(3);
      expect(changes.map((c) => c.to)).toEqual(["up", "down", "up"]);
      const minute = await opened.db
        .selectFrom("check_rollups")
        .selectAll()
        .where("check_name", "=", "flaky")
        .where("resolution", "=", "1m")
        .executeTakeFirstOrThrow();
      expect([minute.runs, minute.failures]).toEqual([51, 25]);
    });

    it("writes each check's rollups in its turn, every one of them within a round of flushes", async () => {
      const { r } = recorder();
      const names = Array.from({ length: 40 }, (_, i) => `turn-${i}`);
      for (const name of names) r.record(outcome(name, T0, true), "api", THRESHOLDS);
      const stored = async () =>
        (
          await opened.db
            .selectFrom("check_rollups")
            .select("check_name")
            .where("check_name", "like", "turn-%")
            .where("resolution", "=", "1m")
            .execute()
        ).length;
      await r.flush();
      const afterOne = await stored();
      expect(afterOne).toBeLessThan(names.length);
      for (let i = 1; i < 40; i++) await r.flush();
      expect(await stored()).toBe(names.length);
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
