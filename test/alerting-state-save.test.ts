import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import type { IncomingAlert } from "../src/alerting/index.js";
import { storeAlerts } from "../src/alerting/intake/alert-store.js";
import { validateAlert } from "../src/alerting/intake/validate-alert.js";
import type { AlertDispatcher } from "../src/alerting/routing/dispatcher.js";
import { parseStoredRequest } from "../src/notify/index.js";
import { ManualClock } from "../src/platform/clock.js";
import { type AlertingTestApp, amConfigYaml, startAlertingApp } from "./alerting-harness.js";
import { DIALECTS, newTestDatabase, type TestDatabase } from "./support/databases.js";
import { outboxRows } from "./support/outbox-rows.js";

/**
 * The routing state is saved by parts (one row per aggregation group, notification log entry and alert
 * record in alerting_state), and a save writes only the parts that changed since the last one.
 */
const T0 = Date.UTC(2026, 5, 1, 12);
/** NINES_ALERTING_SAVE_ALERTS=10000 measures the case of docs/alerting.md (100 groups of 100 alerts). */
const ALERTS = Number(process.env.NINES_ALERTING_SAVE_ALERTS ?? 1000);
const GROUPS = Math.max(1, Math.round(ALERTS / 100));

const alert = (i: number, note = ""): IncomingAlert => ({
  labels: { alertname: `Alert${i % GROUPS}`, instance: `host-${i}:9100`, job: "node" },
  annotations: { summary: `host-${i} is down${note}` },
  startsAt: new Date(T0).toISOString(),
  // Firing for a day: no resolve timeout within a test.
  endsAt: new Date(T0 + 86_400_000).toISOString(),
});

interface Written {
  keys: string[];
  bytes: number;
}

/** The alerting_state rows a save at `at` wrote (every row it writes carries its time). */
async function writtenAt(t: AlertingTestApp, at: number): Promise<Written> {
  const rows = await t.test.app.database.db
    .selectFrom("alerting_state")
    .select(["key", "value"])
    .where("updated_at", "=", at)
    .execute();
  return {
    keys: rows.map((r) => r.key).sort(),
    bytes: rows.reduce((n, r) => n + Buffer.byteLength(r.value), 0),
  };
}

async function stateKeys(t: AlertingTestApp): Promise<string[]> {
  const rows = await t.test.app.database.db.selectFrom("alerting_state").select("key").execute();
  return rows.map((r) => r.key).sort();
}

async function stateBytes(t: AlertingTestApp): Promise<number> {
  const rows = await t.test.app.database.db.selectFrom("alerting_state").select("value").execute();
  return rows.reduce((n, r) => n + Buffer.byteLength(r.value), 0);
}

const dispatcherOf = (t: AlertingTestApp) =>
  (t.runtime as unknown as { dispatcher: AlertDispatcher }).dispatcher;

describe.each(DIALECTS)("routing state saved by parts (%s)", (dialect) => {
  async function started(clock: ManualClock, database?: TestDatabase, configYaml = amConfigYaml()) {
    return startAlertingApp(dialect, { configYaml, clock, ...(database ? { database } : {}) });
  }

  it("rewrites only the changed alert's record and its group when one alert of many changes", async () => {
    const clock = new ManualClock(T0);
    const t = await started(clock);
    try {
      for (let i = 0; i < ALERTS; i += 500)
        await t.runtime.receive(
          Array.from({ length: Math.min(500, ALERTS - i) }, (_, k) => alert(i + k)),
          "api",
        );
      clock.advance(31_000);
      await t.runtime.tick();
      const total = await stateBytes(t);
      expect((await stateKeys(t)).filter((k) => k.startsWith("routing/group:"))).toHaveLength(GROUPS);

      clock.advance(1000);
      const fp = (validateAlert(alert(7), T0) as { fingerprint: string }).fingerprint;
      const started = performance.now();
      await t.runtime.receive([alert(7, " (still)")], "api");
      const ms = performance.now() - started;
      const written = await writtenAt(t, clock.now());
      expect(written.keys).toEqual([
        "routing-meta",
        `routing/alert:${fp}`,
        expect.stringMatching(/^routing\/group:/),
      ]);
      // A figure, not a threshold: the runner's load decides the time.
      console.log(
        `[${dialect}] ${ALERTS} alerts in ${GROUPS} groups, state ${total} bytes; one alert changed: intake and save ${ms.toFixed(1)} ms, ${written.keys.length} rows, ${written.bytes} bytes written`,
      );
      expect(written.bytes).toBeLessThan(total / 20);

      clock.advance(1000);
      await t.runtime.flush();
      expect((await writtenAt(t, clock.now())).keys).toEqual(["routing-meta"]);
    } finally {
      await t.close();
    }
  });

  it("deletes a group's row when the group goes away, and keeps its notification log entry", async () => {
    const clock = new ManualClock(T0);
    const t = await started(clock);
    try {
      await t.runtime.receive([alert(1), alert(2)], "api");
      clock.advance(31_000);
      await t.runtime.tick();
      const groupKeys = (await stateKeys(t)).filter((k) => k.startsWith("routing/group:"));
      expect(groupKeys).toHaveLength(2);
      const resolved = { ...alert(1), endsAt: new Date(clock.now()).toISOString() };
      await t.runtime.receive([resolved], "api");
      clock.advance(5 * 60_000);
      await t.runtime.tick();
      const keys = await stateKeys(t);
      expect(keys.filter((k) => k.startsWith("routing/group:"))).toHaveLength(1);
      expect(keys.filter((k) => k.startsWith("routing/log:"))).toHaveLength(2);
    } finally {
      await t.close();
    }
  });

  it("resumes groups, timers, the notification log and traces from the parts after a crash", async () => {
    const clock = new ManualClock(T0);
    const database = await newTestDatabase(dialect);
    const first = await started(clock, database);
    await first.runtime.receive([alert(1), alert(2), alert(3)], "api");
    clock.advance(31_000);
    await first.runtime.tick();
    // Starting now, it waits group_wait in a new group (an alert that started earlier would flush at once).
    await first.runtime.receive([{ ...alert(4), startsAt: new Date(clock.now()).toISOString() }], "api");
    const groups = first.runtime.groups();
    const fp = (validateAlert(alert(1), T0) as { fingerprint: string }).fingerprint;
    const trace = dispatcherOf(first).traceOf(fp);
    await first.close({ keepDatabase: true, graceful: false });

    clock.advance(1000);
    const second = await started(clock, database);
    try {
      // The save at start compared what it read back with what it resumed: nothing changed, nothing written.
      const atStart = await writtenAt(second, clock.now());
      expect(atStart.keys).toEqual(["routing-meta"]);
      expect(second.runtime.groups()).toEqual(groups);
      expect(dispatcherOf(second).traceOf(fp)).toEqual(trace);
      expect(
        second.runtime
          .alerts()
          .map((a) => a.alert.fingerprint)
          .sort(),
      ).toEqual(
        first.runtime
          .alerts()
          .map((a) => a.alert.fingerprint)
          .sort(),
      );
      // The notification log came back: the next flushes send only what is new (Alert4's group).
      clock.advance(10 * 60_000);
      await second.runtime.tick();
      const outbox = await outboxRows(second.test.app.database.db).execute();
      const firing = outbox.map((r) => {
        const { request } = parseStoredRequest(r.request) as unknown as {
          request: { groupLabels: { alertname: string } };
        };
        return request.groupLabels.alertname;
      });
      expect(firing.sort()).toEqual(["Alert1", "Alert2", "Alert3", "Alert4"]);
    } finally {
      await second.close();
    }
  });

  it("routes again an alert stored after the last save, when the process died before saving", async () => {
    const clock = new ManualClock(T0);
    const database = await newTestDatabase(dialect);
    const first = await started(clock, database);
    await first.runtime.receive([alert(1)], "api");
    // As if intake stored it and the process died before the next save: in the alerts table only.
    const late = validateAlert(alert(2), clock.now());
    if (typeof late === "string") throw new Error(late);
    await storeAlerts(first.test.app.database.db, [late], "api", clock.now(), 300_000);
    await first.close({ keepDatabase: true, graceful: false });

    const second = await started(clock, database);
    try {
      expect(
        second.runtime
          .groups()
          .map((g) => g.labels.alertname)
          .sort(),
      ).toEqual(["Alert1", "Alert2"]);
    } finally {
      await second.close();
    }
  });

  it("reads the one-row snapshot of the previous version, then replaces it by parts", async () => {
    const clock = new ManualClock(T0);
    const database = await newTestDatabase(dialect);
    const first = await started(clock, database);
    await first.runtime.receive([alert(1), alert(2)], "api");
    clock.advance(31_000);
    await first.runtime.tick();
    const groups = first.runtime.groups();
    const db = first.test.app.database.db;
    const legacy = JSON.stringify({ savedAt: clock.now(), snapshot: dispatcherOf(first).snapshot() });
    await db.deleteFrom("alerting_state").execute();
    await db
      .insertInto("alerting_state")
      .values({ key: "routing", value: legacy, updated_at: clock.now() })
      .execute();
    await first.close({ keepDatabase: true, graceful: false });

    const second = await started(clock, database);
    try {
      expect(second.runtime.groups()).toEqual(groups);
      const keys = await stateKeys(second);
      expect(keys).not.toContain("routing");
      expect(keys.filter((k) => k.startsWith("routing/group:"))).toHaveLength(2);
      clock.advance(10 * 60_000);
      await second.runtime.tick();
      // Nothing was sent twice: the log came from the old snapshot.
      expect(
        await second.test.app.database.db.selectFrom("notification_outbox").selectAll().execute(),
      ).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it("keys a group with a very long label value by its hash, and resumes it", async () => {
    const clock = new ManualClock(T0);
    const database = await newTestDatabase(dialect);
    const yaml = amConfigYaml().replace("group_by: [alertname]", "group_by: [alertname, detail]");
    const first = await started(clock, database, yaml);
    const long = {
      labels: { alertname: "Long", detail: "x".repeat(5000) },
      annotations: {},
      endsAt: new Date(T0 + 86_400_000).toISOString(),
    };
    await first.runtime.receive([long], "api");
    clock.advance(31_000);
    await first.runtime.tick();
    const groups = first.runtime.groups();
    const keys = await stateKeys(first);
    // The group's id is its route and a fingerprint of its labels; the log entry's is the whole group key.
    expect(keys.filter((k) => k.startsWith("routing/group:"))).toHaveLength(1);
    expect(keys.filter((k) => k.startsWith("routing/log#"))).toHaveLength(1);
    expect(Math.max(...keys.map((k) => k.length))).toBeLessThan(100);
    await first.close({ keepDatabase: true, graceful: false });

    const second = await started(clock, database, yaml);
    try {
      expect(second.runtime.groups()).toEqual(groups);
      clock.advance(10 * 60_000);
      await second.runtime.tick();
      expect(
        await second.test.app.database.db.selectFrom("notification_outbox").selectAll().execute(),
      ).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe.each(DIALECTS)("groups and alert records saved by period in real time (%s)", (dialect) => {
  const yaml = amConfigYaml({ groupWait: "0s" });
  const now = () => new Date().toISOString();
  const firing = (i: number): IncomingAlert => ({
    labels: { alertname: `Period${i % 3}`, instance: `host-${i}` },
    annotations: {},
    startsAt: now(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  const outboxRows = (t: AlertingTestApp) =>
    t.test.app.database.db.selectFrom("notification_outbox").select("group_hash").execute();
  const groupKeys = async (t: AlertingTestApp) =>
    (await stateKeys(t)).filter((k) => k.startsWith("routing/group:"));
  const recordKeys = async (t: AlertingTestApp) =>
    (await stateKeys(t)).filter((k) => k.startsWith("routing/alert:"));

  it("saves notifications and their log at once, groups and alert records within their period and at stop", async () => {
    const t = await startAlertingApp(dialect, { configYaml: yaml, periodicSaveMs: 300 });
    try {
      await t.runtime.receive([firing(1), firing(2), firing(3)], "api");
      // group_wait 0s: three notifications, saved promptly with the log entries that record them.
      await expect.poll(async () => (await outboxRows(t)).length, { timeout: 5000 }).toBe(3);
      await expect.poll(async () => (await groupKeys(t)).length, { timeout: 5000 }).toBe(3);
      await expect.poll(async () => (await recordKeys(t)).length, { timeout: 5000 }).toBe(3);
    } finally {
      await t.close();
    }
    const slow = await startAlertingApp(dialect, { configYaml: yaml, periodicSaveMs: 3_600_000 });
    try {
      await slow.runtime.receive([firing(4)], "api");
      await expect.poll(async () => (await outboxRows(slow)).length, { timeout: 5000 }).toBe(1);
      await expect
        .poll(async () => (await stateKeys(slow)).filter((k) => k.startsWith("routing/log")).length)
        .toBe(1);
      expect(await groupKeys(slow)).toEqual([]);
      expect(await recordKeys(slow)).toEqual([]);
      await slow.runtime.stop();
      expect(await groupKeys(slow)).toHaveLength(1);
      expect(await recordKeys(slow)).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it("alerts a crash left only in the intake log reach the alerts table and their groups at restart", async () => {
    const database = await newTestDatabase(dialect);
    // No save runs before the crash: no notification is due, and the saves' delays are long.
    const options = { configYaml: amConfigYaml({ groupWait: "30s" }), database, periodicSaveMs: 3_600_000 };
    const first = await startAlertingApp(dialect, { ...options, persistDelayMs: 60_000 });
    await first.runtime.receive([firing(1), firing(2)], "api");
    await first.runtime.receive([{ ...firing(1), annotations: { note: "again" } }], "api");
    const db = first.test.app.database.db;
    // Each intake appended one row before answering; the alerts table takes them at the next save.
    expect(await db.selectFrom("alert_intake_log").select("seq").execute()).toHaveLength(2);
    expect(await db.selectFrom("alerts").selectAll().execute()).toEqual([]);
    await first.close({ keepDatabase: true, graceful: false });

    const second = await startAlertingApp(dialect, options);
    try {
      const after = second.test.app.database.db;
      expect(await after.selectFrom("alert_intake_log").select("seq").execute()).toEqual([]);
      const stored = await after.selectFrom("alerts").select(["labels", "annotations"]).execute();
      expect(stored.map((r) => [JSON.parse(r.labels).instance, JSON.parse(r.annotations)])).toEqual([
        ["host-1", { note: "again" }],
        ["host-2", {}],
      ]);
      expect(
        second.runtime
          .groups()
          .flatMap((g) => g.alerts)
          .sort(),
      ).toHaveLength(2);
    } finally {
      await second.close();
    }
  });

  it("after a crash that lost the groups' and records' last changes, the alerts are routed again and nothing is sent twice", async () => {
    const database = await newTestDatabase(dialect);
    const first = await startAlertingApp(dialect, {
      configYaml: yaml,
      periodicSaveMs: 3_600_000,
      database,
    });
    await first.runtime.receive([firing(1), firing(2), firing(3), firing(4)], "api");
    await expect.poll(async () => (await outboxRows(first)).length, { timeout: 5000 }).toBe(3);
    await expect
      .poll(async () => (await stateKeys(first)).filter((k) => k.startsWith("routing/log")).length)
      .toBe(3);
    const groups = first.runtime.groups().map((g) => [g.groupKey, [...g.alerts].sort()]);
    expect(await groupKeys(first)).toEqual([]);
    expect(await recordKeys(first)).toEqual([]);
    await first.close({ keepDatabase: true, graceful: false });

    const second = await startAlertingApp(dialect, { configYaml: yaml, database });
    try {
      expect(second.runtime.groups().map((g) => [g.groupKey, [...g.alerts].sort()])).toEqual(groups);
      await second.runtime.tick();
      await second.runtime.flush();
      // One notification per group, from before the crash: the log saved with them keeps the flushes quiet.
      const rows = await outboxRows(second);
      expect(rows).toHaveLength(3);
      expect(new Set(rows.map((r) => r.group_hash)).size).toBe(3);
    } finally {
      await second.close();
    }
  });
});
