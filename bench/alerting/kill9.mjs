#!/usr/bin/env node
// Crash test of alert delivery: `nines serve` (embedded SQLite and TSDB) takes an alert storm and is killed
// with SIGKILL at random moments, then restarted over the same data directory, many times; a webhook sink in
// this process is the receiver. After the last cycle a server that is not killed runs until its outbox has
// drained. Then every alert that got a 200 must have reached the sink in at least one webhook payload, every
// delivery must carry an Idempotency-Key header, and a notification delivered twice must carry the same key.
//
//   node bench/alerting/kill9.mjs            # KILL9_CYCLES=200 KILL9_MAX_MS=600000 by default
//   KILL9_CYCLES=50 KILL9_POSTERS=8 node bench/alerting/kill9.mjs
//   also KILL9_MAX_MS, KILL9_DRAIN_MS, KILL9_BATCH, KILL9_KILL_AFTER_MS=min,max and KILL9_KEEP_DIR=1
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CLI = join(ROOT, "bin/nines.js");
const TOKEN = "nines_kill9-admin-token-0123456789abcdef";
/** The label that names one alert; the sink finds each accepted alert by it. */
const ALERT_ID = "kill9_id";

/**
 * One group per POST (group_by its batch label), so that every request leads to its own notification and a
 * kill can land between intake, the group's flush, the outbox row and the delivery. group_wait is short for
 * the same reason: deliveries are under way whenever the kill comes.
 */
function alertmanagerConfig(sinkUrl) {
  return `apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    route:
      receiver: sink
      group_by: [kill9_batch]
      group_wait: 100ms
      group_interval: 1s
      repeat_interval: 4h
    receivers:
      - name: sink
        webhook_configs: [{ url: "${sinkUrl}" }]
`;
}

/** A webhook receiver that records every delivery with its Idempotency-Key header and answers 200. */
async function startSink() {
  const deliveries = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      deliveries.push({ key: request.headers["idempotency-key"], body, text });
      response.writeHead(200).end();
    });
  });
  // Keep-alive sockets of a killed server stay half-open; they must not keep close() waiting.
  server.keepAliveTimeout = 1000;
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** CPU time (user + system) a process has used so far, from /proc; undefined where there is none. */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Starts `nines serve` as a user would and resolves once it says where it serves. */
function startServer({ configDir, dataDir }) {
  const spawnedAt = performance.now();
  return new Promise((resolveStart, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--config", configDir, "--data-dir", dataDir, "--port", "0"],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "", NINES_ADMIN_TOKEN: TOKEN, NINES_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const exited = new Promise((done) => child.on("exit", (code, signal) => done({ code, signal })));
    let log = "";
    let err = "";
    const keepTail = (text) => (text.length > 20_000 ? text.slice(-10_000) : text);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start within 30 s: ${err.slice(-2000)}`));
    }, 30_000);
    child.stdout.on("data", (d) => {
      log = keepTail(log + d.toString());
    });
    child.stderr.on("data", (d) => {
      err = keepTail(err + d.toString());
      const match = /serving at (http:\/\/\S+)/.exec(err);
      if (match) {
        clearTimeout(timer);
        resolveStart({
          child,
          url: match[1],
          readyMs: Math.round(performance.now() - spawnedAt),
          readyCpuMs: cpuMsOf(child.pid),
          cpuMs: () => cpuMsOf(child.pid),
          exited,
          log: () => log,
        });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before serving: ${err.slice(-2000)}`));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const auth = { authorization: `Bearer ${TOKEN}` };

/** Notifications the server has not delivered yet, and those it gave up on. */
async function outboxCounts(url) {
  const count = async (status) => {
    const r = await fetch(`${url}/api/v1/notifications?status=${status}&limit=1000`, { headers: auth });
    if (r.status !== 200) throw new Error(`GET /api/v1/notifications answered ${r.status}`);
    return (await r.json()).notifications.length;
  };
  return { pending: await count("pending"), dead: await count("dead") };
}

/** What makes two deliveries the same notification: its group, status and alerts. */
function notificationOf(body) {
  const alerts = (body.alerts ?? []).map((a) => `${a.fingerprint}:${a.status}`).sort();
  return `${body.receiver}|${body.groupKey}|${body.status}|${alerts.join(",")}`;
}

/** Checks the sink's deliveries against the alerts that got a 200. */
export function checkDeliveries(accepted, deliveries) {
  const delivered = new Set();
  const withoutKey = [];
  const notJson = [];
  const keysByNotification = new Map();
  const notificationsByKey = new Map();
  for (const delivery of deliveries) {
    if (delivery.body === undefined) {
      notJson.push(delivery.text.slice(0, 200));
      continue;
    }
    const notification = notificationOf(delivery.body);
    if (typeof delivery.key !== "string" || delivery.key === "") withoutKey.push(notification);
    else {
      const keys = keysByNotification.get(notification) ?? new Set();
      keys.add(delivery.key);
      keysByNotification.set(notification, keys);
      const notifications = notificationsByKey.get(delivery.key) ?? new Set();
      notifications.add(notification);
      notificationsByKey.set(delivery.key, notifications);
    }
    if (delivery.body.status === "firing")
      for (const alert of delivery.body.alerts ?? []) delivered.add(alert.labels?.[ALERT_ID]);
  }
  return {
    missing: [...accepted].filter((id) => !delivered.has(id)),
    withoutKey,
    notJson,
    // The same notification under two keys: a receiver could not tell the second one is a duplicate.
    duplicatedUnderTwoKeys: [...keysByNotification].filter(([, keys]) => keys.size > 1).map(([n]) => n),
    // One key for two different notifications: a receiver would drop the second as a duplicate.
    keyReused: [...notificationsByKey].filter(([, ns]) => ns.size > 1).map(([key]) => key),
    notifications: keysByNotification.size,
    deliveriesOfSameNotification:
      deliveries.length - notJson.length - withoutKey.length - keysByNotification.size,
  };
}

/**
 * Runs the crash cycles and the drain, and returns what happened and what is wrong (empty lists when all is
 * well).
 * @param {import("./kill9.d.mts").Kill9Options} options
 */
export async function runKill9(options = {}) {
  const cycles = options.cycles ?? 20;
  const maxMs = options.maxMs ?? 60_000;
  const drainMs = options.drainMs ?? 30_000;
  const posters = options.posters ?? 3;
  const batch = options.batch ?? 5;
  const [killMinMs, killMaxMs] = options.killAfterMs ?? [100, 1500];
  const log = options.log ?? (() => {});
  for (const [name, value] of Object.entries({
    cycles,
    maxMs,
    drainMs,
    posters,
    batch,
    killMinMs,
    killMaxMs,
  }))
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`kill9: ${name} must be a number ≥ 0, not ${value}`);
  if (killMinMs > killMaxMs)
    throw new Error(`kill9: killAfterMs must be [min, max], not [${killMinMs}, ${killMaxMs}]`);
  const dir = mkdtempSync(join(tmpdir(), "nines-kill9-"));
  const configDir = join(dir, "config");
  const dataDir = join(dir, "data");
  mkdirSync(configDir);
  const sink = await startSink();
  writeFileSync(join(configDir, "alertmanager.yaml"), alertmanagerConfig(sink.url));
  const accepted = new Set();
  const readyMs = [];
  const readyCpuMs = [];
  let serverCpuMs = 0;
  let refused = 0;
  let failed = 0;
  let ran = 0;
  const started = Date.now();
  let final;
  try {
    for (let cycle = 0; cycle < cycles && Date.now() - started < maxMs; cycle++) {
      const server = await startServer({ configDir, dataDir });
      readyMs.push(server.readyMs);
      if (server.readyCpuMs !== undefined) readyCpuMs.push(server.readyCpuMs);
      let alive = true;
      const poster = async (p) => {
        for (let n = 0; alive; n++) {
          const group = `${cycle}-${p}-${n}`;
          const ids = Array.from({ length: batch }, (_, i) => `${group}-${i}`);
          const body = JSON.stringify(
            ids.map((id) => ({
              labels: { alertname: "Kill9", kill9_batch: group, [ALERT_ID]: id },
              annotations: { summary: `alert ${id} of the crash test` },
            })),
          );
          try {
            const r = await fetch(`${server.url}/api/v2/alerts`, {
              method: "POST",
              headers: { "content-type": "application/json", ...auth },
              body,
            });
            await r.arrayBuffer();
            if (r.status === 200) for (const id of ids) accepted.add(id);
            else refused++;
          } catch {
            // The kill: this request's answer never came, so its alerts may or may not be stored.
            failed++;
            return;
          }
        }
      };
      const storm = Array.from({ length: posters }, (_, p) => poster(p));
      await sleep(killMinMs + Math.random() * (killMaxMs - killMinMs));
      serverCpuMs += server.cpuMs() ?? 0;
      server.child.kill("SIGKILL");
      await server.exited;
      alive = false;
      await Promise.allSettled(storm);
      ran++;
      log(`cycle ${cycle}: ready in ${server.readyMs} ms, ${accepted.size} alerts accepted so far`);
    }
    const cyclesMs = Date.now() - started;
    // A last run that is not killed: it resumes the groups and the outbox the crashes left, and delivers.
    final = await startServer({ configDir, dataDir });
    readyMs.push(final.readyMs);
    if (final.readyCpuMs !== undefined) readyCpuMs.push(final.readyCpuMs);
    let outbox = await outboxCounts(final.url);
    let check = checkDeliveries(accepted, sink.deliveries);
    const drainStarted = Date.now();
    while (Date.now() - drainStarted < drainMs && (outbox.pending > 0 || check.missing.length > 0)) {
      await sleep(250);
      outbox = await outboxCounts(final.url);
      check = checkDeliveries(accepted, sink.deliveries);
    }
    const drainedInMs = Date.now() - drainStarted;
    serverCpuMs += final.cpuMs() ?? 0;
    final.child.kill("SIGTERM");
    const exit = await final.exited;
    const summary = (values) => {
      const sorted = [...values].sort((a, b) => a - b);
      return {
        first: values[0] ?? 0,
        p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
        max: sorted[sorted.length - 1] ?? 0,
      };
    };
    return {
      cycles: ran,
      accepted: accepted.size,
      refused,
      failedRequests: failed,
      deliveries: sink.deliveries.length,
      notifications: check.notifications,
      deliveriesOfSameNotification: check.deliveriesOfSameNotification,
      pendingAfterDrain: outbox.pending,
      deadLetters: outbox.dead,
      cyclesMs,
      drainedInMs,
      elapsedMs: Date.now() - started,
      readyMs: summary(readyMs),
      readyCpuMs: summary(readyCpuMs),
      serverCpuMs: Math.round(serverCpuMs),
      finalExit: exit.code ?? exit.signal,
      missing: check.missing,
      withoutKey: check.withoutKey,
      notJson: check.notJson,
      duplicatedUnderTwoKeys: check.duplicatedUnderTwoKeys,
      keyReused: check.keyReused,
    };
  } finally {
    final?.child.kill("SIGKILL");
    await sink.close();
    if (options.keepDir) log(`data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runKill9({
    cycles: Number(process.env.KILL9_CYCLES ?? 200),
    maxMs: Number(process.env.KILL9_MAX_MS ?? 600_000),
    drainMs: Number(process.env.KILL9_DRAIN_MS ?? 180_000),
    posters: Number(process.env.KILL9_POSTERS ?? 4),
    batch: Number(process.env.KILL9_BATCH ?? 10),
    keepDir: process.env.KILL9_KEEP_DIR === "1",
    killAfterMs: /** @type {[number, number]} */ (
      (process.env.KILL9_KILL_AFTER_MS ?? "100,1500").split(",").map(Number)
    ),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  const problems = ["missing", "withoutKey", "notJson", "duplicatedUnderTwoKeys", "keyReused"];
  const summary = { ...result };
  // Long lists are cut in the printout; their lengths say how bad it is.
  for (const name of problems) summary[name] = result[name].slice(0, 20);
  console.log(
    JSON.stringify(
      { ...summary, counts: Object.fromEntries(problems.map((n) => [n, result[n].length])) },
      null,
      2,
    ),
  );
  const ok = problems.every((name) => result[name].length === 0) && result.finalExit === 0;
  process.exit(ok ? 0 : 1);
}
