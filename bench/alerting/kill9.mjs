#!/usr/bin/env node
// Crash test of the alert intake: a Nines server (with the alerting runtime) takes an alert storm and is
// killed with SIGKILL at random moments, then restarted over the same data directory, many times. At the
// end every alert that got a 200 must be in the alerts table and in an outbox row of its notification, and
// one notification never has two idempotency keys.
//
//   node bench/alerting/kill9.mjs            # KILL9_CYCLES=200 KILL9_MAX_MS=600000 by default
//   KILL9_CYCLES=50 KILL9_POSTERS=8 node bench/alerting/kill9.mjs
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TOKEN = "nines_kill9-admin-token-0123456789abcdef";

const CONFIG = `apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    route:
      receiver: hook
      group_by: [alertname]
      group_wait: 1s
      group_interval: 1s
      repeat_interval: 4h
    receivers:
      - name: hook
        webhook_configs: [{ url: "http://127.0.0.1:9/hook" }]
`;

/** The server entry: the alerting test server (rows only, no delivery; see its header). */
const SERVER = join(ROOT, "dist/alerting/testing/alerting-test-server.js");

function startServer(env) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the server did not start within 20 s: ${err.slice(-2000)}`));
    }, 20_000);
    child.stderr.on("data", (d) => {
      err += d.toString();
    });
    child.stdout.on("data", (d) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, url: m[1], exited: new Promise((r) => child.on("exit", r)) });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!/listening/.test(out)) reject(new Error(`the server exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** The NotificationRequest of an outbox row: src/notify stores it inside {request, type, config}. */
const requestOf = (text) => JSON.parse(text).request;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the crash cycles and returns what happened and what is wrong (empty lists when all is well).
 * @param {{cycles?: number, maxMs?: number, posters?: number, batch?: number, log?: (line: string) => void}} options
 */
export async function runKill9(options = {}) {
  const cycles = options.cycles ?? 20;
  const maxMs = options.maxMs ?? 60_000;
  const posters = options.posters ?? 3;
  const batch = options.batch ?? 5;
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), "nines-kill9-"));
  writeFileSync(join(dir, "nines.yaml"), CONFIG);
  const env = {
    ...process.env,
    NINES_DATA_DIR: join(dir, "data"),
    NINES_CONFIG: join(dir, "nines.yaml"),
    NINES_ADMIN_TOKEN: TOKEN,
    NINES_RUN_CHECKS: "false",
    NINES_DATABASE_URL: "",
  };
  delete env.NINES_DATABASE_URL;
  const accepted = new Set();
  let refused = 0;
  let failed = 0;
  let ran = 0;
  const started = Date.now();
  try {
    for (let cycle = 0; cycle < cycles && Date.now() - started < maxMs; cycle++) {
      const server = await startServer(env);
      let alive = true;
      const poster = async (p) => {
        for (let n = 0; alive; n++) {
          const names = Array.from({ length: batch }, (_, i) => `K9-${cycle}-${p}-${n}-${i}`);
          const body = JSON.stringify(
            names.map((alertname) => ({ labels: { alertname, job: "kill9" }, annotations: {} })),
          );
          try {
            const r = await fetch(`${server.url}/api/v2/alerts`, {
              method: "POST",
              headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
              body,
            });
            await r.arrayBuffer();
            if (r.status === 200) for (const name of names) accepted.add(name);
            else refused++;
          } catch {
            failed++;
            return;
          }
        }
      };
      const storm = Array.from({ length: posters }, (_, p) => poster(p));
      await sleep(100 + Math.random() * 1400);
      server.child.kill("SIGKILL");
      alive = false;
      await server.exited;
      await Promise.allSettled(storm);
      ran++;
      log(`cycle ${cycle}: ${accepted.size} alerts accepted so far`);
    }
    // A last run that is not killed: it resumes and flushes what the crashes left pending.
    const final = await startServer(env);
    const Database = createRequire(join(ROOT, "package.json"))("better-sqlite3");
    const db = new Database(join(dir, "data", "nines.db"), { readonly: true, fileMustExist: true });
    const notified = () => {
      const names = new Set();
      for (const row of db.prepare("select request from notification_outbox").all()) {
        const request = requestOf(row.request);
        if (request.status === "firing") for (const a of request.alerts) names.add(a.labels.alertname);
      }
      return names;
    };
    let missingOutbox = [];
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(250)) {
      const names = notified();
      missingOutbox = [...accepted].filter((n) => !names.has(n));
      if (missingOutbox.length === 0) break;
    }
    final.child.kill("SIGTERM");
    await final.exited;
    const stored = new Set(
      db
        .prepare("select labels from alerts")
        .all()
        .map((r) => JSON.parse(r.labels).alertname),
    );
    const missingInTable = [...accepted].filter((n) => !stored.has(n));
    // One notification (group, status, alerts) must never carry two idempotency keys.
    const keysByNotification = new Map();
    const rows = db.prepare("select idempotency_key, request from notification_outbox").all();
    for (const row of rows) {
      const request = requestOf(row.request);
      const id = `${request.receiver}|${request.groupKey}|${request.status}|${request.alerts
        .map((a) => `${a.fingerprint}:${a.status}`)
        .sort()
        .join(",")}`;
      const keys = keysByNotification.get(id) ?? new Set();
      keys.add(request.idempotencyKey);
      keysByNotification.set(id, keys);
    }
    const duplicated = [...keysByNotification].filter(([, keys]) => keys.size > 1).map(([id]) => id);
    db.close();
    return {
      cycles: ran,
      accepted: accepted.size,
      refused,
      failedRequests: failed,
      outboxRows: rows.length,
      elapsedMs: Date.now() - started,
      missingInTable,
      missingOutbox,
      duplicated,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runKill9({
    cycles: Number(process.env.KILL9_CYCLES ?? 200),
    maxMs: Number(process.env.KILL9_MAX_MS ?? 600_000),
    posters: Number(process.env.KILL9_POSTERS ?? 4),
    batch: Number(process.env.KILL9_BATCH ?? 10),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(JSON.stringify(result, null, 2));
  const ok =
    result.missingInTable.length === 0 && result.missingOutbox.length === 0 && result.duplicated.length === 0;
  process.exit(ok ? 0 : 1);
}
