// The alerting pipeline in one process, in simulated time: CPU (and, with ALLOC=1, bytes allocated) per
// alert for the intake (validate, store, route) and the flushes with their saves and outbox rows, without
// HTTP, sending or a load generator. The same work in every run (a ManualClock, one intake after another), so that two builds
// compare on a busy machine where bench/alerts's wall-clock figures do not. Not a figure for the issue.
//
//   node bench/alerts/pipeline.mjs              # this checkout's dist/
//   NINES_DIST=/other/dist node bench/alerts/pipeline.mjs
//   ALERTS=20000 BATCH=100 RATE=5000 ROUNDS=3 (defaults)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session } from "node:inspector/promises";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { alertmanagerYaml, stormAlert } from "./workload.mjs";

const root = resolve(import.meta.dirname, "../..");
const dist = resolve(process.env.NINES_DIST ?? join(root, "dist"));
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { openDatabase } = await load("platform/db/database.js");
const { migrateToLatest } = await load("platform/db/migrate.js");
const { ManualClock } = await load("platform/clock.js");
const { silentLogger } = await load("platform/logger.js");
const { createEventBus } = await load("platform/events.js");
const { AlertingRuntime } = await load("alerting/alerting-runtime.js");
const { createNotificationOutbox } = await load("notify/index.js");

const ALERTS = Number(process.env.ALERTS ?? 20_000);
const BATCH = Number(process.env.BATCH ?? 100);
const RATE = Number(process.env.RATE ?? 5_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** ALLOC=1: also the bytes allocated per alert (V8's sampling heap profiler, garbage included; slower). */
const ALLOC = process.env.ALLOC === "1";
const session = new Session();
session.connect();
const sumSizes = (node) => node.selfSize + node.children.reduce((n, c) => n + sumSizes(c), 0);

// bench/alerts's tree and storm alerts (workload.mjs); the webhook URLs are never called.
const tree = parse(alertmanagerYaml("http://127.0.0.1:9", "0s", "1s"));
const alertFor = (i, run) => stormAlert(i, `r${run}`);

async function once(run) {
  const dir = mkdtempSync(join(tmpdir(), "nines-pipeline-"));
  const database = openDatabase({ dataDir: dir });
  await migrateToLatest(database.db);
  const clock = new ManualClock(Date.UTC(2026, 11, 1));
  const config = {
    apiVersion: "nines/v1",
    kind: "AlertmanagerConfig",
    metadata: { name: "default" },
    spec: { alertmanager: tree, receiverOptions: {}, recurringSilences: [] },
  };
  const runtime = new AlertingRuntime({
    db: database.db,
    clock,
    log: silentLogger,
    events: createEventBus(() => {}),
    outbox: createNotificationOutbox({ clock }),
    load: async () => ({ config, receivers: [] }),
    schedule: false,
    // Groups and alert records saved by period, as a server saves them (2 s), not at every save.
    periodicSaveMs: 2_000,
  });
  await runtime.start();
  const requests = [];
  for (let i = 0; i < ALERTS; i += BATCH)
    requests.push(Array.from({ length: Math.min(BATCH, ALERTS - i) }, (_, k) => alertFor(i + k, run)));
  const stepMs = (BATCH / RATE) * 1000;
  if (ALLOC)
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (const alerts of requests) {
    const result = await runtime.receive(alerts, "api");
    if (result.accepted !== alerts.length) throw new Error(`rejected: ${JSON.stringify(result.rejected[0])}`);
    clock.advance(stepMs);
    await runtime.tick();
  }
  clock.advance(2_000);
  await runtime.tick();
  await runtime.flush();
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  let allocated = 0;
  if (ALLOC) {
    const { profile } = await session.post("HeapProfiler.stopSampling");
    allocated = sumSizes(profile.head);
    // ALLOC_PROFILE=FILE keeps the last round's profile (open it in Chrome's DevTools, Memory tab).
    if (process.env.ALLOC_PROFILE) writeFileSync(process.env.ALLOC_PROFILE, JSON.stringify(profile));
  }
  const { count } = await database.db
    .selectFrom("notification_outbox")
    .select((eb) => eb.fn.countAll().as("count"))
    .executeTakeFirstOrThrow();
  await runtime.stop();
  await database.db.destroy();
  rmSync(dir, { recursive: true, force: true });
  const cpuMs = (used.user + used.system) / 1000;
  return { cpuMsPerAlert: cpuMs / ALERTS, wallMs, outboxRows: Number(count), allocated };
}

for (let r = 0; r < ROUNDS; r++) {
  const x = await once(r);
  console.log(
    `round ${r + 1}: ${(x.cpuMsPerAlert * 1000).toFixed(1)} µs CPU/alert, wall ${x.wallMs.toFixed(0)} ms, ` +
      `${x.outboxRows} outbox rows` +
      (ALLOC ? `, ${(x.allocated / ALERTS / 1024).toFixed(1)} KiB allocated/alert` : ""),
  );
}
