import { createServer, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { sql } from "kysely";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { NotificationRequest } from "../src/alerting/routing/index.js";
import { listAudit } from "../src/audit/index.js";
import { requestFor } from "../src/notify/create-notification-outbox.js";
import {
  createNotificationOutbox,
  notifyRoutes,
  OutboxWorker,
  parseStoredRequest,
} from "../src/notify/index.js";
import type { ReceiverIntegrations } from "../src/notify/notification-outbox.js";
import { ManualClock } from "../src/platform/clock.js";
import { type Actor, type Ctx, systemActor } from "../src/platform/context.js";
import type { OpenedDatabase } from "../src/platform/db/dialect.js";
import { createEventBus } from "../src/platform/events.js";
import { silentLogger } from "../src/platform/logger.js";
import type { AnyRoute, RouteSpec } from "../src/platform/route.js";
import { DIALECTS, newTestDatabase, openMigrated, type TestDatabase } from "./support/databases.js";
import { outboxRows } from "./support/outbox-rows.js";

/** A receiver on 127.0.0.1 that answers as told and counts what it got, by idempotency key. */
class FakeReceiver {
  readonly keys: string[] = [];
  respond: (res: ServerResponse, n: number) => void = (res) => res.writeHead(200).end("ok");
  private server: Server | undefined;
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        this.keys.push(String(req.headers["idempotency-key"]));
        this.respond(res, this.keys.length);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook?token=SECRET-TOKEN-42`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

const T0 = Date.UTC(2026, 0, 1);
let seq = 0;

function request(receiver: string, status: "firing" | "resolved" = "firing"): NotificationRequest {
  const n = seq++;
  return {
    idempotencyKey: `r:${receiver}:${n}`,
    receiver,
    groupKey: `{}:{alertname="A${n}"}`,
    groupLabels: { alertname: `A${n}` },
    commonLabels: { alertname: `A${n}` },
    commonAnnotations: {},
    status,
    alerts: [
      {
        fingerprint: `f${n}`,
        status,
        labels: { alertname: `A${n}` },
        annotations: {},
        startsAt: T0,
        endsAt: status === "resolved" ? T0 + 1000 : 0,
      },
    ],
    firingCount: status === "firing" ? 1 : 0,
    resolvedCount: status === "resolved" ? 1 : 0,
    routeId: "root",
    at: T0,
  };
}

const webhook = (url: string, extra: Record<string, unknown> = {}): ReceiverIntegrations => ({
  webhook_configs: [{ url, ...extra }],
});

function find(routes: AnyRoute[], method: string, url: string): RouteSpec {
  const route = routes.find((r) => r.method === method && r.url === url);
  if (!route || !("handler" in route)) throw new Error(`no route ${method} ${url}`);
  return route as RouteSpec;
}

describe.each(DIALECTS)("notification outbox on %s", (dialect) => {
  let database: TestDatabase;
  let opened: OpenedDatabase;
  let clock: ManualClock;
  const workers: OutboxWorker[] = [];
  const receivers: FakeReceiver[] = [];

  // Each test gets its own database: a worker delivers every due row, whoever enqueued it.
  beforeEach(async () => {
    database = await newTestDatabase(dialect);
    opened = await openMigrated(database);
    clock = new ManualClock(T0);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const r of receivers.splice(0)) await r.stop();
    await opened.db.destroy();
    await database.drop();
  });

  const receiver = async () => {
    const r = await new FakeReceiver().start();
    receivers.push(r);
    return r;
  };
  const worker = (options: Partial<ConstructorParameters<typeof OutboxWorker>[0]> = {}) => {
    const w = new OutboxWorker({
      db: opened.db,
      adapter: opened.adapter,
      clock,
      log: silentLogger,
      random: () => 0.5,
      ...options,
    });
    workers.push(w);
    return w;
  };
  const ctxAs = (actor: Actor): Ctx => ({
    actor,
    clock,
    db: opened.db,
    adapter: opened.adapter,
    log: silentLogger,
    events: createEventBus(() => undefined),
    anonymousRead: false,
  });
  const rowsOf = (receiverName: string) =>
    outboxRows(opened.db).where("receiver", "=", receiverName).orderBy("notification_outbox.id").execute();

  it("stores a notification once however often it is enqueued", async () => {
    const announced: string[] = [];
    const outbox = createNotificationOutbox({
      clock,
      onEnqueue: (rows) => announced.push(...rows.map((r) => r.id)),
    });
    const req = request("twice");
    const integrations: ReceiverIntegrations = {
      webhook_configs: [{ url: "http://127.0.0.1:1/a" }, { url: "http://127.0.0.1:1/b" }],
      slack_configs: [{ api_url: "http://127.0.0.1:1/s" }],
    };
    await opened.db.transaction().execute((trx) => outbox.enqueue(trx, req, integrations));
    await opened.db.transaction().execute((trx) => outbox.enqueue(trx, req, integrations));
    const rows = await rowsOf("twice");
    expect(rows.map((r) => r.integration).sort()).toEqual([
      "slack_configs[0]",
      "webhook_configs[0]",
      "webhook_configs[1]",
    ]);
    expect(rows.map((r) => r.idempotency_key).sort()).toContain(`${req.idempotencyKey}/webhook_configs[1]`);
    expect(rows.every((r) => r.status === "pending" && r.attempts === 0)).toBe(true);
    // The second enqueue stored no request beside the first's, and the worker heard only of stored rows.
    const requests = await opened.db.selectFrom("notification_requests").select("outbox_id").execute();
    expect(requests.map((r) => r.outbox_id).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(announced.sort()).toEqual(rows.map((r) => r.id).sort());
  });

  it("writes a request once: claims and attempts leave it as it was, an operator's retry rewrites it", async () => {
    const r = await receiver();
    r.respond = (res) => res.writeHead(503).end("unavailable");
    // Every rewrite of a stored request, as the database sees it.
    if (dialect === "sqlite") {
      await sql`create table request_rewrites (outbox_id text)`.execute(opened.db);
      await sql`create trigger request_rewritten after update on notification_requests
        begin insert into request_rewrites values (new.outbox_id); end`.execute(opened.db);
    } else {
      await sql`create table request_rewrites (outbox_id text)`.execute(opened.db);
      await sql`create function request_rewritten() returns trigger language plpgsql as $$
        begin insert into request_rewrites values (new.outbox_id); return null; end $$`.execute(opened.db);
      await sql`create trigger request_rewritten after update on notification_requests
        for each row execute function request_rewritten()`.execute(opened.db);
    }
    const rewrites = async () =>
      (await sql<{ outbox_id: string }>`select outbox_id from request_rewrites`.execute(opened.db)).rows.map(
        (row) => row.outbox_id,
      );
    const w = worker({ maxAttempts: 2, backoffBaseMs: 100 });
    await createNotificationOutbox({ clock }).enqueue(opened.db, request("once"), webhook(r.url));
    const [enqueued] = await rowsOf("once");
    for (let i = 0; i < 2; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(10_000);
    }
    const [dead] = await rowsOf("once");
    expect(dead).toMatchObject({ status: "dead", attempts: 2, request: enqueued?.request });
    expect(await rewrites()).toEqual([]);

    const retriedAt = clock.now();
    const editor = ctxAs({ kind: "token", name: "ed", role: "editor" });
    const retry = find(notifyRoutes(), "POST", "/api/v1/notifications/:id/retry");
    await retry.handler({ ctx: editor, params: { id: dead?.id }, query: {}, body: undefined });
    const [retried] = await rowsOf("once");
    expect(retried).toMatchObject({ status: "pending", attempts: 0 });
    expect(parseStoredRequest(retried?.request ?? "")).toEqual({
      ...parseStoredRequest(enqueued?.request ?? ""),
      retriedAt,
    });
    expect(await rewrites()).toEqual([dead?.id]);

    r.respond = (res) => res.writeHead(200).end("ok");
    expect(await w.runOnce()).toBe(1);
    const [delivered] = await rowsOf("once");
    expect(delivered).toMatchObject({ status: "delivered", request: retried?.request });
    expect(await rewrites()).toEqual([dead?.id]);
  });

  it("stores every notification of a large save, over several statements, each once", async () => {
    const outbox = createNotificationOutbox({ clock });
    const integrations: ReceiverIntegrations = {
      webhook_configs: [{ url: "http://127.0.0.1:1/a" }, { url: "http://127.0.0.1:1/b" }],
    };
    const many = Array.from({ length: 150 }, () => ({ request: request("many"), integrations }));
    await opened.db.transaction().execute((trx) => outbox.enqueueAll(trx, many));
    await opened.db.transaction().execute((trx) => outbox.enqueueAll(trx, many.slice(0, 10)));
    const rows = await rowsOf("many");
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.idempotency_key)).size).toBe(300);
  });

  it("stores each row's request as the JSON of its payload, also for alerts shared by several notifications", async () => {
    const global = { slack_api_url: "http://127.0.0.1:1/global-slack", http_config: { proxy_url: "" } };
    const outbox = createNotificationOutbox({ clock, global: () => global });
    const first = request("exact");
    const shared = first.alerts[0] as NotificationRequest["alerts"][number];
    shared.generatorURL = 'http://prom/graph?g0.expr=up%3D%3D0&x="q"';
    shared.annotations = { summary: "line one\nline \u2028 two", empty: "" };
    const second: NotificationRequest = {
      ...request("exact"),
      alerts: [shared, { ...shared, fingerprint: "other", status: "resolved", endsAt: T0 + 5 }],
      resolvedCount: 1,
    };
    const integrations: ReceiverIntegrations = {
      webhook_configs: [{ url: "http://127.0.0.1:1/a", max_alerts: 0 }],
      slack_configs: [{ channel: "#ops" }],
      templates: [{ name: "t.tmpl", text: '{{ define "x" }}"quoted"{{ end }}' }],
    };
    await outbox.enqueueAll(opened.db, [
      { request: first, integrations },
      { request: second, integrations },
    ]);
    const rows = await rowsOf("exact");
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const req = row.idempotency_key.startsWith(first.idempotencyKey) ? first : second;
      const type = row.integration.replace(/\[\d+\]$/, "");
      const config =
        type === "slack_configs"
          ? { channel: "#ops", api_url: global.slack_api_url, http_config: global.http_config }
          : { url: "http://127.0.0.1:1/a", max_alerts: 0, http_config: global.http_config };
      // Slack sends no resolved alerts by default (send_resolved: false).
      const sent = type === "slack_configs" ? requestFor(req, false) : req;
      expect(parseStoredRequest(row.request)).toEqual(
        JSON.parse(
          JSON.stringify({
            request: sent,
            type,
            config,
            templates: [{ name: "t.tmpl", text: '{{ define "x" }}"quoted"{{ end }}' }],
          }),
        ),
      );
    }
  });

  it("gives integrations with send_resolved false no resolve, and no resolved alerts", async () => {
    const outbox = createNotificationOutbox({ clock });
    const integrations: ReceiverIntegrations = {
      webhook_configs: [{ url: "http://127.0.0.1:1/a", send_resolved: false }],
      slack_configs: [{ api_url: "http://127.0.0.1:1/s" }],
    };
    await outbox.enqueue(opened.db, request("quiet", "resolved"), integrations);
    expect(await rowsOf("quiet")).toHaveLength(0);
    const mixed = request("quiet");
    mixed.alerts.push({
      ...(mixed.alerts[0] as NotificationRequest["alerts"][number]),
      fingerprint: "x",
      status: "resolved",
    });
    mixed.resolvedCount = 1;
    await outbox.enqueue(opened.db, mixed, integrations);
    const rows = await rowsOf("quiet");
    expect(rows).toHaveLength(2);
    const sent = parseStoredRequest(
      rows.find((r) => r.integration === "webhook_configs[0]")?.request ?? "{}",
    );
    expect(sent.request.alerts).toHaveLength(1);
    expect(sent.request.resolvedCount).toBe(0);
  });

  it("retries a 500 with backoff in simulated time and delivers on the next 200", async () => {
    const r = await receiver();
    r.respond = (res, n) => res.writeHead(n === 1 ? 500 : 200).end(n === 1 ? "boom" : "ok");
    const registry = new Registry();
    const w = worker({ registry, backoffBaseMs: 1_000 });
    await createNotificationOutbox({ clock }).enqueue(opened.db, request("retry"), webhook(r.url));
    expect(await w.runOnce()).toBe(1);
    let [row] = await rowsOf("retry");
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    // Full jitter: random 0.5 × min(max, 1 s × 2^0).
    expect(row?.next_attempt_at).toBe(clock.now() + 500);
    expect(row?.last_error).toBe("unexpected status code 500");
    expect(await w.runOnce()).toBe(0);
    clock.advance(500);
    expect(await w.runOnce()).toBe(1);
    [row] = await rowsOf("retry");
    expect(row).toMatchObject({ status: "delivered", attempts: 2, last_error: null });
    expect(r.keys).toHaveLength(2);
    expect(new Set(r.keys).size).toBe(1);
    const attempts = await opened.db
      .selectFrom("notification_attempts")
      .selectAll()
      .where("outbox_id", "=", row?.id ?? "")
      .orderBy("at")
      .execute();
    expect(attempts.map((a) => [a.ok, a.status_code])).toEqual([
      [0, 500],
      [1, 200],
    ]);
    const text = await registry.metrics();
    expect(text).toContain(
      'nines_notifications_total{receiver="retry",integration="webhook",result="delivered"} 1',
    );
    expect(text).toContain(
      'nines_notification_attempts_total{receiver="retry",integration="webhook",outcome="failure"} 1',
    );
  });

  it("dead-letters after the attempt limit, shows it on the API and /metrics, and retries it on request", async () => {
    const r = await receiver();
    r.respond = (res) => res.writeHead(503).end("unavailable");
    const registry = new Registry();
    const w = worker({ registry, maxAttempts: 3, backoffBaseMs: 100 });
    await createNotificationOutbox({ clock }).enqueue(opened.db, request("doomed"), webhook(r.url));
    for (let i = 0; i < 3; i++) {
      expect(await w.runOnce()).toBe(1);
      clock.advance(10_000);
    }
    const [row] = await rowsOf("doomed");
    expect(row).toMatchObject({ status: "dead", attempts: 3 });
    const metrics = await registry.metrics();
    expect(metrics).toContain('nines_notifications_dead{receiver="doomed",integration="webhook"} 1');
    expect(metrics).toContain(
      'nines_notifications_total{receiver="doomed",integration="webhook",result="dead"} 1',
    );

    const routes = notifyRoutes();
    const viewer = ctxAs({ kind: "token", name: "v", role: "viewer" });
    const list = find(routes, "GET", "/api/v1/notifications");
    const page = list.response.parse(
      await list.handler({
        ctx: viewer,
        query: { status: "dead", receiver: "doomed", limit: 10 },
        body: undefined,
        params: {},
      }),
    ) as { notifications: Array<{ id: string; status: string; attempts: number }> };
    expect(page.notifications).toHaveLength(1);
    expect(page.notifications[0]).toMatchObject({ id: row?.id, status: "dead", attempts: 3 });
    const get = find(routes, "GET", "/api/v1/notifications/:id");
    const detail = get.response.parse(
      await get.handler({ ctx: viewer, params: { id: row?.id }, query: {}, body: undefined }),
    ) as { attemptsLog: Array<{ statusCode: number; ok: boolean }> };
    expect(detail.attemptsLog.map((a) => a.statusCode)).toEqual([503, 503, 503]);
    // The webhook URL carries a token: neither the list nor the detail shows it.
    expect(JSON.stringify([page, detail])).not.toContain("SECRET-TOKEN-42");

    const retry = find(routes, "POST", "/api/v1/notifications/:id/retry");
    await expect(
      retry.handler({ ctx: viewer, params: { id: row?.id }, query: {}, body: undefined }),
    ).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const editor = ctxAs({ kind: "token", name: "ed", role: "editor" });
    const retried = retry.response.parse(
      await retry.handler({ ctx: editor, params: { id: row?.id }, query: {}, body: undefined }),
    );
    expect(retried).toMatchObject({ status: "pending", attempts: 0 });
    await expect(
      retry.handler({ ctx: editor, params: { id: row?.id }, query: {}, body: undefined }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    const audit = await listAudit({ ctx: ctxAs(systemActor("test")), input: { limit: 100 } });
    expect(audit.some((a) => a.action === "notification.retry" && a.object.name === row?.id)).toBe(true);

    r.respond = (res) => res.writeHead(200).end("ok");
    expect(await w.runOnce()).toBe(1);
    expect((await rowsOf("doomed"))[0]?.status).toBe("delivered");
    expect(await registry.metrics()).not.toContain('nines_notifications_dead{receiver="doomed"');
  });

  it("dead-letters a 4xx at once: it would never succeed", async () => {
    const r = await receiver();
    r.respond = (res) => res.writeHead(400).end("bad payload");
    const w = worker();
    await createNotificationOutbox({ clock }).enqueue(opened.db, request("rejected"), webhook(r.url));
    await w.runOnce();
    expect((await rowsOf("rejected"))[0]).toMatchObject({ status: "dead", attempts: 1 });
  });

  it("retries a receiver that answers garbage instead of HTTP", async () => {
    const garbage: TcpServer = createTcpServer((socket) => {
      socket.once("data", () => socket.end("this is not HTTP at all\r\n\r\n"));
    });
    await new Promise<void>((resolve) => garbage.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}/`;
      await createNotificationOutbox({ clock }).enqueue(opened.db, request("garbage"), webhook(url));
      await worker().runOnce();
      const [row] = await rowsOf("garbage");
      expect(row).toMatchObject({ status: "pending", attempts: 1 });
      // undici's parser error: "Response does not match the HTTP/1.1 protocol (Expected HTTP/, …)".
      expect(row?.last_error).toMatch(/does not match the HTTP\/1\.1 protocol/);
    } finally {
      await new Promise<void>((resolve) => garbage.close(() => resolve()));
    }
  });

  it("sends the request it remembers from the enqueue, unless the row changed since (an operator's retry)", async () => {
    const stored = await receiver();
    const remembered = await receiver();
    const w = worker({ pollIntervalMs: 20 });
    const outbox = createNotificationOutbox({ clock });
    await outbox.enqueue(opened.db, request("fresh"), webhook(stored.url));
    await outbox.enqueue(opened.db, request("changed"), webhook(stored.url));
    // Remembered requests that differ from the stored ones (another URL) show which one a claim used.
    const rows = [...(await rowsOf("fresh")), ...(await rowsOf("changed"))];
    w.remember(rows.map((row) => ({ id: row.id, request: row.request.replace(stored.url, remembered.url) })));
    const changed = rows.find((row) => row.receiver === "changed");
    await opened.db
      .updateTable("notification_outbox")
      .set({ updated_at: clock.now() + 1 })
      .where("id", "=", changed?.id ?? "")
      .execute();
    w.start();
    await vi.waitFor(async () => {
      const all = [...(await rowsOf("fresh")), ...(await rowsOf("changed"))];
      expect(all.map((row) => row.status)).toEqual(["delivered", "delivered"]);
    });
    const [freshKey, changedKey] = rows.map((row) => row.idempotency_key);
    expect(remembered.keys).toEqual([freshKey]);
    expect(stored.keys).toEqual([changedKey]);
  });

  it("keeps delivering to other receivers while one hangs", async () => {
    const hanging = await receiver();
    const held: ServerResponse[] = [];
    hanging.respond = (res) => held.push(res);
    const fast = await receiver();
    const w = worker({ timeoutMs: 60_000, concurrency: 3, perIntegrationConcurrency: 1, pollIntervalMs: 20 });
    const outbox = createNotificationOutbox({ clock, onEnqueue: () => w.wake() });
    for (let i = 0; i < 3; i++) await outbox.enqueue(opened.db, request("stuck"), webhook(hanging.url));
    w.start();
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5_000 });
    await outbox.enqueue(opened.db, request("fast"), webhook(fast.url));
    await vi.waitFor(async () => expect((await rowsOf("fast"))[0]?.status).toBe("delivered"), {
      timeout: 5_000,
    });
    // The hanging receiver holds one slot (its row leased, "sending"); its other notifications wait their
    // turn, untouched.
    expect(held).toHaveLength(1);
    const stuck = await rowsOf("stuck");
    expect(stuck.map((r) => [r.status, r.attempts]).sort()).toEqual([
      ["pending", 0],
      ["pending", 0],
      ["sending", 0],
    ]);
    await w.stop();
    // Stopping released the one in flight: pending and due now, for whoever runs next.
    const released = await rowsOf("stuck");
    expect(released.every((r) => r.status === "pending" && r.next_attempt_at <= clock.now())).toBe(true);
    for (const res of held) res.destroy();
  });

  it("delivers to another receiver behind a long backlog of one that hangs", async () => {
    const hanging = await receiver();
    const held: ServerResponse[] = [];
    hanging.respond = (res) => held.push(res);
    const fast = await receiver();
    const w = worker({ timeoutMs: 60_000, concurrency: 4, perIntegrationConcurrency: 2, pollIntervalMs: 20 });
    const outbox = createNotificationOutbox({ clock, onEnqueue: () => w.wake() });
    // More due rows than a claim reads from the head of the queue, all for the receiver that hangs.
    for (let i = 0; i < 100; i++) await outbox.enqueue(opened.db, request("stuck"), webhook(hanging.url));
    await outbox.enqueue(opened.db, request("fast"), webhook(fast.url));
    w.start();
    await vi.waitFor(async () => expect((await rowsOf("fast"))[0]?.status).toBe("delivered"), {
      timeout: 5_000,
    });
    expect(held).toHaveLength(2);
    const stuck = await rowsOf("stuck");
    expect(stuck.filter((r) => r.status === "sending")).toHaveLength(2);
    expect(stuck.filter((r) => r.status === "pending")).toHaveLength(98);
    await w.stop();
    for (const res of held) res.destroy();
  });

  it("sends many notifications to one receiver at once and records every attempt", async () => {
    const r = await receiver();
    const held: ServerResponse[] = [];
    r.respond = (res) => held.push(res);
    const outbox = createNotificationOutbox({ clock });
    for (let i = 0; i < 70; i++) await outbox.enqueue(opened.db, request("burst"), webhook(r.url));
    const w = worker();
    const run = w.runOnce();
    // The default allows 64 sends in flight to one integration: 64 requests arrive before any is answered.
    await vi.waitFor(() => expect(held).toHaveLength(64), { timeout: 5_000 });
    r.respond = (res) => res.writeHead(200).end("ok");
    for (const res of held) res.writeHead(200).end("ok");
    expect(await run).toBe(70);
    const rows = await rowsOf("burst");
    expect(rows.every((row) => row.status === "delivered" && row.attempts === 1)).toBe(true);
    const attempts = await opened.db.selectFrom("notification_attempts").select("outbox_id").execute();
    expect(new Set(attempts.map((a) => a.outbox_id))).toEqual(new Set(rows.map((row) => row.id)));
    expect(attempts).toHaveLength(70);
  });

  it("gives up on an attempt at its timeout and retries it", async () => {
    const r = await receiver();
    const held: ServerResponse[] = [];
    r.respond = (res) => held.push(res);
    await createNotificationOutbox({ clock }).enqueue(opened.db, request("slow"), webhook(r.url));
    expect(await worker({ timeoutMs: 50 }).runOnce()).toBe(1);
    const [row] = await rowsOf("slow");
    expect(row).toMatchObject({ status: "pending", attempts: 1 });
    expect(row?.last_error).toBe("request aborted: timed out after 50 ms");
    for (const res of held) res.destroy();
  });

  it("prunes delivered notifications after their retention, keeping recent ones and dead letters", async () => {
    const r = await receiver();
    const outbox = createNotificationOutbox({ clock });
    await outbox.enqueue(opened.db, request("old"), webhook(r.url));
    const w = worker({ deliveredRetentionMs: 3_600_000 });
    await w.runOnce();
    clock.advance(2 * 3_600_000);
    await outbox.enqueue(opened.db, request("new"), webhook(r.url));
    await w.runOnce();
    expect(await w.prune()).toBe(1);
    expect(await rowsOf("old")).toHaveLength(0);
    const kept = await rowsOf("new");
    expect(kept).toHaveLength(1);
    const attempts = await opened.db.selectFrom("notification_attempts").selectAll().execute();
    expect(attempts).toHaveLength(1);
    // The pruned notification's request went with it.
    const requests = await opened.db.selectFrom("notification_requests").select("outbox_id").execute();
    expect(requests.map((row) => row.outbox_id)).toEqual(kept.map((row) => row.id));
  });

  it("resumes pending notifications after a restart, including one a dead process had claimed", async () => {
    const r = await receiver();
    const outbox = createNotificationOutbox({ clock });
    await outbox.enqueue(opened.db, request("restart"), webhook(r.url));
    await outbox.enqueue(opened.db, request("restart"), webhook(r.url));
    const [first] = await rowsOf("restart");
    // A process that died mid-send leaves its lease behind.
    await opened.db
      .updateTable("notification_outbox")
      .set({ status: "sending", next_attempt_at: clock.now() + 120_000 })
      .where("id", "=", first?.id ?? "")
      .execute();
    const fresh = worker();
    if (dialect === "sqlite") {
      // One process owns a SQLite database: what a dead process was sending is sent at once.
      expect(await fresh.runOnce()).toBe(2);
    } else {
      // Another replica may still be sending it: it waits for the lease to run out.
      expect(await fresh.runOnce()).toBe(1);
      clock.advance(120_000);
      expect(await fresh.runOnce()).toBe(1);
    }
    expect((await rowsOf("restart")).map((row) => row.status)).toEqual(["delivered", "delivered"]);
  });

  it.runIf(dialect === "postgres")("never lets two workers send the same row", async () => {
    const r = await receiver();
    r.respond = (res) => setTimeout(() => res.writeHead(200).end("ok"), 5);
    const outbox = createNotificationOutbox({ clock });
    for (let i = 0; i < 40; i++) await outbox.enqueue(opened.db, request("shared"), webhook(r.url));
    const second = await openMigrated(database);
    try {
      const a = worker({ concurrency: 4, perIntegrationConcurrency: 4 });
      const b = worker({
        db: second.db,
        adapter: second.adapter,
        concurrency: 4,
        perIntegrationConcurrency: 4,
      });
      const [na, nb] = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(na + nb).toBe(40);
      expect(r.keys).toHaveLength(40);
      expect(new Set(r.keys).size).toBe(40);
      expect((await rowsOf("shared")).every((row) => row.status === "delivered")).toBe(true);
    } finally {
      await second.db.destroy();
    }
  });
});
