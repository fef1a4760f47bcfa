import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  DIALECTS,
  type DialectName,
  newTestDatabase,
  openMigrated,
  type TestDatabase,
} from "../../test/support/databases.js";
import { ManualClock } from "../platform/clock.js";
import { type Ctx, systemActor } from "../platform/context.js";
import type { OpenedDatabase } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";
import { createEventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import { UptimeCache } from "./check-queries.js";
import { bucketStart } from "./rollups.js";

const T0 = Date.UTC(2026, 0, 10, 12, 30);
const TTL = 30_000;

function suite(dialect: DialectName) {
  describe(`check uptimes (${dialect})`, () => {
    let database: TestDatabase;
    let opened: OpenedDatabase;
    let ctx: Ctx;
    const clock = new ManualClock(T0);

    const store = async (check: string, runs: number, failures: number) => {
      const rows: Schema["check_rollups"][] = (["1h", "1d"] as const).map((resolution) => ({
        check_name: check,
        resolution,
        start: bucketStart(clock.now(), resolution),
        runs,
        failures,
        degraded: 0,
        latency_min: null,
        latency_sum: 0,
        latency_max: null,
        latency_histogram: "{}",
      }));
      await opened.adapter.writeRows(opened.db, [
        {
          table: "check_rollups",
          rows,
          onConflict: { key: ["check_name", "resolution", "start"], update: ["runs", "failures"] },
        },
      ]);
    };

    beforeAll(async () => {
      database = await newTestDatabase(dialect);
      opened = await openMigrated(database);
      ctx = {
        actor: systemActor("test"),
        clock,
        db: opened.db,
        adapter: opened.adapter,
        log: silentLogger,
        events: createEventBus(() => {}),
        anonymousRead: false,
      };
      await opened.db
        .insertInto("teams")
        .values({ name: "ops", display_name: null, description: null, spec: "{}", updated_at: T0 })
        .execute();
      await opened.db
        .insertInto("services")
        .values({
          name: "api",
          owner_team: "ops",
          tier: 3,
          description: null,
          runbook_url: null,
          dashboard_url: null,
          repository_url: null,
          spec: "{}",
          updated_at: T0,
        })
        .execute();
      // More checks than one slice of the full computation, so that it takes several.
      for (let i = 0; i < 450; i++) {
        const name = `c-${String(i).padStart(3, "0")}`;
        await opened.db
          .insertInto("checks")
          .values({ name, service_name: "api", type: "http", interval_ms: 1000, spec: "{}", updated_at: T0 })
          .execute();
        await store(name, 10, i % 10);
      }
      // Rollups of a check that is no longer configured are left out.
      await store("removed", 1, 1);
    });

    afterAll(async () => {
      await opened.db.destroy();
      await database.drop();
    });

    it("answers a page at once from a cold cache, and has every check's uptime soon after", async () => {
      const uptime = new UptimeCache(TTL);
      const page = await uptime.get(ctx, ["c-001", "c-002"]);
      expect(page["24h"].get("c-002")).toEqual({ runs: 10, failures: 2 });
      expect(page["30d"].get("c-001")).toEqual({ runs: 10, failures: 1 });
      await vi.waitFor(async () => {
        const all = await uptime.get(ctx, []);
        expect(all["7d"].size).toBe(450);
        expect(all["7d"].has("removed")).toBe(false);
        expect(all["24h"].get("c-449")).toEqual({ runs: 10, failures: 9 });
      });
    });

    it("serves a recent answer at once while a fresh one is computed, and never one older than twice the TTL", async () => {
      const uptime = new UptimeCache(TTL);
      await vi.waitFor(async () => expect((await uptime.get(ctx, []))["24h"].size).toBe(450));
      await store("c-000", 20, 5);
      clock.advance(TTL * 1.5);
      const stale = await uptime.get(ctx, ["c-000"]);
      expect(stale["24h"].get("c-000")).toEqual({ runs: 10, failures: 0 });
      await vi.waitFor(async () =>
        expect((await uptime.get(ctx, ["c-000"]))["24h"].get("c-000")).toEqual({ runs: 20, failures: 5 }),
      );
      await store("c-000", 30, 6);
      clock.advance(TTL * 3);
      const fresh = await uptime.get(ctx, ["c-000"]);
      expect(fresh["24h"].get("c-000")).toEqual({ runs: 30, failures: 6 });
    });
  });
}

for (const dialect of DIALECTS) suite(dialect);
