import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeWriteRequest, type EncodableSeries, snappyCompress } from "../src/prom-api/index.js";
import { type PromApiTestServer, startPromApiTestServer } from "../src/prom-api/prom-api-test-server.js";
import { labelsFrom } from "../src/promql/index.js";

/**
 * The same data in Nines and in Debian's Prometheus 2.42, the same questions to both: the answers must agree
 * (floats to 1e-9 relative). Queries are evaluated between sample timestamps, where Prometheus 2.x (ranges
 * closed on the left) and 3.x (open on the left) agree, so Nines's 3.x semantics give 2.42's answers.
 */

const PROMETHEUS = "/usr/bin/prometheus";
const STEP = 15_000;

function ensurePrometheus(): void {
  if (existsSync(PROMETHEUS)) return;
  try {
    execFileSync("apt-get", ["install", "-y", "prometheus"], { stdio: "ignore", timeout: 300_000 });
  } catch (error) {
    throw new Error(
      `Prometheus is not installed at ${PROMETHEUS} and "apt-get install -y prometheus" failed (${(error as Error).message}); install Debian's prometheus package to run this test.`,
    );
  }
  if (!existsSync(PROMETHEUS)) throw new Error(`apt-get ran but ${PROMETHEUS} is still missing`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Deterministic synthetic data: counters (one with a reset), gauges, a classic histogram, up. */
function syntheticSeries(base: number, count: number): EncodableSeries[] {
  const at = (f: (i: number) => number) =>
    Array.from({ length: count }, (_, i) => ({ t: base + i * STEP, v: f(i) }));
  const buckets: Array<[string, number]> = [
    ["0.1", 3],
    ["0.5", 7],
    ["1", 9],
    ["+Inf", 10],
  ];
  return [
    { labels: labelsFrom({ __name__: "up", job: "api", instance: "a:80" }), samples: at(() => 1) },
    {
      labels: labelsFrom({ __name__: "up", job: "db", instance: "b:80" }),
      samples: at((i) => (i % 40 < 35 ? 1 : 0)),
    },
    {
      labels: labelsFrom({ __name__: "http_requests_total", job: "api", instance: "a:80", code: "200" }),
      samples: at((i) => i * 12 + ((i * i) % 7)),
    },
    {
      labels: labelsFrom({ __name__: "http_requests_total", job: "api", instance: "a:80", code: "500" }),
      samples: at((i) => (i < 150 ? i * 0.5 : (i - 150) * 0.75)),
    },
    {
      labels: labelsFrom({ __name__: "node_temperature_celsius", room: "lab" }),
      samples: at((i) => 20 + Math.sin(i / 10) * 3),
    },
    {
      labels: labelsFrom({ __name__: "node_temperature_celsius", room: "office" }),
      samples: at((i) => 22.5 + ((i * 7) % 11) / 10),
    },
    ...buckets.map(([le, per]) => ({
      labels: labelsFrom({ __name__: "request_duration_seconds_bucket", job: "api", le }),
      samples: at((i) => i * per),
    })),
    {
      labels: labelsFrom({ __name__: "request_duration_seconds_sum", job: "api" }),
      samples: at((i) => i * 4.25),
    },
    {
      labels: labelsFrom({ __name__: "request_duration_seconds_count", job: "api" }),
      samples: at((i) => i * 10),
    },
  ];
}

const INSTANT_QUERIES = [
  "up",
  "http_requests_total",
  "sum(http_requests_total)",
  "sum by (code) (rate(http_requests_total[5m]))",
  "rate(http_requests_total[5m])",
  "increase(http_requests_total[10m])",
  "resets(http_requests_total[1h])",
  "avg_over_time(node_temperature_celsius[10m])",
  "max_over_time(node_temperature_celsius[10m])",
  "quantile_over_time(0.5, node_temperature_celsius[10m])",
  "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
  "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
  "node_temperature_celsius > 22",
  "node_temperature_celsius / scalar(sum(up))",
  "topk(1, node_temperature_celsius)",
  "count by (job) (up)",
  "deriv(node_temperature_celsius[15m])",
  "abs(node_temperature_celsius - 22)",
  'label_replace(up, "host", "$1", "instance", "(.*):.*")',
  'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  "absent(nonexistent_metric)",
  "up == bool 1",
  "time()",
  "1.5e-10",
  "1e21 + 0.5",
  '"a string"',
];

const RANGE_QUERIES = [
  "sum by (code) (rate(http_requests_total[5m]))",
  "node_temperature_celsius",
  "histogram_quantile(0.5, rate(request_duration_seconds_bucket[10m]))",
  "avg(up)",
  "1",
];

const BAD_QUERIES: Array<[string, Record<string, string>]> = [
  ["query", { query: "sum(" }],
  ["query", { query: "up{" }],
  ["query", { query: "rate(up)" }],
  ["query", { query: "foo bar" }],
  ["query", { query: "up", time: "yesterday" }],
  ["query_range", { query: "up[5m]", start: "0", end: "60", step: "15" }],
  ["query_range", { query: "up", start: "0", end: "60", step: "0" }],
  ["query_range", { query: "up", start: "0", end: "1000000", step: "1" }],
  ["series", {}],
  ["series", { "match[]": '{job=""}' }],
];

type Json = unknown;

/** Compares answers: value strings as floats (1e-9 relative), instant vectors in any order. */
function expectSameAnswer(nines: Json, prom: Json, what: string): void {
  const problems: string[] = [];
  compare(normalize(nines), normalize(prom), what, problems);
  expect(problems, what).toEqual([]);
}

function normalize(answer: Json): Json {
  const a = answer as { status: string; data?: { resultType?: string; result?: Json[] }; warnings?: unknown };
  const { warnings: _w, infos: _i, ...rest } = a as Record<string, unknown>;
  if (a.data?.resultType === "vector" && Array.isArray(a.data.result)) {
    const result = [...a.data.result].sort((x, y) =>
      JSON.stringify((x as { metric: unknown }).metric).localeCompare(
        JSON.stringify((y as { metric: unknown }).metric),
      ),
    );
    return { ...rest, data: { ...a.data, result } };
  }
  return rest;
}

function compare(a: Json, b: Json, path: string, problems: string[]): void {
  if (typeof a === "string" && typeof b === "string" && a !== b) {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y) && Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)))
      return;
    problems.push(`${path}: ${a} != ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) problems.push(`${path}: length ${a.length} != ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) compare(a[i], b[i], `${path}[${i}]`, problems);
    return;
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      compare((a as Record<string, Json>)[k], (b as Record<string, Json>)[k], `${path}.${k}`, problems);
    return;
  }
  if (a !== b) problems.push(`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
}

describe("Prometheus HTTP API compared with Prometheus 2.42", () => {
  let prometheus: ChildProcess | undefined;
  let promUrl = "";
  let dir = "";
  let nines: PromApiTestServer;
  let base = 0;

  beforeAll(async () => {
    ensurePrometheus();
    dir = mkdtempSync(join(tmpdir(), "nines-prom-compat-"));
    writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 15s\nscrape_configs: []\n");
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-remote-write-receiver",
        "--log.level=warn",
      ],
      { stdio: "ignore" },
    );
    nines = await startPromApiTestServer();
    for (let i = 0; ; i++) {
      const ready = await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (i > 200 || prometheus.exitCode !== null) throw new Error("Prometheus did not become ready");
      await new Promise((r) => setTimeout(r, 50));
    }

    // One hour of samples every 15 s, ending a little before now.
    base = Math.floor(Date.now() / STEP) * STEP - 3_600_000;
    const body = Buffer.from(snappyCompress(encodeWriteRequest(syntheticSeries(base, 240))));
    const headers = {
      "content-type": "application/x-protobuf",
      "content-encoding": "snappy",
      "x-prometheus-remote-write-version": "0.1.0",
    };
    const toProm = await fetch(`${promUrl}/api/v1/write`, { method: "POST", headers, body });
    expect(toProm.status, await toProm.text()).toBe(204);
    const toNines = await nines.server.inject({
      method: "POST",
      url: "/api/v1/write",
      headers: { ...headers, authorization: `Bearer ${nines.tokens.responder}` },
      payload: body,
    });
    expect(toNines.statusCode, toNines.body).toBe(204);
  }, 60_000);

  afterAll(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus?.once("exit", r));
      process.kill(prometheus.pid, "SIGTERM");
      await exited;
    }
    await nines?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Nines is asked by form POST (as Grafana does) where Prometheus allows it, Prometheus by GET. */
  async function both(
    endpoint: string,
    params: Record<string, string>,
  ): Promise<{ nines: { status: number; body: Json }; prom: { status: number; body: Json } }> {
    const query = new URLSearchParams(params).toString();
    const auth = { authorization: `Bearer ${nines.tokens.viewer}` };
    const [n, p] = await Promise.all([
      endpoint.startsWith("label/")
        ? nines.server.inject({ url: `/api/v1/${endpoint}?${query}`, headers: auth })
        : nines.server.inject({
            method: "POST",
            url: `/api/v1/${endpoint}`,
            headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
            payload: query,
          }),
      fetch(`${promUrl}/api/v1/${endpoint}?${query}`),
    ]);
    return {
      nines: { status: n.statusCode, body: n.json() },
      prom: { status: p.status, body: await p.json() },
    };
  }

  /** Times between samples, with milliseconds, where 2.x and 3.x range boundaries agree. */
  const between = (k: number) => String((base + k * STEP + 7_321) / 1000);

  it("answers instant queries as Prometheus does", async () => {
    for (const query of INSTANT_QUERIES) {
      for (const k of [100, 233]) {
        const { nines: n, prom: p } = await both("query", { query, time: between(k) });
        expect(p.status, `${query}: ${JSON.stringify(p.body)}`).toBe(200);
        expect(n.status, `${query}: ${JSON.stringify(n.body)}`).toBe(200);
        // Every query here has an answer: an empty one would make the comparison vacuous.
        expect((p.body as { data: { result: unknown[] } }).data.result.length, query).toBeGreaterThan(0);
        expectSameAnswer(n.body, p.body, `${query} @ ${k}`);
      }
    }
  });

  it("writes extreme values exactly as Prometheus 2.42 does", async () => {
    for (const query of ["1.5e-10", "-1e21", "1/3", "-0", "1/0", "0/0"]) {
      const { nines: n, prom: p } = await both("query", { query, time: between(10) });
      expect(n.body, query).toEqual(p.body);
    }
  });

  it("answers range queries as Prometheus does", async () => {
    for (const query of RANGE_QUERIES) {
      const start = between(40);
      const end = between(200);
      const { nines: n, prom: p } = await both("query_range", { query, start, end, step: "60" });
      expect(p.status, query).toBe(200);
      expect((p.body as { data: { result: unknown[] } }).data.result.length, query).toBeGreaterThan(0);
      expectSameAnswer(n.body, p.body, query);
    }
  });

  it("answers series, label names and label values as Prometheus does", async () => {
    const range = { start: between(0), end: between(239) };
    const cases: Array<[string, Record<string, string>]> = [
      ["series", { "match[]": "http_requests_total", ...range }],
      ["series", { "match[]": '{__name__=~"request_duration.*", le!="+Inf"}', ...range }],
      ["labels", range],
      ["labels", { "match[]": "up", ...range }],
      ["label/job/values", range],
      ["label/__name__/values", range],
      ["label/le/values", { "match[]": "request_duration_seconds_bucket", ...range }],
    ];
    for (const [endpoint, params] of cases) {
      const { nines: n, prom: p } = await both(endpoint, params);
      expect(p.status, endpoint).toBe(200);
      expectSameAnswer(n.body, p.body, `${endpoint} ${JSON.stringify(params)}`);
    }
  });

  it("refuses the same bad requests with the same error type and status", async () => {
    for (const [endpoint, params] of BAD_QUERIES) {
      const { nines: n, prom: p } = await both(endpoint, params);
      const what = `${endpoint} ${JSON.stringify(params)}: nines ${JSON.stringify(n.body)} prometheus ${JSON.stringify(p.body)}`;
      expect(p.status, what).toBeGreaterThanOrEqual(400);
      expect(n.status, what).toBe(p.status);
      expect((n.body as { errorType: string }).errorType, what).toBe(
        (p.body as { errorType: string }).errorType,
      );
    }
  });
});
