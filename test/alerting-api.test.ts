import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../src/auth/index.js";
import { parseStoredRequest } from "../src/notify/index.js";
import { ManualClock } from "../src/platform/clock.js";
import { type AlertingTestApp, amConfigYaml, startAlertingApp } from "./alerting-harness.js";
import { DIALECTS, newTestDatabase } from "./support/databases.js";
import { outboxRows } from "./support/outbox-rows.js";

const T0 = Date.UTC(2026, 5, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(DIALECTS)("Alertmanager API v2 (%s)", (dialect) => {
  let t: AlertingTestApp;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(T0);
    t = await startAlertingApp(dialect, { configYaml: amConfigYaml(), clock, anonymousRead: true });
  });
  afterAll(async () => t.close());

  const post = (url: string, body: unknown, auth = true) =>
    t.server.inject({
      method: "POST",
      url,
      headers: { "content-type": "application/json", ...(auth ? t.auth() : {}) },
      payload: JSON.stringify(body),
    });
  const get = async (url: string) => {
    const r = await t.server.inject({ method: "GET", url });
    return { status: r.statusCode, body: r.body === "" ? undefined : JSON.parse(r.body) };
  };

  it("accepts valid alerts with 200 and an empty body, and lists them", async () => {
    const r = await post("/api/v2/alerts", [
      { labels: { alertname: "HighLatency", job: "api" }, annotations: { summary: "slow" } },
    ]);
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe("");
    const list = await get("/api/v2/alerts");
    expect(list.status).toBe(200);
    const alert = list.body.find(
      (a: { labels: Record<string, string> }) => a.labels.alertname === "HighLatency",
    );
    expect(alert).toMatchObject({
      labels: { alertname: "HighLatency", job: "api" },
      annotations: { summary: "slow" },
      startsAt: iso(T0),
      receivers: [{ name: "hook" }],
      status: { state: "active", silencedBy: [], inhibitedBy: [] },
    });
    expect(alert.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses malformed alerts one by one with Alertmanager's reasons and keeps the valid ones", async () => {
    const r = await post("/api/v2/alerts", [
      { labels: {}, annotations: {} },
      { labels: { alertname: "Kept1" }, annotations: {} },
      { labels: { "0bad": "x" }, annotations: {} },
      { labels: { alertname: "Backwards" }, startsAt: iso(T0), endsAt: iso(T0 - 60_000) },
      { labels: { alertname: "BadAnnotation" }, annotations: { "a-b": "x" } },
      { labels: { alertname: "Kept2", empty: "" }, annotations: {} },
    ]);
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body)).toBe(
      [
        "at least one label pair required",
        'invalid label set: invalid name "0bad"',
        "start time must be before end time",
        'invalid annotations: invalid name "a-b"',
      ].join("; "),
    );
    const names = (await get("/api/v2/alerts")).body.map(
      (a: { labels: { alertname: string } }) => a.labels.alertname,
    );
    expect(names).toEqual(expect.arrayContaining(["Kept1", "Kept2"]));
    expect(names).not.toContain("Backwards");
    const stored = await t.test.app.database.db.selectFrom("alerts").select(["labels"]).execute();
    expect(stored.map((s) => JSON.parse(s.labels).alertname)).toEqual(
      expect.arrayContaining(["Kept1", "Kept2"]),
    );
    expect(stored.find((s) => s.labels.includes("Kept2"))?.labels).toBe('{"alertname":"Kept2"}');
  });

  it("answers a body that is not an array with 400 and stores nothing", async () => {
    const r = await post("/api/v2/alerts", { labels: { alertname: "x" } });
    expect(r.statusCode).toBe(400);
  });

  it("needs a token to post alerts; reads follow anonymous-read", async () => {
    const r = await post("/api/v2/alerts", [{ labels: { alertname: "Anon" } }], false);
    expect(r.statusCode).toBe(401);
    expect((await get("/api/v2/alerts")).status).toBe(200);
  });

  it("answers auth failures on /api/v2 as Alertmanager answers errors, with Nines's code in a header", async () => {
    const expectAmError = (r: Awaited<ReturnType<typeof post>>, status: number, code: string) => {
      expect(r.statusCode).toBe(status);
      expect(r.headers["content-type"]).toMatch(/^application\/json/);
      expect(r.headers["x-nines-error-code"]).toBe(code);
      expect(r.headers["x-request-id"]).toEqual(expect.any(String));
      // A JSON string, as go-swagger writes Alertmanager's errors, not Nines's { code, message } object.
      const body: unknown = JSON.parse(r.body);
      expect(typeof body).toBe("string");
      return body as string;
    };
    const noToken = await post("/api/v2/silences", { matchers: [] }, false);
    expect(expectAmError(noToken, 401, "UNAUTHENTICATED")).toMatch(/needs a token/);
    const badScheme = await t.server.inject({
      method: "GET",
      url: "/api/v2/alerts",
      headers: { authorization: "Basic dXNlcjpwYXNz" },
    });
    expect(expectAmError(badScheme, 401, "UNAUTHENTICATED")).toMatch(/Bearer <token>/);
    const unknownToken = await t.server.inject({
      method: "GET",
      url: "/api/v2/status",
      headers: t.auth("nines_not-a-real-token-0123456789abcdef"),
    });
    expectAmError(unknownToken, 401, "UNAUTHENTICATED");

    const admin = t.test.app.ctx({ kind: "token", name: "admin", role: "admin" });
    const viewer = await createToken({ ctx: admin, input: { name: "am-viewer", role: "viewer" } });
    const forbidden = await t.server.inject({
      method: "POST",
      url: "/api/v2/alerts",
      headers: { "content-type": "application/json", ...t.auth(viewer.token) },
      payload: JSON.stringify([{ labels: { alertname: "ByViewer" } }]),
    });
    expect(expectAmError(forbidden, 403, "FORBIDDEN")).not.toBe("");

    // The same server answers its own routes' errors in Nines's shape.
    const own = await t.server.inject({ method: "GET", url: "/api/v1/alerts/0000000000000000/trace" });
    expect(own.statusCode).toBe(404);
    expect(own.json()).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
  });

  it("creates, lists, gets and expires silences, audit-logged, and a silenced alert is suppressed", async () => {
    const r = await post("/api/v2/silences", {
      matchers: [{ name: "alertname", value: "Kept1", isRegex: false, isEqual: true }],
      startsAt: iso(T0),
      endsAt: iso(T0 + 3_600_000),
      createdBy: "alice",
      comment: "maintenance",
    });
    expect(r.statusCode).toBe(200);
    const { silenceID } = JSON.parse(r.body);
    expect(silenceID).toMatch(/^[0-9a-f-]{36}$/);
    const one = await get(`/api/v2/silence/${silenceID}`);
    expect(one.body).toMatchObject({
      id: silenceID,
      status: { state: "active" },
      matchers: [{ name: "alertname", value: "Kept1", isRegex: false, isEqual: true }],
      createdBy: "alice",
      comment: "maintenance",
      startsAt: iso(T0),
      endsAt: iso(T0 + 3_600_000),
    });
    expect((await get("/api/v2/silences?filter=alertname%3DKept1")).body).toHaveLength(1);
    expect((await get("/api/v2/silences?filter=alertname%3DOther")).body).toHaveLength(0);
    const kept1 = (await get("/api/v2/alerts?filter=alertname%3DKept1")).body[0];
    expect(kept1.status).toEqual({ state: "suppressed", silencedBy: [silenceID], inhibitedBy: [] });
    expect(
      (await get("/api/v2/alerts?silenced=false")).body.map(
        (a: { labels: { alertname: string } }) => a.labels.alertname,
      ),
    ).not.toContain("Kept1");

    clock.advance(1000);
    const del = await t.server.inject({
      method: "DELETE",
      url: `/api/v2/silence/${silenceID}`,
      headers: t.auth(),
    });
    expect(del.statusCode).toBe(200);
    expect((await get(`/api/v2/silence/${silenceID}`)).body.status.state).toBe("expired");
    expect((await get("/api/v2/alerts?filter=alertname%3DKept1")).body[0].status.state).toBe("active");
    const missing = await t.server.inject({
      method: "DELETE",
      url: "/api/v2/silence/nope",
      headers: t.auth(),
    });
    expect(missing.statusCode).toBe(404);
    const audit = await t.test.app.database.db
      .selectFrom("audit_log")
      .select(["action", "object_name"])
      .where("object_kind", "=", "Silence")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["silence.create", "silence.expire"]);
  });

  it("refuses a silence that ends in the past, as Alertmanager words it", async () => {
    const r = await post("/api/v2/silences", {
      matchers: [{ name: "a", value: "b", isRegex: false }],
      startsAt: iso(T0 - 7_200_000),
      endsAt: iso(T0 - 3_600_000),
      createdBy: "x",
      comment: "y",
    });
    expect(r.statusCode).toBe(400);
    expect(JSON.parse(r.body)).toContain("end time can't be in the past");
  });

  it("reports status with the configuration as YAML, and the receivers", async () => {
    const status = await get("/api/v2/status");
    expect(status.body.cluster.status).toBe("disabled");
    expect(status.body.config.original).toContain("receiver: hook");
    expect(status.body.versionInfo.version).toBe("test");
    expect(status.body.nines.routing).toBe(true);
    expect((await get("/api/v2/receivers")).body).toEqual([{ name: "hook" }]);
  });

  it("flushes a group after group_wait into the outbox and traces the alert to its notification", async () => {
    await post("/api/v2/alerts", [{ labels: { alertname: "Traced", job: "x" } }]);
    const groups = (await get("/api/v2/alerts/groups")).body;
    const group = groups.find((g: { labels: Record<string, string> }) => g.labels.alertname === "Traced");
    expect(group).toMatchObject({ receiver: { name: "hook" }, labels: { alertname: "Traced" } });
    clock.advance(31_000);
    await t.runtime.tick();
    const rows = await outboxRows(t.test.app.database.db).execute();
    const traced = rows.filter((r) => r.request.includes("Traced"));
    expect(traced).toHaveLength(1);
    expect(traced[0]?.integration).toBe("webhook_configs[0]");
    const fp = group.alerts[0].fingerprint;
    const trace = await t.server.inject({ method: "GET", url: `/api/v1/alerts/${fp}/trace` });
    expect(trace.statusCode).toBe(200);
    const body = JSON.parse(trace.body);
    expect(body.events.map((e: { type: string }) => e.type)).toEqual([
      "received",
      "routed",
      "grouped",
      "notified",
    ]);
    expect(body.notifications).toHaveLength(1);
    expect(body.notifications[0]).toMatchObject({ receiver: "hook", status: "pending", attempts: [] });

    // A second alert joins the group (the first is sent again, still firing): the next flush carries both.
    // The first alert's trace keeps one "notified" event for the run and lists both notifications; the
    // second alert's lists only the one.
    await post("/api/v2/alerts", [
      { labels: { alertname: "Traced", job: "x" } },
      { labels: { alertname: "Traced", job: "y" } },
    ]);
    // To the group's next flush (group_interval 5m after the first), before the resolve timeout.
    clock.advance(299_000);
    await t.runtime.tick();
    const again = JSON.parse(
      (await t.server.inject({ method: "GET", url: `/api/v1/alerts/${fp}/trace` })).body,
    );
    expect(again.events.filter((e: { type: string }) => e.type === "notified")).toHaveLength(1);
    expect(again.notifications).toHaveLength(2);
    const second = (await get("/api/v2/alerts")).body.find(
      (a: { labels: Record<string, string> }) => a.labels.alertname === "Traced" && a.labels.job === "y",
    );
    const secondTrace = JSON.parse(
      (await t.server.inject({ method: "GET", url: `/api/v1/alerts/${second.fingerprint}/trace` })).body,
    );
    expect(secondTrace.notifications.map((n: { id: string }) => n.id)).toEqual([again.notifications[1].id]);

    // Each notification shows its own delivery attempts, in order.
    const [firstId, secondId] = again.notifications.map((n: { id: string }) => n.id);
    const attempt = (id: string, outboxId: string, at: number, ok: number, status: number) => ({
      id,
      outbox_id: outboxId,
      at,
      duration_ms: 12,
      ok,
      status_code: status,
      response: ok ? "ok" : "busy",
    });
    await t.test.app.database.db
      .insertInto("notification_attempts")
      .values([
        attempt("a2", firstId, T0 + 40_000, 1, 200),
        attempt("a1", firstId, T0 + 35_000, 0, 503),
        attempt("a3", secondId, T0 + 340_000, 1, 200),
      ])
      .execute();
    const withAttempts = JSON.parse(
      (await t.server.inject({ method: "GET", url: `/api/v1/alerts/${fp}/trace` })).body,
    );
    expect(
      withAttempts.notifications.map((n: { attempts: Array<{ ok: boolean; statusCode: number }> }) =>
        n.attempts.map((a) => `${a.ok ? "ok" : "failed"} ${a.statusCode}`),
      ),
    ).toEqual([["failed 503", "ok 200"], ["ok 200"]]);
  });
});

describe.each(DIALECTS)("alerting without an AlertmanagerConfig (%s)", (dialect) => {
  it("stores and lists alerts as unprocessed, routes nothing, and says so", async () => {
    const clock = new ManualClock(T0);
    const t = await startAlertingApp(dialect, { clock, anonymousRead: true });
    try {
      const r = await t.server.inject({
        method: "POST",
        url: "/api/v2/alerts",
        headers: { "content-type": "application/json", ...t.auth() },
        payload: JSON.stringify([{ labels: { alertname: "Lonely" } }]),
      });
      expect(r.statusCode).toBe(200);
      const list = JSON.parse((await t.server.inject({ method: "GET", url: "/api/v2/alerts" })).body);
      expect(list[0]).toMatchObject({ receivers: [], status: { state: "unprocessed" } });
      clock.advance(3_600_000);
      await t.runtime.tick();
      expect(await t.test.app.database.db.selectFrom("notification_outbox").selectAll().execute()).toEqual(
        [],
      );
      const status = JSON.parse((await t.server.inject({ method: "GET", url: "/api/v2/status" })).body);
      expect(status.nines.routing).toBe(false);
      expect(status.nines.problem).toContain("no AlertmanagerConfig");
    } finally {
      await t.close();
    }
  });
});

describe.each(DIALECTS)("restart over the same database (%s)", (dialect) => {
  it("resumes groups without sending twice, and a pending group's notification still goes out", async () => {
    const clock = new ManualClock(T0);
    const database = await newTestDatabase(dialect);
    const yaml = amConfigYaml({ groupWait: "30s", groupInterval: "5m" });
    const first = await startAlertingApp(dialect, { configYaml: yaml, clock, database });
    await first.runtime.receive([{ labels: { alertname: "Early" }, annotations: {} }], "api");
    clock.advance(31_000);
    await first.runtime.tick();
    // Received after the last save: only in the alerts table when the process dies.
    await first.runtime.receive([{ labels: { alertname: "Late" }, annotations: {} }], "api");
    await first.close({ keepDatabase: true, graceful: false });

    clock.advance(5_000);
    const second = await startAlertingApp(dialect, { configYaml: yaml, clock, database });
    try {
      clock.advance(60_000);
      await second.runtime.tick();
      clock.advance(10 * 60_000);
      await second.runtime.tick();
      const rows = await outboxRows(second.test.app.database.db).execute();
      const firing = (name: string) =>
        rows.filter((r) => {
          const { request } = parseStoredRequest(r.request) as unknown as {
            request: { groupLabels: Record<string, string>; status: string };
          };
          return request.groupLabels.alertname === name && request.status === "firing";
        });
      expect(firing("Early")).toHaveLength(1);
      expect(firing("Late")).toHaveLength(1);
      expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(rows.length);
    } finally {
      await second.close();
    }
  });
});
