import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compareLabels,
  type Labels,
  labelsFrom,
  PromqlError,
  type QueryResult,
  type QueryValue,
  STALE_NAN,
} from "../../promql/index.js";
import { localBackend, type MetricsBackend } from "../metrics-backend.js";
import type { SeriesRequest } from "../metrics-store.js";
import { MemoryMetricsStore } from "../memory-metrics-store.js";
import { type RemoteBackend, remoteBackend } from "./remote-backend.js";

/**
 * The remote backend against a real Prometheus (Debian's 2.42) with its remote-write receiver on: samples
 * written through `remoteBackend` must give the same answers as the same samples in the embedded engine.
 * Evaluation times fall between sample timestamps, so 2.x's closed and 3.x's left-open windows agree.
 */

const PROMETHEUS = "/usr/bin/prometheus";
const STEP = 15_000;
const COUNT = 40;

let prometheus: ChildProcess | undefined;
let dataDir = "";
let baseUrl = "";
let remote: RemoteBackend;
let local: MetricsBackend;
/** First sample time: on a 15 s boundary, twenty minutes ago, so the head accepts every sample. */
let base = 0;
/** When the staleness marker of `nines_test_stale` was written. */
let staleAt = 0;

function ensurePrometheus(): void {
  if (existsSync(PROMETHEUS)) return;
  try {
    execFileSync("apt-get", ["install", "-y", "prometheus"], { stdio: "pipe", timeout: 300_000 });
  } catch (err) {
    throw new Error(`${PROMETHEUS} is missing and "apt-get install -y prometheus" failed: ${String(err)}`);
  }
  if (!existsSync(PROMETHEUS)) throw new Error(`apt-get installed prometheus but ${PROMETHEUS} is not there`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function startPrometheus(): Promise<void> {
  ensurePrometheus();
  dataDir = await mkdtemp(join(tmpdir(), "nines-prom-"));
  const config = join(dataDir, "prometheus.yml");
  await writeFile(config, "global:\n  scrape_interval: 1m\n");
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  let stderr = "";
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dataDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  prometheus = child;
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`prometheus exited before it was ready:\n${stderr}`);
    const ready = await fetch(`${baseUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The same samples, in time order, through an appender of each backend. */
async function writeSamples(backend: MetricsBackend): Promise<void> {
  for (let from = 0; from < COUNT; from += 10) {
    const app = backend.appender();
    for (let i = from; i < from + 10; i++) {
      const t = base + i * STEP;
      app.add(labelsFrom({ __name__: "nines_test_gauge", job: "api", instance: "a" }), t, i % 7);
      app.add(labelsFrom({ __name__: "nines_test_gauge", job: "api", instance: "b" }), t, i * 0.5);
      app.add(labelsFrom({ __name__: "nines_test_gauge", job: "db", instance: "c" }), t, 100 - i);
      // A counter with a reset halfway.
      app.add(labelsFrom({ __name__: "nines_test_requests_total", job: "api" }), t, (i % 20) * 10 + i);
      app.add(labelsFrom({ __name__: "nines_test_special", kind: "nan" }), t, Number.NaN);
      app.add(labelsFrom({ __name__: "nines_test_special", kind: "inf" }), t, Number.POSITIVE_INFINITY);
      const stale = labelsFrom({ __name__: "nines_test_stale", job: "x" });
      if (i < 20) app.add(stale, t, i);
      else if (i === 20) app.add(stale, t, STALE_NAN);
    }
    await app.commit();
  }
}

/** Instant vectors come in the remote's order; the comparison is about content. */
function sorted(value: QueryValue): QueryValue {
  if (value.type === "vector") {
    return { ...value, samples: [...value.samples].sort((a, b) => compareLabels(a.labels, b.labels)) };
  }
  return value;
}

async function bothInstant(query: string, time: number): Promise<[QueryResult, QueryResult]> {
  return [await remote.instantQuery({ query, time }), await local.instantQuery({ query, time })];
}

beforeAll(async () => {
  await startPrometheus();
  base = Math.floor(Date.now() / STEP) * STEP - 20 * 60_000;
  staleAt = base + 20 * STEP;
  remote = remoteBackend({
    writeUrl: `${baseUrl}/api/v1/write`,
    queryUrl: baseUrl,
    queue: { batchSendDeadlineMs: 10, maxSamplesPerSend: 100 },
    queryTimeoutMs: 10_000,
  });
  local = localBackend(new MemoryMetricsStore());
  await writeSamples(remote);
  await writeSamples(local);
  await remote.flush();
  // Accepted writes are queryable at once; this only guards against a slow first head commit.
  const last = base + (COUNT - 1) * STEP + 7_000;
  for (;;) {
    const { value } = await remote.instantQuery({ query: "count(nines_test_gauge)", time: last });
    if (value.type === "vector" && value.samples[0]?.f === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}, 60_000);

afterAll(async () => {
  await remote?.close();
  if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((resolve) => prometheus?.once("exit", resolve));
    process.kill(prometheus.pid, "SIGTERM");
    await exited;
  }
  if (dataDir !== "") await rm(dataDir, { recursive: true, force: true });
});

describe("remote backend against a real Prometheus", () => {
  it("sent every sample and lost none", () => {
    const stats = remote.stats();
    expect(stats).toMatchObject({ failedSamples: 0, droppedSamples: 0, pendingSamples: 0 });
    expect(stats.sentSamples).toBe(COUNT * 6 + 21);
  });

  it.each([
    "nines_test_gauge",
    "sum by (job) (nines_test_gauge)",
    "rate(nines_test_requests_total[2m])",
    "nines_test_gauge[1m]",
    "nines_test_special",
    "scalar(sum(nines_test_gauge{job='db'}))",
    "nines_test_gauge > 3",
    "count_over_time(nines_test_gauge{instance=~'a|b'}[3m])",
    "topk(1, nines_test_gauge)",
    '"a string"',
  ])("instant query %s gives what the embedded engine gives", async (query) => {
    const time = base + 25 * STEP + 7_000;
    const [fromRemote, fromLocal] = await bothInstant(query, time);
    expect(sorted(fromRemote.value)).toEqual(sorted(fromLocal.value));
    const empty = fromRemote.value.type === "vector" && fromRemote.value.samples.length === 0;
    expect(empty).toBe(false);
  });

  it.each([
    "sum by (job) (nines_test_gauge)",
    "rate(nines_test_requests_total[1m])",
    "nines_test_gauge{instance!='c'} * 2",
  ])("range query %s gives what the embedded engine gives", async (query) => {
    const q = { query, start: base + 60_000 + 7_000, end: base + 500_000 + 7_000, step: 30_000 };
    const [fromRemote, fromLocal] = [await remote.rangeQuery(q), await local.rangeQuery(q)];
    expect(fromRemote.value).toEqual(fromLocal.value);
    expect(fromRemote.value.type === "matrix" && fromRemote.value.series.length > 0).toBe(true);
  });

  it("a staleness marker written through the backend ends the series in Prometheus", async () => {
    const before = await remote.instantQuery({ query: "nines_test_stale", time: staleAt - 8_000 });
    expect(before.value).toEqual({
      type: "vector",
      samples: [
        { labels: labelsFrom({ __name__: "nines_test_stale", job: "x" }), t: staleAt - 8_000, f: 19 },
      ],
    });
    // Without the marker, the lookback would still find the sample of 22 s before.
    const [after, afterLocal] = await bothInstant("nines_test_stale", staleAt + 7_000);
    expect(after.value).toEqual({ type: "vector", samples: [] });
    expect(afterLocal.value).toEqual(after.value);
    const q = {
      query: "nines_test_stale",
      start: staleAt - 60_000 + 7_000,
      end: staleAt + 60_000,
      step: STEP,
    };
    const range = await remote.rangeQuery(q);
    expect(range.value).toEqual((await local.rangeQuery(q)).value);
    const points = range.value.type === "matrix" ? (range.value.series[0]?.points ?? []) : [];
    expect(points.at(-1)?.t).toBe(staleAt - 8_000);
  });

  it("series, label names and label values match the embedded store", async () => {
    const request: SeriesRequest = {
      matcherSets: [[{ name: "__name__", op: "=~", value: "nines_test_.*" }]],
      minT: base,
      maxT: base + COUNT * STEP,
    };
    const remoteSeries = await remote.series(request);
    expect(remoteSeries).toEqual(await local.series(request));
    expect(remoteSeries.map((l: Labels) => l.length)).toHaveLength(7);
    expect(await remote.labelNames(request)).toEqual(await local.labelNames(request));
    expect(await remote.labelValues("job", request)).toEqual(await local.labelValues("job", request));
    const two: SeriesRequest = {
      ...request,
      matcherSets: [
        [{ name: "job", op: "=", value: "db" }],
        [
          { name: "__name__", op: "=", value: "nines_test_special" },
          { name: "kind", op: "!~", value: "na.+" },
        ],
      ],
    };
    expect(await remote.series(two)).toEqual(await local.series(two));
    expect(await remote.labelValues("instance", two)).toEqual(["c"]);
  });

  it("a bad query fails with bad_data and Prometheus's own message", async () => {
    const direct = (await (
      await fetch(`${baseUrl}/api/v1/query`, { method: "POST", body: new URLSearchParams({ query: "sum(" }) })
    ).json()) as { error: string };
    const failure = await remote.instantQuery({ query: "sum(", time: base }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(PromqlError);
    expect(failure).toMatchObject({ type: "bad_data", message: direct.error });
    expect(direct.error).toMatch(/parse error/);
  });
});
