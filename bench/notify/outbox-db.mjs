#!/usr/bin/env node
// bench/notify/outbox-db: what the notification outbox costs its database, without intake, routing or HTTP.
// Enqueues an alert storm's notifications (GROUPS aggregation groups flushed FLUSHES times, each flush
// carrying the group's alerts so far, as the alerts bench's storm does) in transactions of TX_NOTIFICATIONS,
// while a delivery worker claims them and records each attempt with a sender that succeeds at once. Reports
// the main thread's CPU, the process's, and what the process wrote (/proc/self/io: the SQLite database and
// its WAL; nothing else writes) until every notification is delivered.
//
// Usage: node bench/notify/outbox-db.mjs [DIST]   (DIST: a build's dist/ to measure; default this one's)
//   env: GROUPS=400 FLUSHES=17 TX_NOTIFICATIONS=100
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { root } from "../lib/bench-kit.mjs";

const dist = resolve(process.argv[2] ?? join(root, "dist"));
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { openDatabase } = await load("platform/db/database.js");
const { migrateToLatest } = await load("platform/db/migrate.js");
const { createNotificationOutbox, OutboxWorker } = await load("notify/index.js");
const { silentLogger } = await load("platform/logger.js");
const { systemClock } = await load("platform/clock.js");

const GROUPS = Number(process.env.GROUPS ?? 400);
const FLUSHES = Number(process.env.FLUSHES ?? 17);
const TX_NOTIFICATIONS = Number(process.env.TX_NOTIFICATIONS ?? 100);

const CLK_TCK = 100;
const mainThreadCpuMs = () => {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
};
const processCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const written = () => {
  const io = readFileSync("/proc/self/io", "utf8");
  const field = (name) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1]);
  return { storage: field("write_bytes"), syscalls: field("wchar") };
};

/** An alert with the labels and annotations of the alerts bench's storm alerts. */
const alert = (g, i, at) => ({
  fingerprint: `${g.toString(16)}-${i.toString(16)}`.padStart(16, "0"),
  status: "firing",
  labels: {
    alertname: `Storm${String(g % 40).padStart(2, "0")}`,
    cluster: `c${Math.floor(g / 40) % 10}`,
    instance: `host-${g * 100 + i}.nines:9100`,
    severity: ["critical", "warning", "info"][i % 3],
    team: ["db", "storage", "web", "api", "edge"][i % 5],
    job: "node",
    bench_id: `s${g * 100 + i}`,
  },
  annotations: { summary: `storm alert ${i}`, description: `instance host-${i} is in trouble` },
  startsAt: at,
  endsAt: 0,
  generatorURL: `http://prometheus.invalid/graph?g0.expr=up%3D%3D0&i=${i}`,
});

const work = mkdtempSync(join(tmpdir(), "nines-bench-outbox-"));
const opened = openDatabase({ url: `sqlite:${join(work, "nines.db")}`, dataDir: work });
await migrateToLatest(opened.db);
const sender = {
  send: () =>
    new Promise((r) => setImmediate(() => r({ outcome: { ok: true, statusCode: 200 }, durationMs: 0 }))),
  abortAll() {},
  async close() {},
};
const worker = new OutboxWorker({
  db: opened.db,
  adapter: opened.adapter,
  clock: systemClock,
  log: silentLogger,
  sender,
  pollIntervalMs: 50,
});
const outbox = createNotificationOutbox({
  clock: systemClock,
  onEnqueue: (rows) => {
    worker.remember(rows);
    worker.wake();
  },
});
const integrations = { webhook_configs: [{ url: "http://127.0.0.1:1/hook", send_resolved: false }] };

const alertsOf = Array.from({ length: GROUPS }, () => []);
const t0 = performance.now();
const cpu0 = { main: mainThreadCpuMs(), all: processCpuMs() };
const written0 = written();
worker.start();
let notifications = 0;
let alertCopies = 0;
let requestChars = 0;
for (let flush = 0; flush < FLUSHES; flush++) {
  const batch = [];
  for (let g = 0; g < GROUPS; g++) {
    const alerts = alertsOf[g];
    // One or two new alerts per group and flush: 13 per notification on average (the storm's carry 11).
    for (let n = 0; n < 1 + (flush % 2); n++) alerts.push(alert(g, alerts.length, Date.now()));
    const at = Date.now();
    batch.push({
      request: {
        idempotencyKey: `bench:${g}:${flush}`,
        receiver: "default",
        groupKey: `{}:{alertname="Storm${g % 40}",cluster="c${g}"}`,
        groupLabels: { alertname: `Storm${g % 40}`, cluster: `c${g}` },
        commonLabels: { job: "node" },
        commonAnnotations: {},
        status: "firing",
        alerts: [...alerts],
        firingCount: alerts.length,
        resolvedCount: 0,
        routeId: "root",
        at,
      },
      integrations,
    });
    notifications++;
    alertCopies += alerts.length;
    requestChars += alerts.reduce((k, a) => k + JSON.stringify(a).length, 300);
  }
  for (let i = 0; i < batch.length; i += TX_NOTIFICATIONS) {
    await opened.db
      .transaction()
      .execute((trx) => outbox.enqueueAll(trx, batch.slice(i, i + TX_NOTIFICATIONS)));
    // The worker claims and records between the saves, as in the server.
    await new Promise((r) => setImmediate(r));
  }
}
for (;;) {
  const row = await opened.db
    .selectFrom("notification_outbox")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("status", "=", "delivered")
    .executeTakeFirst();
  if (Number(row?.n) >= notifications) break;
  await new Promise((r) => setTimeout(r, 20));
}
const seconds = (performance.now() - t0) / 1000;
const cpu = { main: mainThreadCpuMs() - cpu0.main, all: processCpuMs() - cpu0.all };
const written1 = written();
await worker.stop();
await opened.db.destroy();
rmSync(work, { recursive: true, force: true });
const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
console.log(
  JSON.stringify({
    dist,
    notifications,
    alertCopies,
    requestMiB: mib(requestChars),
    seconds: Math.round(seconds * 100) / 100,
    mainThreadCpuMs: Math.round(cpu.main),
    processCpuMs: Math.round(cpu.all),
    writtenMiB: mib(written1.storage - written0.storage),
    writeSyscallMiB: mib(written1.syscalls - written0.syscalls),
  }),
);
