#!/usr/bin/env node
// bench/slo: N SLOs in Nines beside the same N SLOs as Sloth rules in Debian's Prometheus 2.42, in one run.
// Every SLO is a Sloth-style ratio SLI over two counters of its own (bench_requests_total{slo, code="200"|"500"}),
// objective 99.9 over 30 days with the four default (workbook) tiers. Both systems get the same synthetic
// counters by remote_write at a 15 s step; see bench/slo/README.md for exactly what is measured.
//
// Usage: node bench/slo/run.mjs
//   env: SLOS=1000,3000,10000 (Nines), PEER_SLOS=1000,3000 (Prometheus), HISTORY_MIN=120, CYCLES=5,
//        PEER_CYCLES=4, SYSTEMS=nines,nines-grouped,prometheus, OUT (defaults to bench/results/slo.json; a run that did not
//        complete for both systems writes nothing unless OUT is set), NINES_DIST (another build's dist/ for the
//        Nines server, to compare a change before and after; default this checkout's dist/, built if stale)
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import snappy from "snappyjs";
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
  versionOf,
  waitFor,
  post,
} from "../lib/bench-kit.mjs";

const env = process.env;
const list = (s) => s.split(",").filter(Boolean).map(Number);
const NINES_SLOS = list(env.SLOS ?? "1000,3000,10000");
const PEER_SLOS = list(env.PEER_SLOS ?? "1000,3000");
const SYSTEMS = (env.SYSTEMS ?? "nines,nines-grouped,prometheus").split(",");
const HISTORY_MIN = Number(env.HISTORY_MIN ?? 120);
const CYCLES = Number(env.CYCLES ?? 5);
const PEER_CYCLES = Number(env.PEER_CYCLES ?? 4);
const OUT = env.OUT ? resolve(env.OUT) : join(root, "bench/results/slo.json");
// The server's build (nines-worker.mjs reads the same variable); the bench's own helpers come from this checkout.
const NINES_DIST = resolve(env.NINES_DIST ?? join(root, "dist"));
const STEP_MS = 15_000;
const MINUTE = 60_000;
const STEPS_PER_REQUEST = 8;
const PEER_INTERVAL_S = 30;
const NINES_INTERVAL_S = 60;
const ADMIN_TOKEN = "bench-slo-admin-token-0123456789ab";
const GOALS = { maxCycleCpuSeconds: 1, maxRssMiB: 1024, minCheaperPerSlo: 50 };

const { work, startChild } = benchWorkspace("nines-bench-slo-");
const dist = (path) => import(pathToFileURL(join(root, "dist", path)).href);

// ---------------------------------------------------------------------------------------------------------
// The SLOs and their data.

const sloName = (i) => `s${String(i).padStart(5, "0")}`;

function sloDocument(i) {
  const name = sloName(i);
  return {
    name,
    spec: {
      service: "bench",
      sli: {
        ratio: {
          bad: `sum(rate(bench_requests_total{slo="${name}",code=~"5.."}[{{.window}}]))`,
          total: `sum(rate(bench_requests_total{slo="${name}"}[{{.window}}]))`,
        },
      },
      objective: 99.9,
      window: "30d",
    },
  };
}

function yamlDocs(docs) {
  return docs
    .map(
      (d) =>
        `apiVersion: nines/v1\nkind: SLO\nmetadata: { name: ${d.name} }\nspec:\n  service: bench\n  sli:\n    ratio:\n      bad: '${d.spec.sli.ratio.bad}'\n      total: '${d.spec.sli.ratio.total}'\n  objective: 99.9\n  window: 30d\n`,
    )
    .join("---\n");
}

/** The same N objectives as one grouped SLO: one evaluator per value of slo, two queries for all of them. */
const GROUPED_SLO = `apiVersion: nines/v1
kind: SLO
metadata: { name: bench-all }
spec:
  service: bench
  sli:
    ratio:
      bad: 'sum by (slo) (rate(bench_requests_total{code=~"5.."}[{{.window}}]))'
      total: 'sum by (slo) (rate(bench_requests_total[{{.window}}]))'
  groupBy: [slo]
  objective: 99.9
  window: 30d
`;

const BASE_CONFIG = `apiVersion: nines/v1
kind: Team
metadata: { name: bench }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: bench }
spec: { ownerTeam: bench }
`;

/** A small deterministic generator, so both systems see the same counters. */
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

/**
 * Two counters per SLO: requests from 2 to 41 per second, an error share from 0.02% to 0.2% (around the
 * 0.1% budget), and every 100th SLO in an incident at 2% (a 20× burn that pages). Step k of SLO i is the
 * same for both systems whatever time it is stamped with.
 */
function dataSource(n) {
  const labels = [];
  for (let i = 0; i < n; i++) {
    for (const code of ["200", "500"]) {
      labels.push([
        { name: "__name__", value: "bench_requests_total" },
        { name: "code", value: code },
        { name: "job", value: "bench" },
        { name: "slo", value: sloName(i) },
      ]);
    }
  }
  const good = new Float64Array(n);
  const bad = new Float64Array(n);
  const next = prng(42);
  /** Advances every counter by one step; values[2i] is the good counter, values[2i+1] the errors. */
  const step = () => {
    const values = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      const perSecond = 2 + ((i * 7) % 40);
      const share = i % 100 === 0 ? 0.02 : 0.0002 * (1 + (i % 10));
      const requests = Math.floor(perSecond * 15 * (0.8 + 0.4 * next()));
      const errors = Math.floor(requests * share * (0.5 + next()) + next());
      good[i] += requests - Math.min(errors, requests);
      bad[i] += Math.min(errors, requests);
      values[2 * i] = good[i];
      values[2 * i + 1] = bad[i];
    }
    return values;
  };
  return { labels, step };
}

/** remote_write bodies for `steps` steps from `from` (ms), STEPS_PER_REQUEST steps each. */
async function* writeBodies(source, from, steps) {
  const { WriteRequestEncoder } = await dist("tsdb/remote/write-request.js");
  const encoder = new WriteRequestEncoder(1 << 22);
  for (let k = 0; k < steps; k += STEPS_PER_REQUEST) {
    const count = Math.min(STEPS_PER_REQUEST, steps - k);
    const timestamps = Array.from({ length: count }, (_, j) => from + (k + j) * STEP_MS);
    const perStep = Array.from({ length: count }, () => source.step());
    const series = source.labels.map((labels, s) => ({
      labels,
      timestamps,
      values: Float64Array.from(perStep, (v) => v[s]),
    }));
    yield { body: Buffer.from(snappy.compress(encoder.encode(series))), samples: series.length * count };
  }
}

async function push(system, source, from, steps) {
  const headers = {
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "0.1.0",
    ...(system.token ? { authorization: `Bearer ${system.token}` } : {}),
  };
  let samples = 0;
  for await (const r of writeBodies(source, from, steps)) {
    const answer = await post(`${system.base}/api/v1/write`, r.body, headers);
    if (answer.status !== 204 && answer.status !== 200)
      throw new Error(`${system.name}: remote_write answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    samples += r.samples;
  }
  return samples;
}

async function control(base, path) {
  const answer = await post(`${base}${path}`, Buffer.alloc(0));
  if (answer.status !== 200) throw new Error(`nines worker ${path}: ${answer.status} ${answer.text}`);
  return JSON.parse(answer.text);
}

// ---------------------------------------------------------------------------------------------------------
// Nines: the server on a simulated clock (bench/slo/nines-worker.mjs), cycles driven one after another.

async function runNines(n, grouped) {
  const dir = join(work, `nines-${n}${grouped ? "-grouped" : ""}`);
  const configDir = join(dir, "config");
  mkdirSync(configDir, { recursive: true });
  writeFileSync(join(configDir, "base.yaml"), BASE_CONFIG);
  const port = await freePort();
  const controlPort = await freePort();
  // History ends CYCLES + 1 minutes ago, so the cycles' samples are never stamped in the future.
  const t0 = Math.floor(Date.now() / MINUTE) * MINUTE - (CYCLES + 1) * MINUTE;
  const historySteps = (HISTORY_MIN * MINUTE) / STEP_MS;
  const historyFrom = t0 - (historySteps - 1) * STEP_MS;
  // NINES_NODE_ARGS passes flags to the server's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = env.NINES_NODE_ARGS ? env.NINES_NODE_ARGS.split(" ") : [];
  const child = startChild("nines", process.execPath, [...nodeArgs, "bench/slo/nines-worker.mjs"], {
    cwd: root,
    env: {
      ...env,
      NINES_DATA_DIR: join(dir, "data"),
      NINES_CONFIG: configDir,
      NINES_PORT: String(port),
      NINES_ADMIN_TOKEN: ADMIN_TOKEN,
      NINES_TSDB_RETENTION: "31d",
      CONTROL_PORT: String(controlPort),
      START_MS: String(t0),
      NINES_DIST,
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const ctl = `http://127.0.0.1:${controlPort}`;
  await waitFor("nines", child, async () => (await fetch(`${base}/readyz`)).ok, 120_000);
  await waitFor("nines control", child, async () => (await fetch(`${ctl}/status`)).ok, 10_000);
  const system = { name: "nines", base, token: ADMIN_TOKEN };
  const source = dataSource(n);

  let started = performance.now();
  // Two minutes of samples 30 days back: the replay then records from the far end of the window, so every
  // bucket of every ring is written as after 30 days of running (untouched pages would not count in RSS).
  const oldSamples = await push(system, source, t0 - 30 * 24 * 60 * MINUTE + 60 * MINUTE, 8);
  const historySamples = oldSamples + (await push(system, source, historyFrom, historySteps));
  const historySeconds = (performance.now() - started) / 1000;
  console.log(
    `  nines${grouped ? " grouped" : ""} ${n}: ${historySamples} history samples in ${round(historySeconds, 1)} s`,
  );

  // The SLO documents arrive now, as `nines apply` would bring them: applied, then replayed from the history.
  if (grouped) writeFileSync(join(configDir, "slos.yaml"), GROUPED_SLO);
  else
    for (let from = 0; from < n; from += 1000) {
      const docs = Array.from({ length: Math.min(1000, n - from) }, (_, j) => sloDocument(from + j));
      writeFileSync(join(configDir, `slos-${from}.yaml`), yamlDocs(docs));
    }
  started = performance.now();
  const reload = await control(ctl, `/reload?now=${t0 + 5000}`);
  if (!reload.ok) throw new Error(`nines: config not applied: ${JSON.stringify(reload.problems)}`);
  console.log(
    `  nines${grouped ? " grouped" : ""} ${n}: applied and replayed ${HISTORY_MIN} min of history in ${round(reload.wallMs / 1000, 1)} s (${round(reload.cpuMs / 1000, 1)} s CPU)`,
  );

  const afterReplay = memory(child.pid);
  const cycles = [];
  for (let k = 1; k <= CYCLES; k++) {
    const minuteStart = t0 + (k - 1) * MINUTE;
    const pushStarted = performance.now();
    await push(system, source, minuteStart + STEP_MS, MINUTE / STEP_MS);
    const pushMs = performance.now() - pushStarted;
    const cpuBefore = cpuSeconds(child.pid);
    const tick = await control(ctl, `/tick?now=${minuteStart + MINUTE + 5000}`);
    const procCpu = cpuSeconds(child.pid) - cpuBefore;
    cycles.push({ ...tick, procCpuSeconds: procCpu, pushMs });
    console.log(
      `  nines${grouped ? " grouped" : ""} ${n}: cycle ${k}: ${round(tick.wallMs, 1)} ms wall, ${round(tick.cpuMs, 1)} ms CPU (by thread: ${JSON.stringify(tick.threadCpuMs)}), RSS ${round(tick.rssMiB, 1)} MiB (the minute's samples pushed in ${round(pushMs / 1000, 1)} s)`,
    );
  }
  const status = await (await fetch(`${ctl}/status`)).json();
  const mem = memory(child.pid);
  // After the RSS reading: the worker's full GC would change it.
  const heap = await (await fetch(`${ctl}/memory`)).json();
  console.log(
    `  nines${grouped ? " grouped" : ""} ${n}: RSS ${mem.rssMiB} MiB (peak ${mem.peakRssMiB}); heap used ${heap.beforeGc.heapUsedMiB} MiB, ${heap.afterGc.heapUsedMiB} MiB live after a full GC; array buffers ${heap.afterGc.arrayBuffersMiB} MiB`,
  );
  await stopChild(child, 30_000);
  const cpuMs = cycles.map((c) => c.cpuMs);
  const wallMs = cycles.map((c) => c.wallMs);
  const meanCpuMs = cpuMs.reduce((a, b) => a + b, 0) / cpuMs.length;
  return {
    slos: n,
    layout: grouped
      ? "one SLO document with groupBy: [slo] (2 queries per cycle)"
      : "one SLO document per SLO (their 2N SLI queries answered by 2 batched queries per cycle)",
    series: 2 * n,
    historyMinutes: HISTORY_MIN,
    historySamples,
    historyIngestSeconds: round(historySeconds, 2),
    applyAndReplay: {
      wallSeconds: round(reload.wallMs / 1000, 2),
      cpuSeconds: round(reload.cpuMs / 1000, 2),
      rssAfterMiB: afterReplay.rssMiB,
      peakRssMiB: afterReplay.peakRssMiB,
    },
    cycles: cycles.map((c) => ({
      wallMs: round(c.wallMs, 1),
      cpuMs: round(c.cpuMs, 1),
      threadCpuMs: c.threadCpuMs,
      monotonicUs: [c.startedUs, c.endedUs],
      procCpuSeconds: round(c.procCpuSeconds, 2),
      rssMiB: round(c.rssMiB, 1),
      heapUsedMiB: round(c.heapUsedMiB, 1),
      samplesPushSeconds: round(c.pushMs / 1000, 2),
    })),
    cycleCpuSecondsMean: round(meanCpuMs / 1000, 3),
    cycleCpuSecondsMax: round(Math.max(...cpuMs) / 1000, 3),
    cycleWallSecondsP50: round(quantile(wallMs, 0.5) / 1000, 3),
    cycleWallSecondsMax: round(Math.max(...wallMs) / 1000, 3),
    cpuMsPerSloPerCycle: round(meanCpuMs / n, 4),
    intervalSeconds: NINES_INTERVAL_S,
    missedCycles: wallMs.filter((ms) => ms > NINES_INTERVAL_S * 1000).length,
    rssMiB: mem.rssMiB,
    peakRssMiB: mem.peakRssMiB,
    memory: heap,
    status,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus: the Sloth rules from Nines' own exporter, evaluated every 30 s on real time while live samples
// keep arriving every 15 s.

async function sumMetric(base, name) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    count++;
  }
  return { sum, count };
}

async function runPrometheus(n) {
  const { SloSpec, slothRules, formatRuleFile } = await dist("slo/index.js");
  const dir = join(work, `prometheus-${n}`);
  mkdirSync(dir, { recursive: true });
  const docs = Array.from({ length: n }, (_, i) => sloDocument(i));
  const exported = slothRules(
    docs.map((d) => ({ name: d.name, spec: SloSpec.parse(d.spec) })),
    { version: "bench" },
  );
  if (exported.skipped.length > 0) throw new Error(`exporter skipped SLOs: ${exported.skipped[0].reason}`);
  writeFileSync(join(dir, "slo-rules.yml"), formatRuleFile(exported.groups));
  const rules = exported.groups.reduce((k, g) => k + g.rules.length, 0);
  const configFile = join(dir, "prometheus.yml");
  const writeConfig = (ruleFiles) =>
    writeFileSync(
      configFile,
      `global:\n  scrape_interval: 1m\n  evaluation_interval: ${PEER_INTERVAL_S}s\nrule_files: [${ruleFiles}]\nscrape_configs: []\n`,
    );
  // No rules until the history is in: a rule group evaluated at start-up appends its samples (Sloth's
  // `vector(0.999)` objective rules always return one) at the wall-clock time, and from then on the head
  // rejects anything more than an hour older as "out of bounds" (2.42 has no out-of-order window by default).
  writeConfig("");
  const port = await freePort();
  const child = startChild("prometheus", "prometheus", [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    "--log.level=warn",
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitFor("prometheus", child, async () => (await fetch(`${base}/-/ready`)).ok, 180_000);
  const system = { name: "prometheus", base, token: null };
  const source = dataSource(n);
  const historySteps = (HISTORY_MIN * MINUTE) / STEP_MS;
  let now = Math.floor(Date.now() / STEP_MS) * STEP_MS;
  const historyFrom = now - (historySteps - 1) * STEP_MS;
  let started = performance.now();
  // Oldest first, every series' step k before any step k+8: the head's newest sample never runs ahead of
  // what is still to come by more than a request's two minutes, well inside the hour it accepts.
  const historySamples = await push(system, source, historyFrom, historySteps);
  const historySeconds = (performance.now() - started) / 1000;
  let last = historyFrom + (historySteps - 1) * STEP_MS;

  // Then the rules, as a rule file added to a running server: a config reload (SIGHUP), confirmed by the
  // reload metric and the number of rules the rule manager reports.
  started = performance.now();
  writeConfig("slo-rules.yml");
  process.kill(child.pid, "SIGHUP");
  await waitFor(
    "prometheus rules",
    child,
    async () => {
      const reloaded = await sumMetric(base, "prometheus_config_last_reload_successful");
      const loaded = await sumMetric(base, "prometheus_rule_group_rules");
      return reloaded.sum === 1 && loaded.sum === rules;
    },
    600_000,
  );
  console.log(
    `  prometheus ${n}: ${historySamples} history samples in ${round(historySeconds, 1)} s; then ${exported.groups.length} rule groups (${rules} rules) loaded in ${round((performance.now() - started) / 1000, 1)} s`,
  );

  // Live samples every 15 s from here on, as a scrape would bring them (first the steps the reload took).
  const pushLive = async () => {
    now = Math.floor(Date.now() / STEP_MS) * STEP_MS;
    const steps = (now - last) / STEP_MS;
    if (steps > 0) await push(system, source, last + STEP_MS, steps);
    last = Math.max(last, now);
  };
  const live = async (ms) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await pushLive();
      await sleep(Math.min(1000, Math.max(0, end - performance.now())));
    }
  };
  // Warm-up: every group has evaluated at least once before measuring.
  await live(PEER_INTERVAL_S * 1000 + 5000);
  const read = async () => ({
    at: performance.now(),
    cpu: cpuSeconds(child.pid),
    iterations: (await sumMetric(base, "prometheus_rule_group_iterations_total")).sum,
    missed: (await sumMetric(base, "prometheus_rule_group_iterations_missed_total")).sum,
    failures: (await sumMetric(base, "prometheus_rule_evaluation_failures_total")).sum,
  });
  const before = await read();
  const durations = [];
  for (let k = 0; k < PEER_CYCLES; k++) {
    await live(PEER_INTERVAL_S * 1000);
    const d = await sumMetric(base, "prometheus_rule_group_last_duration_seconds");
    durations.push(d.sum);
    console.log(
      `  prometheus ${n}: cycle ${k + 1}: sum of group durations ${round(d.sum, 2)} s over ${d.count} groups`,
    );
  }
  const after = await read();
  const mem = memory(child.pid);
  await stopChild(child, 30_000);
  const elapsed = (after.at - before.at) / 1000;
  const cycles = elapsed / PEER_INTERVAL_S;
  const cpuPerCycle = (after.cpu - before.cpu) / cycles;
  const groups = exported.groups.length;
  return {
    slos: n,
    series: 2 * n,
    ruleGroups: groups,
    rules,
    historyMinutes: HISTORY_MIN,
    historySamples,
    measuredSeconds: round(elapsed, 1),
    intervalSeconds: PEER_INTERVAL_S,
    cycleCpuSecondsMean: round(cpuPerCycle, 3),
    cpuMsPerSloPerCycle: round((cpuPerCycle * 1000) / n, 3),
    ruleGroupDurationSumSeconds: durations.map((d) => round(d, 3)),
    ruleGroupDurationSumSecondsMean: round(durations.reduce((a, b) => a + b, 0) / durations.length, 3),
    iterations: after.iterations - before.iterations,
    expectedIterations: round(cycles * groups, 0),
    missedIterations: after.missed - before.missed,
    missedIterationsTotal: after.missed,
    ruleEvaluationFailures: after.failures - before.failures,
    rssMiB: mem.rssMiB,
    peakRssMiB: mem.peakRssMiB,
  };
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  if (SYSTEMS.includes("prometheus")) ensureInstalled({ prometheus: "prometheus" });
  buildIfStale();
  const nines = [];
  const prometheus = [];
  const ninesGrouped = [];
  if (SYSTEMS.includes("nines")) for (const n of NINES_SLOS) nines.push(await runNines(n, false));
  if (SYSTEMS.includes("nines-grouped"))
    for (const n of NINES_SLOS) ninesGrouped.push(await runNines(n, true));
  if (SYSTEMS.includes("prometheus")) for (const n of PEER_SLOS) prometheus.push(await runPrometheus(n));

  const comparison = [];
  for (const p of prometheus) {
    const m = nines.find((x) => x.slos === p.slos);
    if (!m) continue;
    const g = ninesGrouped.find((x) => x.slos === p.slos);
    comparison.push({
      slos: p.slos,
      ninesCpuMsPerSloPerCycle: m.cpuMsPerSloPerCycle,
      prometheusCpuMsPerSloPerCycle: p.cpuMsPerSloPerCycle,
      ...(g
        ? {
            ninesGroupedCpuMsPerSloPerCycle: g.cpuMsPerSloPerCycle,
            groupedCheaperPerSloPerCycle: round(p.cpuMsPerSloPerCycle / g.cpuMsPerSloPerCycle, 1),
          }
        : {}),
      cheaperPerSloPerCycle: round(p.cpuMsPerSloPerCycle / m.cpuMsPerSloPerCycle, 1),
      // Nines evaluates once a minute, Prometheus every 30 s: per minute of running, the peer does two cycles.
      cheaperPerSloPerMinute: round(
        (p.cpuMsPerSloPerCycle * (60 / p.intervalSeconds)) /
          (m.cpuMsPerSloPerCycle * (60 / m.intervalSeconds)),
        1,
      ),
      rssRatio: round(m.peakRssMiB / p.peakRssMiB, 2),
    });
  }
  const largest = nines.at(-1);
  const worstRatio =
    comparison.length > 0 ? Math.min(...comparison.map((c) => c.cheaperPerSloPerCycle)) : null;
  const goals = largest
    ? {
        cycleCpu: `${largest.slos} SLOs: ${largest.cycleCpuSecondsMax} s CPU in the worst cycle; goal < ${GOALS.maxCycleCpuSeconds} s -> ${largest.cycleCpuSecondsMax < GOALS.maxCycleCpuSeconds ? "met" : "NOT met"}`,
        cheaperPerSlo:
          worstRatio === null
            ? "not measured (no peer run at a matching size)"
            : `${worstRatio}× less CPU per SLO per cycle than Prometheus (worst of the sizes run on both); goal ≥ ${GOALS.minCheaperPerSlo}× -> ${worstRatio >= GOALS.minCheaperPerSlo ? "met" : "NOT met"}`,
        rss: `${largest.slos} SLOs: peak RSS ${largest.peakRssMiB} MiB; goal < ${GOALS.maxRssMiB} MiB -> ${largest.peakRssMiB < GOALS.maxRssMiB ? "met" : "NOT met"}`,
        ...(ninesGrouped.length > 0
          ? {
              groupedCycleCpu: `the same ${ninesGrouped.at(-1).slos} objectives as one grouped SLO: ${ninesGrouped.at(-1).cycleCpuSecondsMax} s CPU in the worst cycle, peak RSS ${ninesGrouped.at(-1).peakRssMiB} MiB (for information: the goals above are for one document per SLO)`,
            }
          : {}),
        noMissedCycle: `${nines.reduce((k, r) => k + r.missedCycles, 0)} missed cycles (a cycle longer than its ${NINES_INTERVAL_S} s interval) -> ${nines.every((r) => r.missedCycles === 0) ? "met" : "NOT met"}`,
      }
    : null;
  const output = {
    bench: "slo",
    date: new Date(startedAt).toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1) },
    versions: { node: process.version, prometheus: versionOf("prometheus") },
    workload: {
      slo: 'ratio SLI sum(rate(bench_requests_total{slo=NAME,code=~"5.."}[w])) / sum(rate(bench_requests_total{slo=NAME}[w])), objective 99.9, window 30d, the four workbook tiers (1h/5m 14.4, 6h/30m 6, 1d/2h 3, 3d/6h 1)',
      seriesPerSlo: 2,
      sampleStepSeconds: STEP_MS / 1000,
      historyMinutes: HISTORY_MIN,
      ninesSlos: NINES_SLOS,
      peerSlos: PEER_SLOS,
      ninesCycles: CYCLES,
      peerCycles: PEER_CYCLES,
      ninesDist: NINES_DIST,
      ninesMode:
        "the whole server (createNines from dist/) in a child process on a simulated clock; data by remote_write over loopback; one SloRuntime.tick() per cycle, timed in-process (process.cpuUsage) and cross-checked with /proc",
    },
    nines,
    ninesGrouped,
    prometheus,
    comparison,
    goals,
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
  };
  const complete = nines.length > 0 && prometheus.length > 0;
  if (complete || env.OUT) {
    mkdirSync(resolve(OUT, ".."), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
    console.log(`wrote ${OUT} (${output.durationSeconds} s)`);
  } else console.log(JSON.stringify(output, null, 2));
  for (const c of comparison)
    console.log(
      `${c.slos} SLOs: Nines ${c.ninesCpuMsPerSloPerCycle} ms vs Prometheus ${c.prometheusCpuMsPerSloPerCycle} ms CPU per SLO per cycle (${c.cheaperPerSloPerCycle}× cheaper; ${c.cheaperPerSloPerMinute}× per minute)`,
    );
  if (goals) for (const [k, v] of Object.entries(goals)) console.log(`goal ${k}: ${v}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
