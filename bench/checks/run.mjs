#!/usr/bin/env node
// Synthetic HTTP checks at scale, side by side: Nines (`nines serve`, compiled in dist/) against Debian's
// prometheus-blackbox-exporter probed by Debian's prometheus, one system after the other at each rate of a
// ladder, against the same nginx target on 127.0.0.1. Writes bench/results/checks.json and prints a table.
// Traffic goes to loopback only; every wait and loop is bounded; every child is stopped by its process id.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import {
  benchWorkspace,
  buildIfStale,
  cpuSeconds,
  ensureInstalled,
  freePort,
  memory,
  quantile,
  root,
  round,
  sleep,
  stopChild,
  waitFor,
} from "../lib/bench-kit.mjs";

const env = process.env;
/** Each step is CHECKS@INTERVAL; the target rate is CHECKS / INTERVAL. One step has 10,000 checks. */
const STEPS = (env.STEPS ?? "500@1s,1000@1s,1500@1s,2000@1s,3000@1s,10000@3300ms,4000@1s")
  .split(",")
  .map(parseStep);
const SYSTEMS = (env.SYSTEMS ?? "nines,peer").split(",");
const WARMUP_S = Number(env.WARMUP_S ?? 10);
const MEASURE_S = Number(env.MEASURE_S ?? 30);
/** The checks API is timed in its own window right after the measuring one, so its CPU is not billed to checks. */
const API_S = Number(env.API_S ?? 6);
const API_MAX_REQUESTS = 400;
const NINES_CONCURRENCY = Number(env.NINES_CONCURRENCY ?? 1000);
/** A directory to write a V8 CPU profile of the Nines server per step (node --cpu-prof); off unless set. */
const CPU_PROF_DIR = env.CPU_PROF_DIR ? resolve(env.CPU_PROF_DIR) : null;
/** A directory to save the Nines server's /metrics at the end of each step's measuring window; off unless set. */
const METRICS_DIR = env.METRICS_DIR ? resolve(env.METRICS_DIR) : null;
const CHECK_TIMEOUT = "900ms";
const ADMIN_TOKEN = "bench-checks-admin-token-0123456789";
const KEEP_UP = { minCompletedShare: 0.95, maxLagP99Seconds: 1 };
const GOALS = { sustainedChecksPerSecond: 3000, maxCpuMsPerCheck: 0.3, maxRssMiBWith10k: 500, apiP99Ms: 50 };
/** Where the results go; a side run can write elsewhere so that it does not replace the full run's file. */
const OUT = resolve(env.OUT ?? join(root, "bench/results/checks.json"));

function parseStep(text) {
  const m = /^(\d+)@(\d+(?:\.\d+)?)(ms|s)$/.exec(text.trim());
  if (!m) throw new Error(`STEPS: "${text}" is not CHECKS@INTERVAL such as 3000@1s or 10000@3300ms`);
  const intervalMs = Number(m[2]) * (m[3] === "s" ? 1000 : 1);
  if (intervalMs < 1000) throw new Error(`STEPS: "${text}": the interval must be at least 1s`);
  const checks = Number(m[1]);
  return { checks, intervalMs, interval: `${intervalMs}ms`, targetRate: (checks * 1000) / intervalMs };
}

// ---------------------------------------------------------------------------------------------------------
// Children and clean-up. Every child is spawned detached (its own process group) and stopped by its id.

const { work, startChild } = benchWorkspace("nines-bench-checks-");

// ---------------------------------------------------------------------------------------------------------
// Helpers.

async function get(url, options = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 30_000), ...options });
  const text = await res.text();
  if (!res.ok && !options.allowError) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 200)}`);
  return { status: res.status, text };
}

/** Prometheus text format to a list of { name, labels, value }; enough for the series this bench reads. */
function parseExposition(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (line === "" || line[0] === "#") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sumOf = (samples, name, filter = () => true) =>
  samples.filter((s) => s.name === name && filter(s.labels)).reduce((a, s) => a + s.value, 0);

/** histogram_quantile over the difference of two scrapes of one histogram, as Prometheus interpolates it. */
function histogramQuantile(q, before, after, name) {
  const buckets = (samples) =>
    new Map(samples.filter((s) => s.name === `${name}_bucket`).map((s) => [s.labels.le, s.value]));
  const b0 = buckets(before);
  const rows = [...buckets(after)]
    .map(([le, v]) => ({
      le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le),
      count: v - (b0.get(le) ?? 0),
    }))
    .sort((a, b) => a.le - b.le);
  const total = rows.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const row of rows) {
    if (row.count >= rank) {
      if (row.le === Number.POSITIVE_INFINITY) return prevLe; // above the highest bound: Prometheus says that bound
      return prevLe + ((row.le - prevLe) * (rank - prevCount)) / Math.max(row.count - prevCount, 1e-9);
    }
    prevLe = row.le;
    prevCount = row.count;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// The target: nginx with one worker answering 200 "ok" on every path, on a fresh connection or not.

async function startTarget() {
  const dir = join(work, "nginx");
  mkdirSync(join(dir, "tmp"), { recursive: true });
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(
    join(dir, "nginx.conf"),
    `${asRoot ? "user nobody nogroup;" : ""}
worker_processes 1;
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 32768; multi_accept on; }
http {
  access_log off;
  keepalive_timeout 5s;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /nginx_status { stub_status; }
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`,
  );
  const child = startChild("nginx", "nginx", [
    "-p",
    dir,
    "-e",
    join(dir, "error.log"),
    "-c",
    join(dir, "nginx.conf"),
    "-g",
    "daemon off;",
  ]);
  await waitFor("nginx", child, async () => (await get(`http://127.0.0.1:${port}/`)).text === "ok\n", 10_000);
  return { child, port, url: (i) => `http://127.0.0.1:${port}/c/${i}` };
}

async function targetRequests(target) {
  const { text } = await get(`http://127.0.0.1:${target.port}/nginx_status`);
  // "Active connections: N \nserver accepts handled requests\n A H R \n..."
  return Number(text.split("\n")[2].trim().split(/\s+/)[2]);
}

// ---------------------------------------------------------------------------------------------------------
// Nines.

function ninesConfig(dir, step, target) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "00-team.yaml"),
    "apiVersion: nines/v1\nkind: Team\nmetadata:\n  name: bench\nspec:\n  displayName: Bench\n---\n" +
      "apiVersion: nines/v1\nkind: Service\nmetadata:\n  name: target\nspec:\n  ownerTeam: bench\n  tier: 3\n",
  );
  const docs = [];
  for (let i = 0; i < step.checks; i++) {
    docs.push(
      `apiVersion: nines/v1\nkind: Check\nmetadata:\n  name: c-${i}\nspec:\n  service: target\n` +
        `  interval: ${step.interval}\n  timeout: ${CHECK_TIMEOUT}\n  probe:\n    type: http\n    url: ${target.url(i)}\n`,
    );
  }
  writeFileSync(join(dir, "10-checks.yaml"), docs.join("---\n"));
}

async function measureNines(step, target, index) {
  const dir = join(work, `nines-${index}`);
  ninesConfig(join(dir, "config"), step, target);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const profArgs = CPU_PROF_DIR
    ? [
        "--cpu-prof",
        "--cpu-prof-dir",
        CPU_PROF_DIR,
        "--cpu-prof-name",
        `nines-${step.checks}at${step.interval}.cpuprofile`,
      ]
    : [];
  const started = performance.now();
  const child = startChild(
    "nines",
    process.execPath,
    [
      ...profArgs,
      "dist/cli/main.js",
      "serve",
      "--config",
      join(dir, "config"),
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
    ],
    {
      cwd: root,
      env: {
        ...env,
        NINES_ADMIN_TOKEN: ADMIN_TOKEN,
        NINES_LOG_LEVEL: "warn",
        NINES_CHECK_CONCURRENCY: String(NINES_CONCURRENCY),
        NINES_DATABASE_URL: "",
      },
    },
  );
  try {
    await waitFor("nines", child, async () => (await get(`${base}/readyz`)).status === 200, 180_000);
    const readySeconds = (performance.now() - started) / 1000;
    await sleep(WARMUP_S * 1000);
    const scrape = async () => parseExposition((await get(`${base}/metrics`)).text);

    const m0 = await scrape();
    const r0 = await targetRequests(target);
    const c0 = cpuSeconds(child.pid);
    const t0 = performance.now();
    await sleep(MEASURE_S * 1000);
    const c1 = cpuSeconds(child.pid);
    const t1 = performance.now();
    const r1 = await targetRequests(target);
    const m1 = await scrape();
    const mem = memory(child.pid);
    if (METRICS_DIR) {
      mkdirSync(METRICS_DIR, { recursive: true });
      writeFileSync(
        join(METRICS_DIR, `nines-${step.checks}at${step.interval}.prom`),
        (await get(`${base}/metrics`)).text,
      );
    }
    const seconds = (t1 - t0) / 1000;

    const runs = (m, result) =>
      sumOf(m, "nines_check_runs_total", (l) => result === undefined || l.result === result);
    const completed = runs(m1) - runs(m0);
    const good = runs(m1, "success") + runs(m1, "degraded") - runs(m0, "success") - runs(m0, "degraded");
    const cpu = c1 - c0;

    // The checks API, timed under the same load in a window of its own.
    const api = await timeChecksApi(base, step);
    const m2 = await scrape();

    return {
      readySeconds: round(readySeconds, 1),
      measuredSeconds: round(seconds, 1),
      completedPerSecond: round(completed / seconds, 1),
      goodPerSecond: round(good / seconds, 1),
      failedRuns: completed - good,
      overruns: sumOf(m1, "nines_check_overruns_total") - sumOf(m0, "nines_check_overruns_total"),
      lagP99Seconds: round(histogramQuantile(0.99, m0, m1, "nines_check_schedule_lag_seconds"), 4),
      lagP50Seconds: round(histogramQuantile(0.5, m0, m1, "nines_check_schedule_lag_seconds"), 4),
      targetRequestsPerSecond: round((r1 - r0 - 1) / seconds, 1),
      cpuSeconds: round(cpu, 2),
      cpuCores: round(cpu / seconds, 2),
      cpuMsPerCheck: completed > 0 ? round((cpu * 1000) / ((completed / seconds) * seconds), 4) : null,
      ...mem,
      api: {
        ...api,
        lagP99SecondsDuringApi: round(histogramQuantile(0.99, m1, m2, "nines_check_schedule_lag_seconds"), 4),
      },
    };
  } finally {
    await stopChild(child, 30_000);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * GET /api/v1/checks one request at a time (the first page, as a dashboard loads it: 100 checks with state and
 * uptime), 100 ms apart, for API_S seconds. The first answer must say that more pages follow when there are.
 */
async function timeChecksApi(base, step) {
  const latencies = [];
  let errors = 0;
  let bytes = 0;
  const end = performance.now() + API_S * 1000;
  while (performance.now() < end && latencies.length + errors < API_MAX_REQUESTS) {
    const t = performance.now();
    try {
      const res = await get(`${base}/api/v1/checks`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        timeoutMs: 10_000,
      });
      latencies.push(performance.now() - t);
      bytes = res.text.length;
      if (latencies.length === 1) {
        const page = JSON.parse(res.text);
        const expected = Math.min(step.checks, 100);
        if (page.checks.length !== expected || step.checks > 100 !== (page.next !== null))
          throw new Error(
            `the API listed ${page.checks.length} checks (next ${page.next}), ${step.checks} were configured`,
          );
      }
    } catch (error) {
      if (String(error).includes("the API listed")) throw error;
      errors++;
    }
    await sleep(100);
  }
  return {
    requests: latencies.length,
    errors,
    responseKiB: round(bytes / 1024, 0),
    p50Ms: round(quantile(latencies, 0.5), 1),
    p99Ms: round(quantile(latencies, 0.99), 1),
    maxMs: round(Math.max(...latencies), 1),
    firstMs: round(latencies[0] ?? null, 1),
    /** The three slowest requests, with their place in the sequence (0 is the first). */
    slowest: latencies
      .map((ms, i) => ({ i, ms: round(ms, 1) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The peer: prometheus-blackbox-exporter, scraped by prometheus through /probe, one target per check.

function ensurePeerInstalled() {
  ensureInstalled({
    prometheus: "prometheus",
    "prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
    nginx: "nginx-light",
  });
}

function peerVersions() {
  const first = (cmd) => spawnSync(cmd, ["--version"], { encoding: "utf8" });
  const line = (r) => `${r.stdout}${r.stderr}`.split("\n")[0].trim();
  return {
    prometheus: line(first("prometheus")),
    blackboxExporter: line(first("prometheus-blackbox-exporter")),
    nginx: line(spawnSync("nginx", ["-v"], { encoding: "utf8" })),
  };
}

async function measurePeer(step, target, index) {
  const dir = join(work, `peer-${index}`);
  mkdirSync(dir, { recursive: true });
  const bbPort = await freePort();
  const promPort = await freePort();
  writeFileSync(
    join(dir, "blackbox.yml"),
    `modules:\n  http_2xx:\n    prober: http\n    timeout: ${CHECK_TIMEOUT}\n    http:\n      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false\n`,
  );
  const targets = Array.from({ length: step.checks }, (_, i) => `          - ${target.url(i)}`).join("\n");
  // scrape_timeout may not exceed the interval; the probe itself is capped at 900 ms by the module and
  // by the scrape timeout minus the exporter's --timeout-offset.
  writeFileSync(
    join(dir, "prometheus.yml"),
    `global:
  scrape_interval: ${step.interval}
  scrape_timeout: ${step.interval}
  evaluation_interval: 1m
scrape_configs:
  - job_name: blackbox
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets:
${targets}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:${bbPort}
`,
  );
  const bb = startChild("blackbox_exporter", "prometheus-blackbox-exporter", [
    `--config.file=${join(dir, "blackbox.yml")}`,
    `--web.listen-address=127.0.0.1:${bbPort}`,
    "--timeout-offset=0.1",
    "--log.level=warn",
  ]);
  const prom = startChild("prometheus", "prometheus", [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${promPort}`,
    "--storage.tsdb.retention.time=1h",
    "--log.level=warn",
  ]);
  const promBase = `http://127.0.0.1:${promPort}`;
  try {
    const started = performance.now();
    await waitFor(
      "blackbox_exporter",
      bb,
      async () => (await get(`http://127.0.0.1:${bbPort}/metrics`)).status === 200,
      20_000,
    );
    await waitFor("prometheus", prom, async () => (await get(`${promBase}/-/ready`)).status === 200, 60_000);
    const readySeconds = (performance.now() - started) / 1000;
    await sleep(WARMUP_S * 1000);

    const r0 = await targetRequests(target);
    const c0 = { prom: cpuSeconds(prom.pid), bb: cpuSeconds(bb.pid) };
    const t0 = performance.now();
    const wall0 = Date.now();
    await sleep(MEASURE_S * 1000);
    const c1 = { prom: cpuSeconds(prom.pid), bb: cpuSeconds(bb.pid) };
    const t1 = performance.now();
    const wall1 = wall0 + (t1 - t0);
    const r1 = await targetRequests(target);
    const mem = { prometheus: memory(prom.pid), blackboxExporter: memory(bb.pid) };
    const seconds = (t1 - t0) / 1000;
    const selfMetrics = parseExposition((await get(`${promBase}/metrics`)).text);

    // Scrapes that started in the window are appended when they end: wait one interval and a bit.
    await sleep(step.intervalMs + 1500);
    const windowMs = Math.round(t1 - t0);
    const at = (wall1 / 1000).toFixed(3);
    const query = async (q) => {
      const { text } = await get(`${promBase}/api/v1/query?query=${encodeURIComponent(q)}&time=${at}`, {
        timeoutMs: 60_000,
      });
      return JSON.parse(text).data.result;
    };
    const ups = await query(`up[${windowMs}ms]`);
    const goodRows = await query(`sum(sum_over_time(probe_success[${windowMs}ms]))`);
    const lag = scrapeLag(ups, step.intervalMs, windowMs);
    const completed = lag.scrapes;
    const good = Number(goodRows[0]?.value[1] ?? 0);
    const cpu = c1.prom - c0.prom + (c1.bb - c0.bb);
    const intervalP99 = selfMetrics.find(
      (s) => s.name === "prometheus_target_interval_length_seconds" && s.labels.quantile === "0.99",
    )?.value;

    return {
      readySeconds: round(readySeconds, 1),
      measuredSeconds: round(seconds, 1),
      completedPerSecond: round(completed / seconds, 1),
      goodPerSecond: round(good / seconds, 1),
      failedRuns: completed - good,
      failedScrapes: lag.failedScrapes,
      missedSlots: lag.missedSlots,
      lagP99Seconds: round(lag.p99Ms / 1000, 4),
      lagP50Seconds: round(lag.p50Ms / 1000, 4),
      intervalLengthP99Seconds: round(intervalP99 ?? null, 4),
      targetRequestsPerSecond: round((r1 - r0 - 1) / seconds, 1),
      cpuSeconds: round(cpu, 2),
      cpuSecondsByProcess: {
        prometheus: round(c1.prom - c0.prom, 2),
        blackboxExporter: round(c1.bb - c0.bb, 2),
      },
      cpuCores: round(cpu / seconds, 2),
      cpuMsPerCheck: completed > 0 ? round((cpu * 1000) / completed, 4) : null,
      rssMiB: round(mem.prometheus.rssMiB + mem.blackboxExporter.rssMiB, 1),
      peakRssMiB: round(mem.prometheus.peakRssMiB + mem.blackboxExporter.peakRssMiB, 1),
      memoryByProcess: mem,
    };
  } finally {
    await stopChild(prom, 30_000);
    await stopChild(bb);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How late Prometheus started each scrape, from the stored sample timestamps of `up` (a scrape's start time;
 * on-time scrapes are aligned to their slot within 2 ms). A target's scrape loop runs on a ticker at a fixed
 * phase; the phase is where that target's timestamps cluster modulo the interval (the start of the largest
 * empty arc on the circle), and each scrape's lag is its distance past that phase. A ticker drops ticks that
 * come while a scrape is still running: those are missed slots, counted separately (no lag is invented).
 */
function scrapeLag(series, intervalMs, windowMs) {
  const lags = [];
  let scrapes = 0;
  let failedScrapes = 0;
  let missedSlots = 0;
  for (const s of series) {
    const ts = s.values.map(([t]) => Math.round(Number(t) * 1000));
    scrapes += ts.length;
    failedScrapes += s.values.filter(([, v]) => v === "0").length;
    missedSlots += Math.max(0, Math.floor(windowMs / intervalMs) - ts.length);
    if (ts.length === 0) continue;
    const phases = ts.map((t) => ((t % intervalMs) + intervalMs) % intervalMs).sort((a, b) => a - b);
    let base = phases[0];
    let widest = phases[0] + intervalMs - phases.at(-1);
    for (let i = 1; i < phases.length; i++) {
      const gap = phases[i] - phases[i - 1];
      if (gap > widest) {
        widest = gap;
        base = phases[i];
      }
    }
    for (const p of phases) lags.push((((p - base) % intervalMs) + intervalMs) % intervalMs);
  }
  return { scrapes, failedScrapes, missedSlots, p99Ms: quantile(lags, 0.99), p50Ms: quantile(lags, 0.5) };
}

// ---------------------------------------------------------------------------------------------------------
// The run.

function keepsUp(row, step) {
  if (!row || row.error) return false;
  return (
    row.goodPerSecond >= KEEP_UP.minCompletedShare * step.targetRate &&
    row.lagP99Seconds !== null &&
    row.lagP99Seconds <= KEEP_UP.maxLagP99Seconds
  );
}

async function main() {
  const startedAt = Date.now();
  ensurePeerInstalled();
  if (SYSTEMS.includes("nines")) buildIfStale();
  const versions = peerVersions();
  const target = await startTarget();
  console.log(
    `target nginx on 127.0.0.1:${target.port}; steps ${STEPS.map((s) => `${s.checks}@${s.interval}`).join(", ")}; ` +
      `warm-up ${WARMUP_S} s, measure ${MEASURE_S} s, API ${API_S} s`,
  );
  const steps = [];
  for (const [index, step] of STEPS.entries()) {
    const row = { checks: step.checks, interval: step.interval, targetPerSecond: round(step.targetRate, 1) };
    for (const system of SYSTEMS) {
      process.stdout.write(
        `  ${system.padEnd(5)} ${step.checks} checks every ${step.interval} (${Math.round(step.targetRate)}/s) … `,
      );
      try {
        row[system] =
          system === "nines"
            ? await measureNines(step, target, index)
            : await measurePeer(step, target, index);
        row[system].keepsUp = keepsUp(row[system], step);
        const r = row[system];
        console.log(
          `${r.goodPerSecond}/s good, lag p99 ${r.lagP99Seconds} s, ${r.cpuMsPerCheck} ms CPU/check, RSS ${r.rssMiB} MiB` +
            (r.api ? `, API p99 ${r.api.p99Ms} ms` : ""),
        );
      } catch (error) {
        row[system] = { error: String(error?.message ?? error), keepsUp: false };
        console.log(`failed: ${row[system].error}`);
      }
    }
    if (row.nines && row.peer && !row.nines.error && !row.peer.error) {
      const ratio = (a, b) => (a === null || b === null || b === 0 ? null : round(a / b, 2));
      row.ratioNinesToPeer = {
        goodPerSecond: ratio(row.nines.goodPerSecond, row.peer.goodPerSecond),
        cpuMsPerCheck: ratio(row.nines.cpuMsPerCheck, row.peer.cpuMsPerCheck),
        rssMiB: ratio(row.nines.rssMiB, row.peer.rssMiB),
      };
    }
    steps.push(row);
  }
  await stopChild(target.child);

  // Where each system stops keeping up: the highest target rate it kept up with, and the first it did not.
  const limits = {};
  for (const system of SYSTEMS) {
    const ordered = [...steps].sort((a, b) => a.targetPerSecond - b.targetPerSecond);
    const kept = ordered.filter((s) => s[system]?.keepsUp);
    const failed = ordered.find((s) => !s[system]?.keepsUp);
    limits[system] = {
      highestKeptUpPerSecond: kept.at(-1)?.targetPerSecond ?? null,
      firstFailedPerSecond: failed?.targetPerSecond ?? null,
      firstFailedStep: failed ? `${failed.checks}@${failed.interval}` : null,
    };
  }
  const ratioOfLimits =
    limits.nines?.highestKeptUpPerSecond && limits.peer?.highestKeptUpPerSecond
      ? round(limits.nines.highestKeptUpPerSecond / limits.peer.highestKeptUpPerSecond, 2)
      : null;

  // Goals from issue 3, judged on Nines's rows.
  const ninesRows = steps.filter((s) => s.nines && !s.nines.error);
  const goalStep = ninesRows.find(
    (s) => s.targetPerSecond >= GOALS.sustainedChecksPerSecond && s.interval === "1000ms",
  );
  const tenK = ninesRows.find((s) => s.checks >= 10_000);
  const goals = {
    sustained: {
      goal: `at least ${GOALS.sustainedChecksPerSecond} checks/s with p99 schedule lag under 1 s`,
      measured: limits.nines?.highestKeptUpPerSecond ?? null,
      met: (limits.nines?.highestKeptUpPerSecond ?? 0) >= GOALS.sustainedChecksPerSecond,
    },
    cpuPerCheck: {
      goal: `at most ${GOALS.maxCpuMsPerCheck} ms of CPU per check (at the ${GOALS.sustainedChecksPerSecond}/s step)`,
      measured: goalStep?.nines.cpuMsPerCheck ?? null,
      met: goalStep ? goalStep.nines.cpuMsPerCheck <= GOALS.maxCpuMsPerCheck : null,
    },
    rssWith10k: {
      goal: `RSS under ${GOALS.maxRssMiBWith10k} MB with 10,000 checks configured (peak RSS of the step)`,
      measured: tenK?.nines.peakRssMiB ?? null,
      met: tenK ? tenK.nines.peakRssMiB * 1.048576 < GOALS.maxRssMiBWith10k : null,
    },
    checksApiP99: {
      goal: `GET /api/v1/checks (first page of 100) under ${GOALS.apiP99Ms} ms at p99 with 10,000 checks at about 3,000 checks/s`,
      measured: tenK?.nines.api?.p99Ms ?? null,
      met: tenK?.nines.api ? tenK.nines.api.p99Ms < GOALS.apiP99Ms : null,
    },
  };

  const result = {
    command: "node bench/checks/run.mjs",
    settings: {
      STEPS: STEPS.map((s) => `${s.checks}@${s.interval}`).join(","),
      WARMUP_S,
      MEASURE_S,
      API_S,
      NINES_CONCURRENCY,
    },
    measuredAt: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      ...versions,
    },
    method: [
      'One target for both systems: nginx (Debian nginx-light), 1 worker, on 127.0.0.1, answering 200 "ok" on every path; each check has its own path (/c/<i>). Its CPU is counted for neither side.',
      "Each step runs the systems one after the other, never together: N checks (Nines) or N static targets (Prometheus) with interval I, target rate N/I per second; warm-up, then a measuring window.",
      `Nines: node dist/cli/main.js serve on a fresh SQLite data directory with N Check documents (type http, timeout ${CHECK_TIMEOUT}, no conditions: a 2xx is success), NINES_CHECK_CONCURRENCY=${NINES_CONCURRENCY}, NINES_LOG_LEVEL=warn. Each probe opens a fresh connection.`,
      `Peer: prometheus-blackbox-exporter (module http_2xx, prober http, timeout ${CHECK_TIMEOUT}, ip4, --timeout-offset=0.1; a fresh connection per probe, its default) scraped by prometheus through /probe?module=http_2xx&target=… with the blackbox docs' relabelling, scrape_interval I, scrape_timeout I, TSDB in a temp directory.`,
      "Completed and good checks per second: Nines from the delta of nines_check_runs_total (good = success + degraded) between two /metrics scrapes around the window; peer from the samples Prometheus stored in the window (count of `up` samples = scrapes = probes run; good = sum of probe_success). nginx's request counter over the window is given as a cross-check (targetRequestsPerSecond).",
      "p99 schedule lag: Nines from the delta of its histogram nines_check_schedule_lag_seconds over the window (histogram_quantile interpolation). Peer from the stored sample timestamps of `up` (the scrape start): per target, the scrape loop's phase modulo the interval is where its timestamps cluster, and each scrape's lag is its distance past it; scrapes the ticker dropped are reported as missedSlots. prometheus_target_interval_length_seconds{quantile=\"0.99\"} (over the process's life) is given too.",
      "Keeping up: good checks per second at least 95% of the target rate and p99 schedule lag at most 1 s (the target always answers 200, so a failed run means the system was overloaded: a timeout).",
      `CPU per check: utime+stime from /proc/<pid>/stat over the window divided by the checks completed in it; for the peer, prometheus plus blackbox_exporter. RSS: VmRSS at the end of the window; peakRssMiB is VmHWM (peak over the process's life).`,
      `Checks API: after the window, under the same load, GET /api/v1/checks (every check with state and uptime) one request at a time, 100 ms apart, for ${API_S} s (at most ${API_MAX_REQUESTS}), latency to the last byte; kept out of the CPU window so API work is not billed to checks.`,
    ],
    keepUpRule: KEEP_UP,
    steps,
    limits,
    ratioOfSustainedRates: ratioOfLimits,
    goals,
  };
  mkdirSync(resolve(OUT, ".."), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  printTable(result);
}

function printTable(result) {
  const cell = (v, w) => String(v ?? "–").padStart(w);
  console.log(
    `\n${"step".padEnd(16)}${"system".padEnd(7)}${cell("good/s", 9)}${cell("lag p99 s", 11)}${cell("ms CPU/ck", 11)}${cell("cores", 7)}${cell("RSS MiB", 9)}${cell("API p99 ms", 12)}  keeps up`,
  );
  for (const s of result.steps) {
    for (const system of SYSTEMS) {
      const r = s[system];
      const name = `${s.checks}@${s.interval} ${Math.round(s.targetPerSecond)}/s`;
      if (!r || r.error) {
        console.log(`${name.padEnd(16)}${system.padEnd(7)} error: ${r?.error}`);
        continue;
      }
      console.log(
        `${name.padEnd(16)}${system.padEnd(7)}${cell(r.goodPerSecond, 9)}${cell(r.lagP99Seconds, 11)}${cell(r.cpuMsPerCheck, 11)}${cell(r.cpuCores, 7)}${cell(r.rssMiB, 9)}${cell(r.api?.p99Ms, 12)}  ${r.keepsUp ? "yes" : "NO"}`,
      );
    }
    if (s.ratioNinesToPeer)
      console.log(
        `${"".padEnd(16)}ratio Nines/peer: good/s ${s.ratioNinesToPeer.goodPerSecond}x, CPU/check ${s.ratioNinesToPeer.cpuMsPerCheck}x, RSS ${s.ratioNinesToPeer.rssMiB}x`,
      );
  }
  for (const [system, l] of Object.entries(result.limits))
    console.log(
      `${system}: keeps up to ${l.highestKeptUpPerSecond ?? "none"}/s; first step it does not: ${l.firstFailedStep ?? "none"}`,
    );
  if (result.ratioOfSustainedRates !== null)
    console.log(`sustained rate, Nines/peer: ${result.ratioOfSustainedRates}x`);
  for (const [name, g] of Object.entries(result.goals))
    console.log(
      `goal ${name}: ${g.goal} -> ${g.measured ?? "not measured"} (${g.met === null ? "not measured" : g.met ? "met" : "NOT met"})`,
    );
  console.log(`wrote ${OUT} (${result.durationSeconds} s)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
