import { describe, expect, it } from "vitest";
import { sloIncoming, validateAlert } from "../src/alerting/index.js";
import { mergeAlert } from "../src/alerting/intake/alert-store.js";
import { ManualClock } from "../src/platform/clock.js";
import { systemActor } from "../src/platform/context.js";
import { type AlertingTestApp, amConfigYaml, startAlertingApp } from "./alerting-harness.js";
import { DIALECTS, newTestDatabase } from "./support/databases.js";

const T0 = Date.UTC(2026, 5, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();

describe("alert validation and merging, as Alertmanager's API does them", () => {
  it("defaults startsAt to endsAt, then to now, and keeps a missing endsAt open", () => {
    expect(validateAlert({ labels: { a: "1" }, annotations: {} }, T0)).toMatchObject({
      startsAt: T0,
      endsAt: null,
    });
    expect(validateAlert({ labels: { a: "1" }, annotations: {}, endsAt: iso(T0 - 5000) }, T0)).toMatchObject({
      startsAt: T0 - 5000,
      endsAt: T0 - 5000,
    });
  });

  it("reports each problem in Alertmanager's words", () => {
    expect(validateAlert({ labels: { a: "" }, annotations: {} }, T0)).toBe(
      "at least one label pair required",
    );
    expect(validateAlert({ labels: { "a.b": "1" }, annotations: {} }, T0)).toBe(
      'invalid label set: invalid name "a.b"',
    );
    expect(validateAlert({ labels: { a: "1" }, annotations: {}, startsAt: "yesterday" }, T0)).toBe(
      "startsAt: not an RFC 3339 time: yesterday",
    );
    expect(validateAlert("nope", T0)).toBe("an alert must be a JSON object");
  });

  it("keeps the earliest start and an explicit later end when a firing update overlaps", () => {
    const stored = {
      fingerprint: "f",
      labels: { a: "1" },
      annotations: {},
      startsAt: T0 - 60_000,
      endsAt: T0 + 600_000,
      generatorURL: null,
      source: "api",
      receivedAt: T0 - 60_000,
      updatedAt: T0 - 60_000,
    };
    const update = { ...stored, startsAt: T0 - 30_000, endsAt: T0 + 120_000 };
    expect(mergeAlert(stored, update, T0, 300_000)).toMatchObject({
      startsAt: T0 - 60_000,
      endsAt: T0 + 600_000,
    });
    const resolve = { ...stored, startsAt: T0 - 30_000, endsAt: T0 };
    expect(mergeAlert(stored, resolve, T0, 300_000)).toMatchObject({ startsAt: T0 - 60_000, endsAt: T0 });
  });

  it("turns an SLO burn tier into an alert that fires until resolved", () => {
    const firing = sloIncoming({
      state: "firing",
      at: T0,
      labels: { alertname: "SloBurn" },
      annotations: {},
    });
    expect(firing.startsAt).toBe(iso(T0));
    expect(Date.parse(firing.endsAt ?? "")).toBeGreaterThan(T0 + 365 * 86_400_000);
    const resolved = sloIncoming({
      state: "resolved",
      at: T0 + 1000,
      labels: { alertname: "SloBurn" },
      annotations: {},
    });
    expect(resolved.endsAt).toBe(iso(T0 + 1000));
  });
});

describe.each(DIALECTS)("alerting runtime wiring (%s)", (dialect) => {
  it("routes alerts stored before an AlertmanagerConfig was applied, once it is", async () => {
    const clock = new ManualClock(T0);
    const t = await startAlertingApp(dialect, { clock });
    try {
      await t.runtime.receive([{ labels: { alertname: "BeforeConfig" }, annotations: {} }], "rules");
      expect(t.runtime.isRouting()).toBe(false);
      const result = await t.test.app.config.apply({
        ctx: t.test.app.ctx(systemActor("test")),
        input: { sources: [{ path: "am.yaml", content: amConfigYaml({ groupWait: "10s" }) }], dryRun: false },
      });
      expect(result.problems).toEqual([]);
      // The reload runs on the "config.applied" event, queued behind intake.
      await t.runtime.flush();
      expect(t.runtime.isRouting()).toBe(true);
      expect(t.runtime.groups().map((g) => g.labels)).toEqual([{ alertname: "BeforeConfig" }]);
      clock.advance(11_000);
      await t.runtime.tick();
      const rows = await t.test.app.database.db.selectFrom("notification_outbox").selectAll().execute();
      expect(rows.map((r) => r.receiver)).toEqual(["hook"]);
    } finally {
      await t.close();
    }
  });

  it("stores requests read in one turn of the event loop in one transaction", async () => {
    // Every reading of this clock is a millisecond later: alerts stored by one intake share its instant.
    let ms = T0;
    const clock = { now: () => ++ms };
    const t = await startAlertingApp(dialect, { clock, schedule: true, configYaml: amConfigYaml() });
    try {
      // As two HTTP requests read in one poll phase: separate callbacks, with microtasks run between them.
      const results = await new Promise<unknown[]>((resolve) => {
        const pending: Array<Promise<unknown>> = [];
        setImmediate(() =>
          pending.push(
            t.runtime.receive([{ labels: { alertname: "Turn", n: "1" }, annotations: {} }], "api"),
          ),
        );
        setImmediate(() => {
          pending.push(
            t.runtime.receive([{ labels: { alertname: "Turn", n: "2" }, annotations: {} }], "api"),
          );
          resolve(Promise.all(pending));
        });
      });
      expect(results).toEqual([
        { accepted: 1, rejected: [] },
        { accepted: 1, rejected: [] },
      ]);
      await t.runtime.flush();
      const rows = await t.test.app.database.db.selectFrom("alerts").select("received_at").execute();
      expect(rows).toHaveLength(2);
      expect(new Set(rows.map((r) => Number(r.received_at))).size).toBe(1);
    } finally {
      await t.close();
    }
  });

  it("answers requests that arrive together each with its own result, stored in arrival order", async () => {
    const clock = new ManualClock(T0);
    const t = await startAlertingApp(dialect, { clock, configYaml: amConfigYaml() });
    try {
      const results = await Promise.all([
        t.runtime.receive([{ labels: { alertname: "Together", n: "1" }, annotations: {} }], "api"),
        t.runtime.receive(
          [
            { labels: {}, annotations: {} },
            { labels: { alertname: "Together", n: "2" }, annotations: {} },
          ],
          "api",
        ),
        t.runtime.receive([{ labels: { "bad-name": "x" }, annotations: {} }], "api"),
        // The same alert again, resolved: it merges after the first request's copy, as consecutive Puts.
        t.runtime.receive(
          [
            {
              labels: { alertname: "Together", n: "1" },
              annotations: {},
              startsAt: iso(T0 - 60_000),
              endsAt: iso(T0),
            },
          ],
          "api",
        ),
      ]);
      expect(results).toEqual([
        { accepted: 1, rejected: [] },
        { accepted: 1, rejected: [{ index: 0, reason: "at least one label pair required" }] },
        { accepted: 0, rejected: [{ index: 0, reason: 'invalid label set: invalid name "bad-name"' }] },
        { accepted: 1, rejected: [] },
      ]);
      const rows = await t.test.app.database.db
        .selectFrom("alerts")
        .select(["labels", "starts_at", "ends_at"])
        .orderBy("labels")
        .execute();
      expect(
        rows.map((r) => [JSON.parse(r.labels).n, Number(r.starts_at), r.ends_at && Number(r.ends_at)]),
      ).toEqual([
        // Stored after the firing copy: the resolve ends it and the earlier start is kept. (The other way
        // round, the firing copy would not overlap the resolved one and would replace it.)
        ["1", T0 - 60_000, T0],
        ["2", T0, null],
      ]);
    } finally {
      await t.close();
    }
  });

  it("applies the configuration's recurring silences, also after a restart", async () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 2, 30));
    const database = await newTestDatabase(dialect);
    const yaml = `${amConfigYaml()}  recurringSilences:
    - name: backups
      matchers: ['job="backup"']
      cron: "0 2 * * *"
      duration: 2h
`;
    const states = async (t: AlertingTestApp) =>
      t.runtime.alerts().map((a) => [a.alert.labels.alertname, a.state, a.silencedBy]);
    const first = await startAlertingApp(dialect, { clock, configYaml: yaml, database });
    await first.runtime.receive(
      [
        { labels: { alertname: "BackupSlow", job: "backup" }, annotations: {} },
        { labels: { alertname: "ApiDown", job: "api" }, annotations: {} },
      ],
      "api",
    );
    const expected = [
      ["BackupSlow", "suppressed", ["recurring:backups"]],
      ["ApiDown", "active", []],
    ];
    expect(await states(first)).toEqual(expected);
    await first.close({ keepDatabase: true });
    const second = await startAlertingApp(dialect, { clock, configYaml: yaml, database });
    try {
      expect(await states(second)).toEqual(expected);
    } finally {
      await second.close();
    }
  });

  it("forgets resolved alerts after the retention of 120 hours", async () => {
    const clock = new ManualClock(T0);
    const t = await startAlertingApp(dialect, { clock, configYaml: amConfigYaml() });
    try {
      await t.runtime.receive(
        [
          { labels: { alertname: "Old" }, annotations: {}, startsAt: iso(T0 - 60_000), endsAt: iso(T0) },
          { labels: { alertname: "Open" }, annotations: {} },
        ],
        "api",
      );
      clock.advance(119 * 3_600_000);
      await t.runtime.receive([{ labels: { alertname: "Open" }, annotations: {} }], "api");
      clock.advance(2 * 3_600_000);
      await t.runtime.flush();
      const names = (await t.test.app.database.db.selectFrom("alerts").select("labels").execute()).map(
        (r) => JSON.parse(r.labels).alertname,
      );
      expect(names).toEqual(["Open"]);
    } finally {
      await t.close();
    }
  });

  it("stores SLO burn alerts published on the event bus", async () => {
    const clock = new ManualClock(T0);
    const t = await startAlertingApp(dialect, { clock, configYaml: amConfigYaml() });
    try {
      // One evaluation publishes several tiers at once; they are received together.
      for (const slo of ["checkout", "search"])
        t.test.app.events.emit("slo.alert", {
          state: "firing",
          at: T0,
          labels: { alertname: "SLOBurnRate", slo, tier: "page" },
          annotations: {},
        });
      await t.runtime.flush();
      const stored = await t.test.app.database.db.selectFrom("alerts").selectAll().execute();
      expect(stored.map((s) => [JSON.parse(s.labels).slo, s.source]).sort()).toEqual([
        ["checkout", "slo"],
        ["search", "slo"],
      ]);
      expect(t.runtime.alerts().map((a) => a.state)).toEqual(["active", "active"]);
    } finally {
      await t.close();
    }
  });
});
