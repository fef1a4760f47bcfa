#!/usr/bin/env node
// bench/tsdb: the embedded time-series store beside Debian's Prometheus 2.42, in one run on this machine.
// The same series (by default 10,000 series, 6 hours at 15 s = 14.4 million samples) are written to both by
// remote_write, pre-encoded so the client's encoding is not measured, in per-series order over a few
// concurrent shards as Prometheus's own sender does. Then a fixed set of range queries (6 h, step 60 s) runs
// against each, one system at a time, and answers are compared. Disk bytes are read after a graceful stop.
//
// Figures: ingest samples/s, query latency p50/p99, bytes per sample; and the ratios the issue sets goals for
// (query ≤ 1.5× Prometheus's latency, ingest ≥ 0.5× its rate, ≤ 2 bytes per sample).
//
// Usage: node bench/tsdb/run.mjs   (env: SERIES, HOURS, STEP_S, SHARDS, STEPS_PER_REQUEST, QUERY_RUNS,
//        SYSTEMS=nines,prometheus, OUT, CPU_PROF_DIR)
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import snappy from "snappyjs";
import {
  benchWorkspace,
  buildIfStale,
  cpuSeconds,
  directoryBytes,
  ensureInstalled,
  freePort,
  memory,
  quantile,
  root,
  round,
  sleep,
  stopChild,
  versionOf,
  waitFor,
  post,
} from "../lib/bench-kit.mjs";

const env = process.env;
const SERIES = Number(env.SERIES ?? 10_000);
const HOURS = Number(env.HOURS ?? 6);
const STEP_MS = Number(env.STEP_S ?? 15) * 1000;
const SHARDS = Number(env.SHARDS ?? 4);
const STEPS_PER_REQUEST = Number(env.STEPS_PER_REQUEST ?? 4);
const QUERY_RUNS = Number(env.QUERY_RUNS ?? 15);
const SYSTEMS = (env.SYSTEMS ?? "nines,prometheus").split(",");
const OUT = resolve(env.OUT ?? join(root, "bench/results/tsdb.json"));
/** A directory to write a V8 CPU profile of the Nines server (node --cpu-prof); off unless set. */
const CPU_PROF_DIR = env.CPU_PROF_DIR ? resolve(env.CPU_PROF_DIR) : null;
const ADMIN_TOKEN = "bench-tsdb-admin-token-0123456789";
const GOALS = { maxQueryLatencyRatio: 1.5, minIngestRatio: 0.5, maxBytesPerSample: 2 };

const { work, startChild } = benchWorkspace("nines-bench-tsdb-");

// ---------------------------------------------------------------------------------------------------------
// The data: 50 metric names × 200 label sets (20 instances × 10 values of a second label), of the kinds a
// real Prometheus holds: counters, integer gauges, near-constant series, float gauges and a histogram.

const NAMES_PER_KIND = { counter: 20, intGauge: 10, constant: 5, floatGauge: 10, histogram: 5 };
const INSTANCES = 20;
const SECOND_LABEL_VALUES = 10;
const LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"];

/** A small deterministic generator, so both systems and every run get the same numbers. */
function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seriesDefinitions() {
  const defs = [];
  for (const [kind, count] of Object.entries(NAMES_PER_KIND)) {
    for (let n = 0; n < count; n++) {
      const name = {
        counter: `bench_requests_total_${n}`,
        intGauge: `bench_queue_length_${n}`,
        constant: `bench_build_info_${n}`,
        floatGauge: `bench_cpu_ratio_${n}`,
        histogram: `bench_latency_seconds_${n}_bucket`,
      }[kind];
      for (let i = 0; i < INSTANCES; i++) {
        for (let j = 0; j < SECOND_LABEL_VALUES; j++) {
          const labels = {
            __name__: name,
            instance: `host-${String(i).padStart(2, "0")}:9100`,
            job: "bench",
          };
          if (kind === "histogram") labels.le = LE[j];
          else labels.path = `/api/v${j}`;
          defs.push({ kind, labels: sortLabels(labels), bucket: j });
        }
      }
    }
  }
  return defs.slice(0, SERIES);
}

function sortLabels(obj) {
  return Object.keys(obj)
    .sort()
    .map((name) => ({ name, value: obj[name] }));
}

/** The value of every series at every step, as Float64Arrays (one per series). */
function generateValues(defs, steps) {
  return defs.map((def, index) => {
    const next = prng(index + 1);
    const values = new Float64Array(steps);
    let v = def.kind === "constant" ? 1 : def.kind === "floatGauge" ? 0.5 : 0;
    for (let k = 0; k < steps; k++) {
      switch (def.kind) {
        case "counter":
          v += Math.floor(next() * 20);
          break;
        case "histogram":
          // Cumulative buckets: each le gets at least what the one below it got.
          v += Math.floor(next() * 3 * (def.bucket + 1));
          break;
        case "intGauge":
          v = Math.max(0, v + Math.floor(next() * 5) - 2);
          break;
        case "constant":
          if (next() < 0.001) v += 1;
          break;
        case "floatGauge":
          v = Math.round(next() * 1000) / 1000;
          break;
      }
      values[k] = v;
    }
    return values;
  });
}

// ---------------------------------------------------------------------------------------------------------
// remote_write requests, pre-encoded: shard s holds series s, s+SHARDS, …; each request carries
// STEPS_PER_REQUEST consecutive samples of every series of its shard.

async function encodeRequests(defs, values, start, steps) {
  const { WriteRequestEncoder } = await import(
    pathToFileURL(join(root, "dist/tsdb/remote/write-request.js")).href
  );
  const encoder = new WriteRequestEncoder(1 << 20);
  const shards = Array.from({ length: SHARDS }, () => []);
  for (let from = 0; from < steps; from += STEPS_PER_REQUEST) {
    const to = Math.min(steps, from + STEPS_PER_REQUEST);
    const timestamps = Array.from({ length: to - from }, (_, k) => start + (from + k) * STEP_MS);
    for (let s = 0; s < SHARDS; s++) {
      const series = [];
      for (let i = s; i < defs.length; i += SHARDS)
        series.push({ labels: defs[i].labels, timestamps, values: values[i].subarray(from, to) });
      const body = snappy.compress(encoder.encode(series));
      shards[s].push({ body: Buffer.from(body), samples: series.length * timestamps.length });
    }
  }
  return shards;
}

async function ingest(system, shards) {
  const headers = {
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "0.1.0",
    ...(system.token ? { authorization: `Bearer ${system.token}` } : {}),
  };
  const cpuBefore = cpuSeconds(system.child.pid);
  const started = performance.now();
  let samples = 0;
  // The shards send in step, one request each at a time, so no series runs more than a minute of data ahead
  // of another: both stores refuse samples older than their head's newest minus an hour.
  const rounds = Math.max(...shards.map((s) => s.length));
  for (let i = 0; i < rounds; i++) {
    await Promise.all(
      shards.map(async (requests) => {
        const r = requests[i];
        if (!r) return;
        const answer = await post(`${system.base}/api/v1/write`, r.body, headers);
        if (answer.status !== 204 && answer.status !== 200)
          throw new Error(
            `${system.name}: remote_write answered ${answer.status}: ${answer.text.slice(0, 300)}`,
          );
        samples += r.samples;
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(system.child.pid) - cpuBefore;
  return {
    samples,
    seconds: round(seconds, 2),
    samplesPerSecond: Math.round(samples / seconds),
    cpuSeconds: round(cpu, 2),
    cpuMicrosecondsPerSample: round((cpu / samples) * 1e6, 3),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Queries: what dashboards and SLO rules ask, over the whole range at a 60 s step.

const QUERIES = [
  "sum(rate(bench_requests_total_0[5m]))",
  "sum by (instance) (rate(bench_requests_total_1[5m]))",
  'rate(bench_requests_total_2{instance="host-03:9100",path="/api/v1"}[5m])',
  "histogram_quantile(0.99, sum by (le) (rate(bench_latency_seconds_0_bucket[5m])))",
  "avg_over_time(bench_cpu_ratio_0[10m])",
  "max by (instance) (bench_queue_length_0)",
  "topk(3, rate(bench_requests_total_4[5m]))",
  'sum(increase(bench_requests_total_3{path=~"/api/v[0-4]"}[1h]))',
  'count by (job) ({__name__=~"bench_requests_total_.*"})',
  "bench_queue_length_1 > 3",
];

async function queryRange(system, query, start, end) {
  const form = new URLSearchParams({
    query,
    start: String(start / 1000),
    end: String(end / 1000),
    step: "60",
  });
  const body = Buffer.from(form.toString());
  const began = performance.now();
  const answer = await post(`${system.base}/api/v1/query_range`, body, {
    "content-type": "application/x-www-form-urlencoded",
    ...(system.token ? { authorization: `Bearer ${system.token}` } : {}),
  });
  const ms = performance.now() - began;
  if (answer.status !== 200)
    throw new Error(`${system.name}: ${query}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return { ms, result: JSON.parse(answer.text).data.result };
}

async function runQueries(system, start, end) {
  const rows = [];
  const answers = [];
  for (const query of QUERIES) {
    const times = [];
    let result = null;
    for (let run = 0; run < QUERY_RUNS + 1; run++) {
      const r = await queryRange(system, query, start, end);
      if (run === 0) result = r.result;
      else times.push(r.ms); // the first run warms caches and is not counted
    }
    rows.push({ query, p50Ms: round(quantile(times, 0.5), 2), p99Ms: round(quantile(times, 0.99), 2) });
    answers.push(result);
  }
  return { rows, answers };
}

/** Whether two query_range answers agree: same series, same timestamps, values within 1e-6 relative. */
function sameAnswer(a, b) {
  const key = (s) => JSON.stringify(Object.entries(s.metric).sort());
  const byKey = new Map(b.map((s) => [key(s), s]));
  const tiesOnly = () =>
    sameValuesPerStep(a, b)
      ? ": the same values at every step, with other series kept among equal values (see docs/promql-conformance.md)"
      : "";
  if (a.length !== b.length) return `${a.length} series vs ${b.length}${tiesOnly()}`;
  for (const s of a) {
    const other = byKey.get(key(s));
    if (!other) return `series ${key(s)} missing${tiesOnly()}`;
    if (s.values.length !== other.values.length)
      return `${key(s)}: ${s.values.length} points vs ${other.values.length}`;
    for (let i = 0; i < s.values.length; i++) {
      const [t1, v1] = s.values[i];
      const [t2, v2] = other.values[i];
      const x = Number(v1);
      const y = Number(v2);
      const close =
        x === y ||
        (Number.isNaN(x) && Number.isNaN(y)) ||
        Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y));
      if (t1 !== t2 || !close) return `${key(s)} at ${t1}: ${v1} vs ${v2}`;
    }
  }
  return null;
}

/** Whether both answers hold the same values at every timestamp, whichever series carry them. */
function sameValuesPerStep(a, b) {
  const byTime = (answer) => {
    const m = new Map();
    for (const s of answer) for (const [t, v] of s.values) m.set(t, [...(m.get(t) ?? []), Number(v)]);
    for (const values of m.values()) values.sort((x, y) => x - y);
    return m;
  };
  const x = byTime(a);
  const y = byTime(b);
  if (x.size !== y.size) return false;
  for (const [t, values] of x) {
    const other = y.get(t);
    if (!other || other.length !== values.length) return false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const w = other[i];
      if (!(v === w || Math.abs(v - w) <= 1e-6 * Math.max(Math.abs(v), Math.abs(w)))) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// The two systems.

async function startNines() {
  const dir = join(work, "nines");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = startChild(
    "nines",
    process.execPath,
    [
      ...(CPU_PROF_DIR
        ? ["--cpu-prof", "--cpu-prof-dir", CPU_PROF_DIR, "--cpu-prof-name", "nines.cpuprofile"]
        : []),
      "dist/cli/main.js",
      "serve",
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
    ],
    { cwd: root, env: { ...env, NINES_ADMIN_TOKEN: ADMIN_TOKEN, NINES_LOG_LEVEL: "warn" } },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor("nines", child, async () => (await fetch(`${base}/readyz`)).ok, 60_000);
  return { name: "nines", child, base, token: ADMIN_TOKEN, dataDir: join(dir, "data", "tsdb") };
}

async function startPrometheus() {
  const dir = join(work, "prometheus");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 1m\nscrape_configs: []\n");
  const port = await freePort();
  const child = startChild("prometheus", "prometheus", [
    `--config.file=${join(dir, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    "--log.level=warn",
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor("prometheus", child, async () => (await fetch(`${base}/-/ready`)).ok, 60_000);
  return { name: "prometheus", child, base, token: null, dataDir: join(dir, "data") };
}

async function measure(system, shards, start, end, totalSamples) {
  const write = await ingest(system, shards);
  const afterIngest = memory(system.child.pid);
  // Let background work (head compaction, chunk flushes) settle before timing queries.
  await sleep(3000);
  // From an hour into the data (no window reaches its first sample, where Prometheus 3 extrapolates rate()
  // less than 2.x), at steps between sample times.
  const queries = await runQueries(system, Math.min(start + 3_600_000, end - 3_600_000) + STEP_MS / 2, end);
  const rss = memory(system.child.pid);
  await stopChild(system.child, 60_000);
  const bytes = directoryBytes(system.dataDir);
  return {
    ingest: write,
    queries: queries.rows,
    answers: queries.answers,
    rssAfterIngestMiB: afterIngest.rssMiB,
    peakRssMiB: rss.peakRssMiB,
    diskBytes: bytes,
    bytesPerSample: round(bytes / totalSamples, 3),
  };
}

async function main() {
  const startedAt = Date.now();
  ensureInstalled({ prometheus: "prometheus" });
  buildIfStale();
  const steps = Math.floor((HOURS * 3_600_000) / STEP_MS);
  // Aligned to the step and ending a minute ago, so both systems take the samples as recent.
  const end = Math.floor((Date.now() - 60_000) / STEP_MS) * STEP_MS;
  const start = end - (steps - 1) * STEP_MS;
  const defs = seriesDefinitions();
  console.log(`${defs.length} series × ${steps} samples (${HOURS} h at ${STEP_MS / 1000} s); encoding…`);
  const values = generateValues(defs, steps);
  const shards = await encodeRequests(defs, values, start, steps);
  const totalSamples = defs.length * steps;
  const requestCount = shards.reduce((n, s) => n + s.length, 0);
  console.log(`${requestCount} requests over ${SHARDS} shards, ${totalSamples} samples`);

  const results = {};
  for (const name of SYSTEMS) {
    const system = name === "nines" ? await startNines() : await startPrometheus();
    console.log(`  ${name}: writing…`);
    results[name] = await measure(system, shards, start, end, totalSamples);
    const r = results[name];
    console.log(
      `  ${name}: ${r.ingest.samplesPerSecond} samples/s (${r.ingest.cpuMicrosecondsPerSample} µs CPU each), ` +
        `${r.bytesPerSample} bytes/sample, peak RSS ${r.peakRssMiB} MiB`,
    );
    for (const q of r.queries) console.log(`    p50 ${q.p50Ms} ms  p99 ${q.p99Ms} ms  ${q.query}`);
  }

  const nines = results.nines;
  const prom = results.prometheus;
  const comparison = [];
  if (nines && prom) {
    for (let i = 0; i < QUERIES.length; i++) {
      const mismatch = sameAnswer(nines.answers[i], prom.answers[i]);
      comparison.push({
        query: QUERIES[i],
        p50Ratio: round(nines.queries[i].p50Ms / prom.queries[i].p50Ms, 2),
        p99Ratio: round(nines.queries[i].p99Ms / prom.queries[i].p99Ms, 2),
        sameAnswer: mismatch === null,
        ...(mismatch ? { mismatch } : {}),
      });
    }
  }
  const sum = (rows, key) => rows.reduce((n, r) => n + r[key], 0);
  const ratios =
    nines && prom
      ? {
          ingest: round(nines.ingest.samplesPerSecond / prom.ingest.samplesPerSecond, 2),
          queryP50Total: round(sum(nines.queries, "p50Ms") / sum(prom.queries, "p50Ms"), 2),
          queryP99Total: round(sum(nines.queries, "p99Ms") / sum(prom.queries, "p99Ms"), 2),
          worstQueryP50: Math.max(...comparison.map((c) => c.p50Ratio)),
          bytesPerSample: round(nines.bytesPerSample / prom.bytesPerSample, 2),
        }
      : null;
  for (const r of Object.values(results)) delete r.answers;

  const goals = nines
    ? {
        queryLatency: ratios
          ? `${ratios.queryP50Total}× Prometheus's p50 in total (worst query ${ratios.worstQueryP50}×); goal ≤ ${GOALS.maxQueryLatencyRatio}× -> ${ratios.queryP50Total <= GOALS.maxQueryLatencyRatio ? "met" : "NOT met"}`
          : "not measured",
        ingest: ratios
          ? `${ratios.ingest}× Prometheus's rate; goal ≥ ${GOALS.minIngestRatio}× -> ${ratios.ingest >= GOALS.minIngestRatio ? "met" : "NOT met"}`
          : "not measured",
        bytesPerSample: `${nines.bytesPerSample} bytes/sample; goal ≤ ${GOALS.maxBytesPerSample} -> ${nines.bytesPerSample <= GOALS.maxBytesPerSample ? "met" : "NOT met"}`,
      }
    : null;
  const output = {
    bench: "tsdb",
    date: new Date(startedAt).toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1) },
    versions: { node: process.version, prometheus: versionOf("prometheus") },
    workload: {
      series: defs.length,
      hours: HOURS,
      stepSeconds: STEP_MS / 1000,
      samples: totalSamples,
      shards: SHARDS,
      requests: requestCount,
      queryRuns: QUERY_RUNS,
      queryStepSeconds: 60,
    },
    results,
    comparison,
    ratios,
    goals,
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  mkdirSync(resolve(OUT, ".."), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
  if (ratios) {
    console.log(
      `ratios (Nines / Prometheus): ingest ${ratios.ingest}×, query p50 ${ratios.queryP50Total}× (worst ${ratios.worstQueryP50}×), p99 ${ratios.queryP99Total}×, bytes/sample ${ratios.bytesPerSample}×`,
    );
    for (const c of comparison) if (!c.sameAnswer) console.log(`  answers differ: ${c.query}: ${c.mismatch}`);
  }
  if (goals) for (const [k, v] of Object.entries(goals)) console.log(`goal ${k}: ${v}`);
  console.log(`wrote ${OUT} (${output.durationSeconds} s)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
