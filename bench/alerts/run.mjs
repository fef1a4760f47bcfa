#!/usr/bin/env node
// bench/alerts: Nines's Alertmanager API v2 intake, routing and webhook delivery beside Debian's Alertmanager
// 0.25, one after the other in one run, with the same routing tree and the same load. A storm phase posts
// batches of alerts at full speed (accepted alerts/s, notifications/s); latency phases post at a fixed rate
// and time each alert from its POST to its first webhook delivery, with group_wait 0s and 30s.
// See bench/alerts/README.md for the workload and every field of bench/results/alerts.json.
//
// Usage: node bench/alerts/run.mjs
//   env: SYSTEMS=nines,alertmanager  STORM_ALERTS=20000 STORM_BATCH=100 STORM_CLIENTS=4 STORM_MAX_S=60 STORM_RATE (alerts/s; unset: as fast as answered)
//        STORM_DRAIN_S=60 STORM_GROUP_WAIT=0s GROUP_INTERVAL=1s  LAT_GROUP_WAITS=0s,30s LAT_RATE=100 LAT_SECONDS=20
//        LAT_BATCH=10 LAT_DRAIN_S=30  NINES_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
//        NINES_CLI (another build's cli/main.js, to compare a change; default dist/cli/main.js)
//        OUT (defaults to bench/results/alerts.json; a run without both systems writes nothing unless OUT is set)
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import {
  benchWorkspace,
  buildIfStale,
  cpuSeconds,
  threadCpuSeconds,
  ensureInstalled,
  freePort,
  memory,
  post,
  quantile,
  root,
  round,
  sleep,
  stopChild,
  versionOf,
  waitFor,
  writtenBytes,
} from "../lib/bench-kit.mjs";
import { alertmanagerYaml, SEVERITIES, stormAlert } from "./workload.mjs";

const env = process.env;
const positive = (name, fallback) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got ${env[name]}`);
  return value;
};
/** "0s", "30s", "1500ms" → milliseconds, for the few duration forms this bench takes. */
const durationMs = (name, text) => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text);
  if (!m) throw new Error(`${name}: "${text}" is not a duration such as 0s, 30s or 500ms`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2]];
};

const SYSTEMS = (env.SYSTEMS ?? "nines,alertmanager").split(",").filter(Boolean);
for (const s of SYSTEMS)
  if (s !== "nines" && s !== "alertmanager") throw new Error(`SYSTEMS: unknown system "${s}"`);
const STORM_ALERTS = positive("STORM_ALERTS", 20_000);
const STORM_BATCH = positive("STORM_BATCH", 100);
const STORM_CLIENTS = positive("STORM_CLIENTS", 4);
const STORM_MAX_S = positive("STORM_MAX_S", 60);
/** Paces the storm: CPU per alert at a fixed rate compares two builds without the faster one's advantage. */
const STORM_RATE = env.STORM_RATE === undefined ? undefined : positive("STORM_RATE", 0);
const STORM_DRAIN_S = positive("STORM_DRAIN_S", 60);
const GROUP_INTERVAL = env.GROUP_INTERVAL ?? "1s";
durationMs("GROUP_INTERVAL", GROUP_INTERVAL);
const LAT_GROUP_WAITS = (env.LAT_GROUP_WAITS ?? "0s,30s").split(",").filter(Boolean);
for (const gw of LAT_GROUP_WAITS) durationMs("LAT_GROUP_WAITS", gw);
const LAT_RATE = positive("LAT_RATE", 100);
const LAT_SECONDS = positive("LAT_SECONDS", 20);
const LAT_BATCH = positive("LAT_BATCH", 10);
const LAT_DRAIN_S = positive("LAT_DRAIN_S", 30);
const WARMUP_ALERTS = 200;
const NINES_CLI = resolve(env.NINES_CLI ?? join(root, "dist/cli/main.js"));
const OUT = env.OUT ? resolve(env.OUT) : join(root, "bench/results/alerts.json");
const GOAL_LATENCY_SLACK_MS = 50;

const { work, startChild } = benchWorkspace("nines-bench-alerts-");

// ---------------------------------------------------------------------------------------------------------
// The routing tree (alertmanagerYaml) and the storm's alerts are in workload.mjs.

const indent = (text, spaces) =>
  text
    .split("\n")
    .map((line) => (line === "" ? line : " ".repeat(spaces) + line))
    .join("\n");

const ninesConfig = (sinkUrl, groupWait) =>
  `apiVersion: nines/v1\nkind: AlertmanagerConfig\nmetadata: { name: default }\nspec:\n  alertmanager:\n${indent(alertmanagerYaml(sinkUrl, groupWait, GROUP_INTERVAL), 4)}`;

// ---------------------------------------------------------------------------------------------------------
// The webhook sink: records when each payload arrived and, per alert (by its bench_id label), when it was
// first delivered. One sink for the whole run, reset between phases.

async function startSink() {
  const state = {
    firstAt: new Map(),
    notifications: 0,
    byReceiver: {},
    alertsInPayloads: 0,
    malformed: 0,
    firstNotificationAt: null,
    lastNotificationAt: null,
  };
  const server = createServer((req, res) => {
    // Stamped when the request's headers arrive: the moment the system's delivery reached the receiver.
    const at = performance.now();
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      let message;
      try {
        message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        state.malformed++;
        return;
      }
      if (
        message?.version !== "4" ||
        !Array.isArray(message.alerts) ||
        typeof message.groupKey !== "string"
      ) {
        state.malformed++;
        return;
      }
      const receiver = req.url.replace(/^\/hook\//, "");
      state.notifications++;
      state.byReceiver[receiver] = (state.byReceiver[receiver] ?? 0) + 1;
      state.firstNotificationAt ??= at;
      state.lastNotificationAt = at;
      for (const alert of message.alerts) {
        state.alertsInPayloads++;
        const id = alert?.labels?.bench_id;
        if (typeof id === "string" && !state.firstAt.has(id)) state.firstAt.set(id, at);
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    reset() {
      state.firstAt = new Map();
      state.notifications = 0;
      state.byReceiver = {};
      state.alertsInPayloads = 0;
      state.malformed = 0;
      state.firstNotificationAt = null;
      state.lastNotificationAt = null;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The two systems: each starts a fresh server (empty state) for a given group_wait.

async function startNines(sinkUrl, groupWait, tag) {
  const dir = join(work, `nines-${tag}`);
  const configDir = join(dir, "config");
  const dataDir = join(dir, "data");
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, "alertmanager.yaml"), ninesConfig(sinkUrl, groupWait));
  const port = await freePort();
  const childEnv = { ...env, NINES_LOG_LEVEL: "warn" };
  // The embedded SQLite database (the default) and the admin token the server writes into its data dir.
  delete childEnv.NINES_DATABASE_URL;
  delete childEnv.NINES_ADMIN_TOKEN;
  delete childEnv.NINES_CONFIG;
  const nodeArgs = env.NINES_NODE_ARGS ? env.NINES_NODE_ARGS.split(" ").filter(Boolean) : [];
  const child = startChild(
    "nines",
    process.execPath,
    [
      ...nodeArgs,
      NINES_CLI,
      "serve",
      "--config",
      configDir,
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { cwd: dir, env: childEnv },
  );
  const base = `http://127.0.0.1:${port}`;
  const tokenFile = join(dataDir, "admin-token");
  await waitFor(
    "nines",
    child,
    async () => (await fetch(`${base}/readyz`)).ok && existsSync(tokenFile),
    60_000,
  );
  const token = readFileSync(tokenFile, "utf8").trim();
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  let lastStatus = "";
  await waitFor(
    "nines routing",
    child,
    async () => {
      const answer = await fetch(`${base}/api/v2/status`, {
        headers: { authorization: headers.authorization },
      });
      const text = await answer.text();
      lastStatus = `${answer.status} ${text.slice(-400)}`;
      return answer.ok && JSON.parse(text)?.nines?.routing === true;
    },
    20_000,
  ).catch((error) => {
    throw new Error(`${error.message}; last /api/v2/status: ${lastStatus}`);
  });
  return { child, base, headers, dataDir };
}

async function startAlertmanager(sinkUrl, groupWait, tag) {
  const dir = join(work, `alertmanager-${tag}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "alertmanager.yml"), alertmanagerYaml(sinkUrl, groupWait, GROUP_INTERVAL));
  const port = await freePort();
  const child = startChild("alertmanager", "prometheus-alertmanager", [
    `--config.file=${join(dir, "alertmanager.yml")}`,
    `--storage.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    `--web.external-url=http://127.0.0.1:${port}`,
    "--cluster.listen-address=",
    "--log.level=warn",
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor("alertmanager", child, async () => (await fetch(`${base}/-/ready`)).ok, 60_000);
  return { child, base, headers: { "content-type": "application/json" } };
}

const START = { nines: startNines, alertmanager: startAlertmanager };

// ---------------------------------------------------------------------------------------------------------
// Alerts. No startsAt or endsAt: both systems stamp startsAt with the time of arrival (so group_wait is
// counted from the POST) and end the alert after resolve_timeout (5 min, beyond every phase).

function latencyAlert(i) {
  return {
    labels: {
      alertname: "LatencyProbe",
      cluster: `c${i % 10}`,
      instance: `probe-${i}:9100`,
      severity: SEVERITIES[i % SEVERITIES.length],
      phase: "latency",
      bench_id: `l${i}`,
    },
    annotations: { summary: `latency probe ${i}` },
  };
}

function warmupAlert(i) {
  return { labels: { alertname: "Warmup", cluster: "w", instance: `w-${i}`, bench_id: `w${i}` } };
}

async function postAlerts(server, body) {
  try {
    return await post(`${server.base}/api/v2/alerts`, body, server.headers);
  } catch (error) {
    return { status: 0, text: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Quantiles in ms. An alert that was accepted but never delivered counts as Infinity, so a quantile that
 * falls on undelivered alerts is null in the JSON ("not delivered within the drain time"), never too low.
 */
const latencyStats = (values) => ({
  p50: round(quantile(values, 0.5), 1),
  p90: round(quantile(values, 0.9), 1),
  p99: round(quantile(values, 0.99), 1),
  max:
    values.length > 0
      ? round(
          values.reduce((m, v) => Math.max(m, v), -Infinity),
          1,
        )
      : null,
});

/**
 * Where Nines's time goes, read from its own database (read-only, while it runs): per outbox row, from the
 * arrival of its (newest) alert to the row's creation, and from creation to the end of its delivery attempt.
 */
function ninesBreakdown(dataDir) {
  const Database = createRequire(join(root, "package.json"))("better-sqlite3");
  const db = new Database(join(dataDir, "nines.db"), { readonly: true, fileMustExist: true });
  try {
    const received = new Map();
    for (const row of db.prepare("select labels, received_at from alerts").all())
      received.set(JSON.parse(row.labels).bench_id, Number(row.received_at));
    const toOutbox = [];
    const toAttemptEnd = [];
    const attemptMs = [];
    const statuses = {};
    // Requests are in a table of their own since migration 0005; a build before it (NINES_CLI) keeps them in
    // the outbox row.
    const apart = db
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'notification_requests'")
      .get();
    const rows = db
      .prepare(
        `select ${apart ? "r.request" : "o.request"}, o.status, o.created_at, a.at as attempt_at, a.duration_ms
           from notification_outbox o
           ${apart ? "join notification_requests r on r.outbox_id = o.id" : ""}
           left join notification_attempts a on a.outbox_id = o.id and a.ok = 1`,
      )
      .all();
    for (const row of rows) {
      statuses[row.status] = (statuses[row.status] ?? 0) + 1;
      // The stored request: its envelope, a line break, the alerts (src/notify/stored-request.ts).
      const cut = row.request.indexOf("\n");
      const alerts =
        cut >= 0 ? JSON.parse(row.request.slice(cut + 1)) : JSON.parse(row.request).request.alerts;
      const ids = alerts.map((a) => a.labels.bench_id);
      const arrived = Math.max(...ids.map((id) => received.get(id) ?? Number.NEGATIVE_INFINITY));
      if (Number.isFinite(arrived)) toOutbox.push(Number(row.created_at) - arrived);
      if (row.attempt_at === null) continue;
      toAttemptEnd.push(Number(row.attempt_at) - Number(row.created_at));
      attemptMs.push(Number(row.duration_ms));
    }
    return {
      outboxRows: rows.length,
      outboxRowsByStatus: statuses,
      alertArrivalToOutboxRowMs: latencyStats(toOutbox),
      outboxRowToDeliveredMs: latencyStats(toAttemptEnd),
      deliveryAttemptMs: latencyStats(attemptMs),
    };
  } finally {
    db.close();
  }
}

/** Waits until every expected id was delivered, or the deadline; returns whether all were. */
async function waitDelivered(sink, ids, deadline) {
  for (;;) {
    let missing = 0;
    for (const id of ids) if (!sink.state.firstAt.has(id)) missing++;
    if (missing === 0) return true;
    if (performance.now() > deadline) return false;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Storm: STORM_ALERTS alerts in batches of STORM_BATCH, STORM_CLIENTS clients posting back to back.

async function runStorm(system, sink) {
  const groupWait = env.STORM_GROUP_WAIT ?? "0s";
  const server = await START[system](sink.url, groupWait, "storm");
  try {
    const batches = [];
    for (let from = 0; from < STORM_ALERTS; from += STORM_BATCH) {
      const ids = [];
      const alerts = [];
      for (let i = from; i < Math.min(STORM_ALERTS, from + STORM_BATCH); i++) {
        alerts.push(stormAlert(i, system));
        ids.push(`s${i}`);
      }
      batches.push({ ids, body: Buffer.from(JSON.stringify(alerts)) });
    }
    sink.reset();
    const postAt = new Map();
    const accepted = [];
    let refusedRequests = 0;
    let firstRefusal = null;
    let next = 0;
    const cpu0 = cpuSeconds(server.child.pid);
    const threads0 = threadCpuSeconds(server.child.pid);
    const written0 = writtenBytes(server.child.pid);
    const t0 = performance.now();
    const client = async () => {
      while (next < batches.length && performance.now() - t0 < STORM_MAX_S * 1000) {
        const index = next++;
        const batch = batches[index];
        if (STORM_RATE !== undefined) {
          const due = t0 + ((index * STORM_BATCH) / STORM_RATE) * 1000;
          if (due > performance.now()) await sleep(due - performance.now());
        }
        const at = performance.now();
        const answer = await postAlerts(server, batch.body);
        if (answer.status === 200) {
          for (const id of batch.ids) {
            postAt.set(id, at);
            accepted.push(id);
          }
        } else {
          refusedRequests++;
          firstRefusal ??= `${answer.status} ${answer.text.slice(0, 300)}`;
        }
      }
    };
    await Promise.all(Array.from({ length: STORM_CLIENTS }, client));
    const t1 = performance.now();
    const cpuPosting = cpuSeconds(server.child.pid) - cpu0;
    const threads1 = threadCpuSeconds(server.child.pid);
    const postingSeconds = (t1 - t0) / 1000;
    const complete = await waitDelivered(sink, accepted, t1 + STORM_DRAIN_S * 1000);
    // Let the last flushes of the group_interval arrive, so notifications/s counts the whole storm.
    await sleep(durationMs("GROUP_INTERVAL", GROUP_INTERVAL) + 1000);
    const cpuTotal = cpuSeconds(server.child.pid) - cpu0;
    const written1 = writtenBytes(server.child.pid);
    const mem = memory(server.child.pid);
    const latencies = [];
    let delivered = 0;
    let lastFirstDelivery = t1;
    for (const id of accepted) {
      const at = sink.state.firstAt.get(id);
      if (at === undefined) {
        latencies.push(Number.POSITIVE_INFINITY);
        continue;
      }
      delivered++;
      latencies.push(at - postAt.get(id));
      lastFirstDelivery = Math.max(lastFirstDelivery, at);
    }
    const breakdown = system === "nines" ? ninesBreakdown(server.dataDir) : undefined;
    const { state } = sink;
    const deliverySpan = state.lastNotificationAt === null ? null : (state.lastNotificationAt - t0) / 1000;
    return {
      groupWait,
      groupInterval: GROUP_INTERVAL,
      alertsPosted: batches.slice(0, next).reduce((k, b) => k + b.ids.length, 0),
      alertsAccepted: accepted.length,
      refusedRequests,
      firstRefusal,
      postingSeconds: round(postingSeconds, 2),
      acceptedAlertsPerSecond: round(accepted.length / postingSeconds, 0),
      postCpuSeconds: round(cpuPosting, 2),
      postCpuMsPerAlert: accepted.length > 0 ? round((cpuPosting * 1000) / accepted.length, 3) : null,
      // A Node process is limited by its main thread; a Go process schedules goroutines on every core.
      ...(system === "nines"
        ? {
            postMainThreadCpuSeconds: round(threads1.main - threads0.main, 2),
            postOtherThreadsCpuSeconds: round(threads1.others - threads0.others, 2),
          }
        : {}),
      alertsDelivered: delivered,
      allDelivered: complete,
      drainSeconds: round((lastFirstDelivery - t1) / 1000, 2),
      notifications: state.notifications,
      notificationsByReceiver: state.byReceiver,
      alertsInPayloads: state.alertsInPayloads,
      malformedPayloads: state.malformed,
      notificationSpanSeconds: round(deliverySpan, 2),
      notificationsPerSecond: deliverySpan ? round(state.notifications / deliverySpan, 0) : null,
      postToFirstDeliveryMs: latencyStats(latencies),
      cpuSeconds: round(cpuTotal, 2),
      // Over the same span as cpuSeconds (posting and drain): the database and its WAL, for Nines.
      writtenMiB: round((written1.storage - written0.storage) / 2 ** 20, 1),
      writeSyscallMiB: round((written1.syscalls - written0.syscalls) / 2 ** 20, 1),
      rssMiB: mem.rssMiB,
      peakRssMiB: mem.peakRssMiB,
      ...(breakdown ? { ninesBreakdown: breakdown } : {}),
    };
  } finally {
    await stopChild(server.child);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Latency: a fresh server per group_wait; LAT_RATE alerts/s in batches of LAT_BATCH for LAT_SECONDS, each
// alert alone in its group, timed from the start of its POST to its first delivery at the sink.

async function runLatency(system, sink, groupWait) {
  const groupWaitMs = durationMs("LAT_GROUP_WAITS", groupWait);
  const server = await START[system](sink.url, groupWait, `latency-${groupWait}`);
  try {
    // Warm-up: a few requests so the first measured ones do not pay for JIT compilation or cold caches.
    const warm = Array.from({ length: WARMUP_ALERTS }, (_, i) => warmupAlert(i));
    for (let i = 0; i < warm.length; i += 20)
      await postAlerts(server, Buffer.from(JSON.stringify(warm.slice(i, i + 20))));
    await sleep(1000);
    sink.reset();

    const batchCount = Math.round((LAT_RATE * LAT_SECONDS) / LAT_BATCH);
    const intervalMs = (1000 * LAT_BATCH) / LAT_RATE;
    const postAt = new Map();
    const answeredMs = [];
    const accepted = [];
    let refusedRequests = 0;
    let firstRefusal = null;
    let behindMs = 0;
    const inflight = [];
    const cpu0 = cpuSeconds(server.child.pid);
    const threads0 = threadCpuSeconds(server.child.pid);
    const t0 = performance.now();
    for (let b = 0; b < batchCount; b++) {
      const due = t0 + b * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else behindMs = Math.max(behindMs, -wait);
      const ids = [];
      const alerts = [];
      for (let i = b * LAT_BATCH; i < (b + 1) * LAT_BATCH; i++) {
        alerts.push(latencyAlert(i));
        ids.push(`l${i}`);
      }
      const body = Buffer.from(JSON.stringify(alerts));
      const at = performance.now();
      // Not awaited: the rate stays fixed even when answers are slow.
      inflight.push(
        postAlerts(server, body).then((answer) => {
          answeredMs.push(performance.now() - at);
          if (answer.status === 200) {
            for (const id of ids) {
              postAt.set(id, at);
              accepted.push(id);
            }
          } else {
            refusedRequests++;
            firstRefusal ??= `${answer.status} ${answer.text.slice(0, 300)}`;
          }
        }),
      );
    }
    await Promise.all(inflight);
    const t1 = performance.now();
    const complete = await waitDelivered(sink, accepted, t1 + groupWaitMs + LAT_DRAIN_S * 1000);
    const cpu = cpuSeconds(server.child.pid) - cpu0;
    const threads1 = threadCpuSeconds(server.child.pid);
    const mem = memory(server.child.pid);
    const latencies = [];
    let delivered = 0;
    for (const id of accepted) {
      const at = sink.state.firstAt.get(id);
      if (at !== undefined) delivered++;
      latencies.push(at === undefined ? Number.POSITIVE_INFINITY : at - postAt.get(id));
    }
    const breakdown = system === "nines" ? ninesBreakdown(server.dataDir) : undefined;
    const over = latencies.map((ms) => ms - groupWaitMs);
    const { state } = sink;
    const span =
      state.firstNotificationAt === null
        ? null
        : (state.lastNotificationAt - state.firstNotificationAt) / 1000;
    const p99 = quantile(latencies, 0.99);
    return {
      groupWait,
      groupWaitMs,
      rate: LAT_RATE,
      batch: LAT_BATCH,
      postingSeconds: round((t1 - t0) / 1000, 2),
      generatorBehindMsMax: round(behindMs, 1),
      alertsAccepted: accepted.length,
      refusedRequests,
      firstRefusal,
      postAnswerMs: latencyStats(answeredMs),
      alertsDelivered: delivered,
      allDelivered: complete,
      notifications: state.notifications,
      notificationsByReceiver: state.byReceiver,
      malformedPayloads: state.malformed,
      notificationsPerSecond: span ? round(state.notifications / span, 1) : null,
      postToDeliveryMs: latencyStats(latencies),
      overGroupWaitMs: latencyStats(over),
      p99WithinGoal: p99 !== null && p99 <= groupWaitMs + GOAL_LATENCY_SLACK_MS,
      cpuSeconds: round(cpu, 2),
      ...(system === "nines"
        ? {
            mainThreadCpuSeconds: round(threads1.main - threads0.main, 2),
            otherThreadsCpuSeconds: round(threads1.others - threads0.others, 2),
          }
        : {}),
      rssMiB: mem.rssMiB,
      peakRssMiB: mem.peakRssMiB,
      ...(breakdown ? { ninesBreakdown: breakdown } : {}),
    };
  } finally {
    await stopChild(server.child);
  }
}

// ---------------------------------------------------------------------------------------------------------

/** When dist/ was last compiled: the code measured, which may differ from the commit while others edit src. */
function distBuiltAt() {
  const stamp = join(root, "dist/.tsbuildinfo");
  return existsSync(stamp) ? statSync(stamp).mtime.toISOString() : null;
}

/** The build measured, and whether someone rebuilt dist/ while the bench ran (later phases then differ). */
function builds(builtAtStart) {
  const now = distBuiltAt();
  return { distBuiltAt: builtAtStart, distRebuiltDuringRun: now !== builtAtStart ? now : false };
}

function ninesRevision(builtAtStart) {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((line) => line.slice(3));
    return { commit: head, uncommittedSrc: dirty, ...builds(builtAtStart) };
  } catch {
    return { commit: null, uncommittedSrc: [], ...builds(builtAtStart) };
  }
}

const ratio = (a, b) => (a === null || b === null || b === 0 ? null : round(a / b, 2));

function compare(nines, peer) {
  if (!nines || !peer) return null;
  const out = {
    acceptedAlertsPerSecond: ratio(nines.storm.acceptedAlertsPerSecond, peer.storm.acceptedAlertsPerSecond),
    stormNotificationsPerSecond: ratio(nines.storm.notificationsPerSecond, peer.storm.notificationsPerSecond),
    stormPostCpuMsPerAlert: ratio(nines.storm.postCpuMsPerAlert, peer.storm.postCpuMsPerAlert),
    stormCpuSeconds: ratio(nines.storm.cpuSeconds, peer.storm.cpuSeconds),
    stormPeakRssMiB: ratio(nines.storm.peakRssMiB, peer.storm.peakRssMiB),
    latency: [],
  };
  for (const n of nines.latency) {
    const p = peer.latency.find((x) => x.groupWait === n.groupWait);
    if (!p) continue;
    out.latency.push({
      groupWait: n.groupWait,
      p50: ratio(n.postToDeliveryMs.p50, p.postToDeliveryMs.p50),
      p99: ratio(n.postToDeliveryMs.p99, p.postToDeliveryMs.p99),
      overGroupWaitP50Ms: { nines: n.overGroupWaitMs.p50, alertmanager: p.overGroupWaitMs.p50 },
      overGroupWaitP99Ms: { nines: n.overGroupWaitMs.p99, alertmanager: p.overGroupWaitMs.p99 },
      cpuSeconds: ratio(n.cpuSeconds, p.cpuSeconds),
      peakRssMiB: ratio(n.peakRssMiB, p.peakRssMiB),
    });
  }
  return out;
}

function goalsOf(nines, peer) {
  if (!nines) return null;
  const goals = {};
  if (peer) {
    const n = nines.storm.acceptedAlertsPerSecond;
    const p = peer.storm.acceptedAlertsPerSecond;
    goals.intake = `Nines accepted ${n} alerts/s (stored before the 200) vs Alertmanager ${p} alerts/s (in memory); goal ≥ Alertmanager -> ${n >= p ? "met" : "NOT met"}`;
  }
  for (const l of nines.latency)
    goals[`latencyGroupWait${l.groupWait}`] =
      `Nines p99 post→delivery ${l.postToDeliveryMs.p99} ms with group_wait ${l.groupWait}; goal ≤ ${l.groupWaitMs + GOAL_LATENCY_SLACK_MS} ms -> ${l.p99WithinGoal ? "met" : "NOT met"}`;
  goals.delivery = `Nines delivered every accepted alert: storm ${nines.storm.allDelivered}, latency ${nines.latency.map((l) => `${l.groupWait} ${l.allDelivered}`).join(", ")}`;
  return goals;
}

function printTable(results, comparison) {
  const systems = Object.keys(results);
  const rows = [["figure", ...systems, ...(comparison ? ["nines/peer"] : [])]];
  const cell = (v) => (v === Number.POSITIVE_INFINITY ? "undelivered" : String(v ?? "-"));
  const row = (label, pick, ratioValue) =>
    rows.push([
      label,
      ...systems.map((s) => cell(pick(results[s]))),
      ...(comparison ? [cell(ratioValue)] : []),
    ]);
  row("storm accepted alerts/s", (r) => r.storm.acceptedAlertsPerSecond, comparison?.acceptedAlertsPerSecond);
  row("storm CPU ms/alert (posting)", (r) => r.storm.postCpuMsPerAlert, comparison?.stormPostCpuMsPerAlert);
  row(
    "storm CPU s main / other threads",
    (r) =>
      r.storm.postMainThreadCpuSeconds === undefined
        ? "-"
        : `${r.storm.postMainThreadCpuSeconds} / ${r.storm.postOtherThreadsCpuSeconds}`,
    null,
  );
  row(
    "storm notifications/s",
    (r) => r.storm.notificationsPerSecond,
    comparison?.stormNotificationsPerSecond,
  );
  row("storm p99 post→first delivery ms", (r) => r.storm.postToFirstDeliveryMs.p99, null);
  row("storm all delivered", (r) => r.storm.allDelivered, null);
  row("storm CPU s / peak RSS MiB", (r) => `${r.storm.cpuSeconds} / ${r.storm.peakRssMiB}`, null);
  row(
    "storm MiB written: files / write calls",
    (r) => `${r.storm.writtenMiB} / ${r.storm.writeSyscallMiB}`,
    null,
  );
  for (const gw of LAT_GROUP_WAITS) {
    const c = comparison?.latency.find((x) => x.groupWait === gw);
    const of = (r) => r.latency.find((x) => x.groupWait === gw);
    row(`gw ${gw}: p50 post→delivery ms`, (r) => of(r)?.postToDeliveryMs.p50, c?.p50);
    row(`gw ${gw}: p99 post→delivery ms`, (r) => of(r)?.postToDeliveryMs.p99, c?.p99);
    row(`gw ${gw}: notifications/s`, (r) => of(r)?.notificationsPerSecond, null);
    row(`gw ${gw}: all delivered`, (r) => of(r)?.allDelivered, null);
    row(
      `gw ${gw}: CPU s / peak RSS MiB`,
      (r) => `${of(r)?.cpuSeconds} / ${of(r)?.peakRssMiB}`,
      c?.cpuSeconds,
    );
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join("  "));
}

async function main() {
  const startedAt = Date.now();
  const loadBefore = loadavg();
  if (SYSTEMS.includes("alertmanager"))
    ensureInstalled({ "prometheus-alertmanager": "prometheus-alertmanager" });
  if (SYSTEMS.includes("nines")) buildIfStale();
  const builtAtStart = distBuiltAt();
  const sink = await startSink();
  const results = {};
  try {
    for (const system of SYSTEMS) {
      console.log(`${system}: storm of ${STORM_ALERTS} alerts (${STORM_CLIENTS} clients × ${STORM_BATCH})…`);
      const storm = await runStorm(system, sink);
      console.log(
        `  ${storm.alertsAccepted} accepted in ${storm.postingSeconds} s = ${storm.acceptedAlertsPerSecond}/s; ${storm.notifications} notifications, all delivered: ${storm.allDelivered}`,
      );
      const latency = [];
      for (const gw of LAT_GROUP_WAITS) {
        console.log(`${system}: latency, group_wait ${gw}, ${LAT_RATE} alerts/s for ${LAT_SECONDS} s…`);
        const l = await runLatency(system, sink, gw);
        console.log(
          `  p50 ${l.postToDeliveryMs.p50} ms, p99 ${l.postToDeliveryMs.p99} ms, ${l.alertsDelivered}/${l.alertsAccepted} delivered`,
        );
        latency.push(l);
      }
      results[system] = { storm, latency };
    }
  } finally {
    await sink.close();
  }
  const comparison = compare(results.nines, results.alertmanager);
  const output = {
    bench: "alerts",
    date: new Date(startedAt).toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      loadavgBefore: loadBefore.map((x) => round(x, 2)),
      loadavgAfter: loadavg().map((x) => round(x, 2)),
    },
    versions: {
      node: process.version,
      alertmanager: SYSTEMS.includes("alertmanager") ? versionOf("prometheus-alertmanager") : null,
      nines: { ...ninesRevision(builtAtStart), cli: NINES_CLI },
    },
    workload: {
      routingTree: alertmanagerYaml("http://127.0.0.1:SINK", "<group_wait>", GROUP_INTERVAL),
      storm: {
        alerts: STORM_ALERTS,
        batch: STORM_BATCH,
        clients: STORM_CLIENTS,
        maxSeconds: STORM_MAX_S,
        rate: STORM_RATE ?? "unpaced",
        groupWait: "0s",
        groupInterval: GROUP_INTERVAL,
        labels:
          "alertname Storm00..Storm39, cluster c0..c9, severity critical|warning|info, team db|storage|web|api|edge, unique instance and bench_id",
      },
      latency: {
        groupWaits: LAT_GROUP_WAITS,
        rate: LAT_RATE,
        seconds: LAT_SECONDS,
        batch: LAT_BATCH,
        warmupAlerts: WARMUP_ALERTS,
        grouping: 'route phase="latency" groups by [alertname, cluster, bench_id]: one new group per alert',
      },
      nines: `node dist/cli/main.js serve, embedded SQLite in a fresh data dir, NINES_LOG_LEVEL=warn${env.NINES_NODE_ARGS ? `, node ${env.NINES_NODE_ARGS}` : ""}`,
      alertmanager:
        "prometheus-alertmanager, fresh --storage.path, --cluster.listen-address= (no cluster), --log.level=warn",
    },
    results,
    comparison,
    goals: goalsOf(results.nines, results.alertmanager),
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  const complete = results.nines && results.alertmanager;
  if (complete || env.OUT) {
    mkdirSync(resolve(OUT, ".."), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
    console.log(`wrote ${OUT} (${output.durationSeconds} s)`);
  } else console.log(JSON.stringify(output, null, 2));
  printTable(results, comparison);
  if (output.goals) for (const [k, v] of Object.entries(output.goals)) console.log(`goal ${k}: ${v}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
