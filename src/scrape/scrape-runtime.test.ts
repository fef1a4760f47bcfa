import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { issueCertificate } from "../checks/probes/test-certificates.test-helpers.js";
import { ManualClock } from "../platform/clock.js";
import { createEventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import { isStaleNaN } from "../promql/index.js";
import { MemoryMetricsStore } from "../tsdb/index.js";
import { type ScrapeConfigObject, ScrapeConfigSpec } from "./scrape-config-kind.js";
import { ScrapeRuntime } from "./scrape-runtime.js";

interface Exporter {
  address: string;
  /** What the next scrape gets; a function may write the response itself. */
  page: string | ((res: import("node:http").ServerResponse) => void);
  contentType: string;
  requests: IncomingHttpHeaders[];
  urls: string[];
  server: Server;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function exporter(
  page: Exporter["page"] = "",
  contentType = "text/plain; version=0.0.4",
): Promise<Exporter> {
  const state = { page, contentType, requests: [], urls: [] } as unknown as Exporter;
  state.server = createServer((req, res) => {
    state.requests.push(req.headers);
    state.urls.push(req.url ?? "");
    if (typeof state.page === "function") return state.page(res);
    res.writeHead(200, { "Content-Type": state.contentType });
    res.end(state.page);
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  state.address = `127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        state.server.closeAllConnections();
        state.server.close(() => resolve());
      }),
  );
  return state;
}

function scrapeConfig(name: string, spec: Record<string, unknown>): ScrapeConfigObject {
  return {
    apiVersion: "nines/v1",
    kind: "ScrapeConfig",
    metadata: { name },
    spec: ScrapeConfigSpec.parse(spec),
  };
}

function setup(env: NodeJS.ProcessEnv = {}) {
  const store = new MemoryMetricsStore();
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const runtime = new ScrapeRuntime({
    clock,
    log: silentLogger,
    events: createEventBus(() => {}),
    backend: store,
    env,
    schedule: false,
  });
  cleanups.push(() => runtime.stop());
  /** Every sample of the series with this name, as [labels, t, value] rows. */
  const samples = async (name: string) => {
    const series = await store.select({
      matchers: [{ name: "__name__", op: "=", value: name }],
      minT: 0,
      maxT: Number.MAX_SAFE_INTEGER,
    });
    return series.flatMap((s) =>
      Array.from(s.timestamps, (t, i) => ({
        labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
        t,
        v: s.values[i] as number,
      })),
    );
  };
  const value = async (name: string) => (await samples(name)).map((s) => (isStaleNaN(s.v) ? "stale" : s.v));
  return { store, clock, runtime, samples, value };
}

describe("ScrapeRuntime", () => {
  it("scrapes a target into the store with job and instance labels and writes up and the report series", async () => {
    const target = await exporter('# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 7\n');
    const { runtime, samples, value, clock } = setup();
    await runtime.sync([
      scrapeConfig("api", { static_configs: [{ targets: [target.address], labels: { env: "prod" } }] }),
    ]);
    const [result] = await runtime.scrapeNow();
    expect(result).toMatchObject({
      ok: true,
      error: "",
      samplesScraped: 1,
      samplesPostRelabeling: 1,
      seriesAdded: 1,
    });
    expect(await samples("http_requests_total")).toEqual([
      {
        labels: {
          __name__: "http_requests_total",
          code: "200",
          env: "prod",
          instance: target.address,
          job: "api",
        },
        t: clock.now(),
        v: 7,
      },
    ]);
    expect(await value("up")).toEqual([1]);
    expect(await value("scrape_samples_scraped")).toEqual([1]);
    expect(await value("scrape_samples_post_metric_relabeling")).toEqual([1]);
    expect(await value("scrape_series_added")).toEqual([1]);
    expect((await samples("scrape_duration_seconds"))[0]?.v).toBeGreaterThan(0);
    expect(target.requests[0]?.accept).toMatch(/^application\/openmetrics-text;version=1\.0\.0/);
    expect(target.requests[0]?.["accept-encoding"]).toBe("gzip");
    expect(runtime.targetStatuses()).toMatchObject([
      {
        job: "api",
        health: "up",
        lastError: "",
        lastScrape: clock.now(),
        scrapeUrl: `http://${target.address}/metrics`,
      },
    ]);
  });

  it("reads OpenMetrics by Content-Type, gzip-encoded bodies and page timestamps", async () => {
    const om = "# TYPE temp gauge\ntemp 21.5 1767225500.5\n# EOF\n";
    const target = await exporter((res) => {
      res.writeHead(200, {
        "Content-Type": "application/openmetrics-text; version=1.0.0",
        "Content-Encoding": "gzip",
      });
      res.end(gzipSync(om));
    });
    const { runtime, samples } = setup();
    await runtime.sync([scrapeConfig("room", { static_configs: [{ targets: [target.address] }] })]);
    expect((await runtime.scrapeNow())[0]?.ok).toBe(true);
    expect((await samples("temp"))[0]).toMatchObject({ t: 1767225500500, v: 21.5 });
  });

  it("fails a garbage page with a reason, up = 0, and marks the previous series stale", async () => {
    const target = await exporter("a 1\nb 2\n");
    const { runtime, clock, value } = setup();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    await runtime.scrapeNow();
    clock.advance(15_000);
    target.page = "<html>\n<body>502 Bad Gateway</body>\n";
    const [result] = await runtime.scrapeNow();
    expect(result?.ok).toBe(false);
    expect(result?.error).toMatch(/^invalid page: line 1: /);
    expect(await value("up")).toEqual([1, 0]);
    expect(await value("a")).toEqual([1, "stale"]);
    expect(await value("b")).toEqual([2, "stale"]);
    expect(await value("scrape_samples_scraped")).toEqual([2, 0]);
    expect(runtime.targetStatuses()[0]).toMatchObject({ health: "down", lastError: result?.error });
  });

  it("marks a series stale when it vanishes from the page, and only that one", async () => {
    const target = await exporter("a 1\nb 2\n");
    const { runtime, clock, value, samples } = setup();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    await runtime.scrapeNow();
    clock.advance(15_000);
    target.page = "a 3\n";
    await runtime.scrapeNow();
    expect(await value("a")).toEqual([1, 3]);
    expect(await value("b")).toEqual([2, "stale"]);
    expect((await samples("b"))[1]?.t).toBe(clock.now());
    expect(await value("up")).toEqual([1, 1]);
  });

  it("marks every series of a target stale, report series included, when it is removed from config", async () => {
    const target = await exporter("a 1\n");
    const other = await exporter("c 1\n");
    const { runtime, clock, value } = setup();
    const keep = scrapeConfig("other", { static_configs: [{ targets: [other.address] }] });
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] }), keep]);
    await runtime.scrapeNow();
    clock.advance(10_000);
    await runtime.sync([keep]);
    expect(await value("a")).toEqual([1, "stale"]);
    expect(await value("c")).toEqual([1]);
    expect((await value("up")).sort()).toEqual([1, 1, "stale"].sort());
    expect(runtime.targetStatuses().map((t) => t.job)).toEqual(["other"]);
  });

  it("keeps an unchanged target's loop state across a sync", async () => {
    const target = await exporter("a 1\n");
    const { runtime } = setup();
    const config = scrapeConfig("api", { static_configs: [{ targets: [target.address] }] });
    await runtime.sync([config]);
    await runtime.scrapeNow();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    expect(runtime.targetStatuses()[0]).toMatchObject({ health: "up" });
  });

  it("fails a 100 MB page at the body size limit without reading all of it", async () => {
    let sent = 0;
    const chunk = Buffer.alloc(1 << 20, "x 1\n");
    const target = await exporter((res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      const pump = () => {
        while (sent < 100 * (1 << 20)) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    });
    const { runtime, value } = setup();
    await runtime.sync([scrapeConfig("big", { static_configs: [{ targets: [target.address] }] })]);
    const [result] = await runtime.scrapeNow();
    expect(result?.error).toBe("response is larger than the body size limit of 16777216 bytes");
    expect(await value("up")).toEqual([0]);
    expect(sent).toBeLessThan(100 * (1 << 20));
  });

  it("fails duplicate series, non-2xx answers, timeouts and sample_limit with their reasons", async () => {
    const target = await exporter('a{x="1"} 1\na{x="1"} 2\n');
    const { runtime, value } = setup();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    expect((await runtime.scrapeNow())[0]?.error).toBe(
      `duplicate series a{instance="${target.address}", job="api", x="1"} in the page`,
    );
    target.page = (res) => {
      res.writeHead(503);
      res.end("busy");
    };
    expect((await runtime.scrapeNow())[0]?.error).toBe("server returned HTTP status 503 Service Unavailable");
    target.page = () => {};
    await runtime.sync([
      scrapeConfig("api", {
        static_configs: [{ targets: [target.address] }],
        scrape_interval: "1s",
        scrape_timeout: "200ms",
      }),
    ]);
    expect((await runtime.scrapeNow())[0]?.error).toBe("scrape timed out after 0.2s");
    target.page = "a 1\nb 2\nc 3\n";
    await runtime.sync([
      scrapeConfig("api", { static_configs: [{ targets: [target.address] }], sample_limit: 2 }),
    ]);
    expect((await runtime.scrapeNow())[0]?.error).toBe("sample_limit of 2 exceeded");
    expect(await value("a")).toEqual([]);
  });

  it("fails a sample older than the one already stored, as out of order", async () => {
    const target = await exporter("a 1 2000\n");
    const { runtime } = setup();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    expect((await runtime.scrapeNow())[0]?.ok).toBe(true);
    target.page = "a 1 1000\n";
    expect((await runtime.scrapeNow())[0]?.error).toMatch(/^out-of-order sample for a\{/);
  });

  it("sends basic auth and bearer tokens from the server's environment, never from config", async () => {
    const target = await exporter("a 1\n");
    const { runtime } = setup({ SCRAPE_PASSWORD: "s3cret", SCRAPE_TOKEN: "tok-123" });
    await runtime.sync([
      scrapeConfig("basic", {
        static_configs: [{ targets: [target.address] }],
        basic_auth: { username: "prom", password: `\${SCRAPE_PASSWORD}` },
      }),
    ]);
    await runtime.scrapeNow();
    expect(target.requests[0]?.authorization).toBe(`Basic ${Buffer.from("prom:s3cret").toString("base64")}`);
    await runtime.sync([
      scrapeConfig("basic", {
        static_configs: [{ targets: [target.address] }],
        bearer_token: `\${SCRAPE_TOKEN}`,
      }),
    ]);
    await runtime.scrapeNow();
    expect(target.requests[1]?.authorization).toBe("Bearer tok-123");
    await runtime.sync([
      scrapeConfig("basic", { static_configs: [{ targets: [target.address] }], bearer_token: `\${MISSING}` }),
    ]);
    const [result] = await runtime.scrapeNow();
    expect(result?.error).toBe("environment variable MISSING is not set on the server");
    expect(JSON.stringify(runtime.targetStatuses())).not.toContain("tok-123");
  });

  it("applies metric_relabel_configs (drop, keep, replace, labeldrop) and params", async () => {
    const target = await exporter(
      'go_goroutines 8\nhttp_requests_total{code="200",pod="web-1"} 5\nhttp_requests_total{code="500",pod="web-1"} 1\nnoise 1\n',
    );
    const { runtime, samples, value } = setup();
    await runtime.sync([
      scrapeConfig("api", {
        static_configs: [{ targets: [target.address] }],
        params: { module: ["http_2xx"] },
        metric_relabel_configs: [
          { source_labels: ["__name__"], regex: "go_.*", action: "drop" },
          { source_labels: ["__name__"], regex: "http_.*|go_.*", action: "keep" },
          { source_labels: ["code"], regex: "(\\d)..", target_label: "class", replacement: `\${1}xx` },
          { regex: "pod", action: "labeldrop" },
        ],
      }),
    ]);
    const [result] = await runtime.scrapeNow();
    expect(result).toMatchObject({ ok: true, samplesScraped: 4, samplesPostRelabeling: 2 });
    expect(target.urls[0]).toBe("/metrics?module=http_2xx");
    expect((await samples("http_requests_total")).map((s) => s.labels)).toEqual([
      { __name__: "http_requests_total", class: "2xx", code: "200", instance: target.address, job: "api" },
      { __name__: "http_requests_total", class: "5xx", code: "500", instance: target.address, job: "api" },
    ]);
    expect(await value("go_goroutines")).toEqual([]);
    expect(await value("noise")).toEqual([]);
    expect(await value("scrape_samples_post_metric_relabeling")).toEqual([2]);
  });

  it("renames conflicting page labels to exported_*, unless honor_labels keeps the page's", async () => {
    const target = await exporter('a{job="batch",instance="x"} 1\n');
    const { runtime, samples } = setup();
    await runtime.sync([scrapeConfig("api", { static_configs: [{ targets: [target.address] }] })]);
    await runtime.scrapeNow();
    expect((await samples("a"))[0]?.labels).toEqual({
      __name__: "a",
      exported_instance: "x",
      exported_job: "batch",
      instance: target.address,
      job: "api",
    });
    const other = setup();
    await other.runtime.sync([
      scrapeConfig("api", { static_configs: [{ targets: [target.address] }], honor_labels: true }),
    ]);
    await other.runtime.scrapeNow();
    expect((await other.samples("a"))[0]?.labels).toEqual({ __name__: "a", instance: "x", job: "batch" });
  });
});

describe("ScrapeRuntime loops", () => {
  it("scrapes on its own schedule and follows config.applied: a removed target's series go stale", async () => {
    const target = await exporter("a 1\n");
    const store = new MemoryMetricsStore();
    const events = createEventBus(() => {});
    let configs = [
      scrapeConfig("fast", { static_configs: [{ targets: [target.address] }], scrape_interval: "50ms" }),
    ];
    const runtime = new ScrapeRuntime({
      clock: { now: () => Date.now() },
      log: silentLogger,
      events,
      backend: store,
      load: async () => configs,
    });
    cleanups.push(() => runtime.stop());
    await runtime.start();
    const ups = async () =>
      (
        await store.select({
          matchers: [{ name: "__name__", op: "=", value: "up" }],
          minT: 0,
          maxT: Date.now() + 1000,
        })
      ).flatMap((s) => Array.from(s.values, (v) => (isStaleNaN(v) ? "stale" : v)));
    for (let i = 0; i < 200 && (await ups()).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await ups()).slice(0, 2)).toEqual([1, 1]);
    configs = [];
    events.emit("config.applied", {
      revision: 2,
      changes: [{ action: "delete", kind: "ScrapeConfig", name: "fast" }],
    });
    for (let i = 0; i < 200 && runtime.targetStatuses().length > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await runtime.stop();
    const values = await ups();
    expect(values[values.length - 1]).toBe("stale");
    expect(runtime.targetStatuses()).toEqual([]);
  });

  it("scrapes https targets, verifying certificates unless insecure_skip_verify", async () => {
    const now = Date.now();
    const cert = issueCertificate({
      commonName: "localhost",
      notBefore: now - 3_600_000,
      notAfter: now + 3_600_000,
      ips: ["127.0.0.1"],
    });
    const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("secure 1\n");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { runtime, value } = setup();
    await runtime.sync([scrapeConfig("tls", { scheme: "https", static_configs: [{ targets: [address] }] })]);
    expect((await runtime.scrapeNow())[0]?.error).toMatch(/self[- ]signed certificate/);
    await runtime.sync([
      scrapeConfig("tls", {
        scheme: "https",
        static_configs: [{ targets: [address] }],
        tls_config: { insecure_skip_verify: true },
      }),
    ]);
    expect((await runtime.scrapeNow())[0]?.ok).toBe(true);
    expect(await value("secure")).toEqual([1]);
  });

  it("fails a target that refuses connections with the connection error", async () => {
    const gone = await exporter("a 1\n");
    const address = gone.address;
    await new Promise<void>((resolve) => gone.server.close(() => resolve()));
    const { runtime, value } = setup();
    await runtime.sync([scrapeConfig("down", { static_configs: [{ targets: [address] }] })]);
    expect((await runtime.scrapeNow())[0]?.error).toBe(`connect ECONNREFUSED ${address}`);
    expect(await value("up")).toEqual([0]);
  });
});
