#!/usr/bin/env node
// The Nines side of bench/slo, in its own process so /proc shows its CPU and memory alone: the whole server
// (createNines from dist/: SQLite, config apply, embedded TSDB, remote_write receiver, SloRuntime) on a
// simulated clock, so a cycle is driven on request instead of waiting for the wall-clock minute. The bench
// pushes samples to its remote_write endpoint and asks, on a second loopback port:
//   POST /reload        apply the config dir again (the SLO documents) and wait for SloRuntime's replay
//   POST /tick?now=MS   one SloRuntime.tick(now): the SLI queries of the minute that closed, folding into
//                       every SLO's buckets, budget and every tier; answers wall and CPU time of the tick
//   GET  /status        how many SLOs have data, and their health
//   GET  /memory        process.memoryUsage() and V8's heap before and after a full GC (what is live vs garbage)
// Env: NINES_DATA_DIR, NINES_CONFIG, NINES_PORT, CONTROL_PORT, START_MS, NINES_ADMIN_TOKEN, NINES_DIST (the
// build to run; default this checkout's dist/).
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";

const root = resolve(import.meta.dirname, "../..");
const dist = resolve(process.env.NINES_DIST ?? join(root, "dist"));
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { createNines } = await load("app/nines-app.js");
const { loadSettings } = await load("app/settings.js");
const { ManualClock } = await load("platform/clock.js");
const { silentLogger } = await load("platform/logger.js");

const env = process.env;
const clock = new ManualClock(Number(env.START_MS));
const { limitHeapGrowth } = await load("platform/heap-growth.js");
const settings = loadSettings(env, { host: "127.0.0.1", runChecks: "true" });
// As `nines serve` does before it builds the server.
limitHeapGrowth(settings.heapGrowthPercent);
const app = await createNines(settings, { clock, log: silentLogger });
await app.listen();

/** SloRuntime serialises reloads behind a private promise; the bench waits for it (a bench may peek). */
const settled = () => app.slos.work;

/** CPU ms of each thread by name, from /proc (10 ms ticks): process.cpuUsage() sums them all. */
function threadCpuMs() {
  const out = {};
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const name =
        tid === String(process.pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
      out[name] = (out[name] ?? 0) + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      // The thread ended.
    }
  }
  return out;
}

function threadCpuSince(before) {
  const out = {};
  for (const [name, ms] of Object.entries(threadCpuMs())) {
    const used = ms - (before[name] ?? 0);
    if (used > 0) out[name] = used;
  }
  return out;
}

async function timed(job) {
  const cpu = process.cpuUsage();
  const threads = threadCpuMs();
  const started = performance.now();
  const value = await job();
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return {
    value,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    threadCpuMs: threadCpuSince(threads),
  };
}

function status() {
  const counts = { slos: 0, groups: 0, withData: 0, firingTiers: 0, byStatus: {} };
  let sliSum = 0;
  for (const slo of app.slos.list()) {
    counts.slos++;
    for (const g of slo.groups) {
      counts.groups++;
      if (g.status.total > 0) counts.withData++;
      if (g.status.sli !== null) sliSum += g.status.sli;
      counts.firingTiers += g.status.tiers.filter((t) => t.firing).length;
      counts.byStatus[g.status.status] = (counts.byStatus[g.status.status] ?? 0) + 1;
    }
  }
  return { ...counts, meanSli: counts.withData > 0 ? sliSum / counts.withData : null };
}

v8.setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc");

function memoryBreakdown() {
  const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const usage = () => {
    const m = process.memoryUsage();
    return {
      rssMiB: mib(m.rss),
      heapTotalMiB: mib(m.heapTotal),
      heapUsedMiB: mib(m.heapUsed),
      externalMiB: mib(m.external),
      arrayBuffersMiB: mib(m.arrayBuffers),
    };
  };
  const before = usage();
  collectGarbage();
  const after = usage();
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_used_size)]),
  );
  return { beforeGc: before, afterGc: after, heapSpacesUsedMiB: spaces };
}

const control = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", "http://x");
    let body;
    if (req.method === "POST" && url.pathname === "/reload") {
      if (url.searchParams.has("now")) clock.set(Number(url.searchParams.get("now")));
      const r = await timed(async () => {
        const applied = await app.reloadConfig();
        await settled();
        return applied;
      });
      body = {
        ok: r.value?.ok ?? false,
        problems: (r.value?.problems ?? []).slice(0, 3),
        wallMs: r.wallMs,
        cpuMs: r.cpuMs,
      };
    } else if (req.method === "POST" && url.pathname === "/tick") {
      const now = Number(url.searchParams.get("now"));
      clock.set(now);
      // Monotonic microseconds, the clock of --cpu-prof's samples: to find the tick in a profile.
      const startedUs = Number(process.hrtime.bigint() / 1000n);
      const r = await timed(() => app.slos.tick(now));
      const endedUs = Number(process.hrtime.bigint() / 1000n);
      const mem = process.memoryUsage();
      body = {
        wallMs: r.wallMs,
        cpuMs: r.cpuMs,
        threadCpuMs: r.threadCpuMs,
        startedUs,
        endedUs,
        rssMiB: mem.rss / 2 ** 20,
        heapUsedMiB: mem.heapUsed / 2 ** 20,
      };
    } else if (url.pathname === "/memory") {
      body = memoryBreakdown();
    } else if (url.pathname === "/status") {
      body = status();
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  } catch (error) {
    res.writeHead(500).end(String(error?.stack ?? error));
  }
});
control.listen(Number(env.CONTROL_PORT), "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    control.close();
    await app.close();
    process.exit(0);
  });
}
