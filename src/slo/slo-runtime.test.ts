import { describe, expect, it } from "vitest";
import { ManualClock } from "../platform/clock.js";
import { openDatabase } from "../platform/db/database.js";
import { migrateToLatest } from "../platform/db/migrate.js";
import { createEventBus, type EventBus } from "../platform/events.js";
import { silentLogger } from "../platform/logger.js";
import { labelsFrom } from "../promql/index.js";
import { localBackend, type MetricsBackend, MemoryMetricsStore } from "../tsdb/index.js";
import { SloSpec } from "./slo-kind.js";
import { type SloAlert, SloRuntime } from "./slo-runtime.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 5, 30, 12, 0, 30);

/** Counters for two routes, every 15 s over [from, to): /pay fails one request in 20, /cart never. */
async function writeTraffic(backend: MetricsBackend, from: number, to: number): Promise<void> {
  const series = [
    { labels: labelsFrom({ __name__: "req_total", route: "/pay", code: "200" }), perStep: 19 },
    { labels: labelsFrom({ __name__: "req_total", route: "/pay", code: "500" }), perStep: 1 },
    { labels: labelsFrom({ __name__: "req_total", route: "/cart", code: "200" }), perStep: 40 },
  ];
  const app = backend.appender();
  for (let t = from, k = 1; t < to; t += 15_000, k++) {
    for (const s of series) app.add(s.labels, t, k * s.perStep);
  }
  await app.commit();
}

/** Counts the minute steps (of range queries) and the queries the runtime asks the backend for. */
function countingBackend(inner: MetricsBackend): {
  backend: MetricsBackend;
  steps: () => number;
  queries: () => number;
} {
  let steps = 0;
  let queries = 0;
  return {
    backend: {
      ...inner,
      rangeQuery: (query) => {
        queries++;
        if (query.step === MINUTE) steps += (query.end - query.start) / query.step + 1;
        return inner.rangeQuery(query);
      },
      instantQuery: (query) => {
        queries++;
        return inner.instantQuery(query);
      },
    },
    steps: () => steps,
    queries: () => queries,
  };
}

/** A runtime over `backend` with `specs` in force (each in a database of its own), loaded and replayed at the clock's time. */
async function loadedRuntime(
  specs: Record<string, unknown>,
  backend: MetricsBackend,
  clock: ManualClock,
  options: {
    replayChunkSamples?: number;
    events?: EventBus;
    bulkReplayMinutes?: number;
    collectGarbage?: () => void;
  } = {},
): Promise<SloRuntime> {
  const { db } = openDatabase({ url: "sqlite::memory:", dataDir: "." });
  await migrateToLatest(db);
  for (const [name, raw] of Object.entries(specs)) {
    const spec = SloSpec.parse(raw);
    const document = JSON.stringify({ apiVersion: "nines/v1", kind: "SLO", metadata: { name }, spec });
    await db
      .insertInto("config_objects")
      .values({ kind: "SLO", name, document, digest: name, revision: 1, updated_at: 0 })
      .execute();
  }
  const runtime = new SloRuntime({
    db,
    clock,
    log: silentLogger,
    events: options.events ?? createEventBus(() => {}),
    backend: () => backend,
    schedule: false,
    ...(options.replayChunkSamples === undefined ? {} : { replayChunkSamples: options.replayChunkSamples }),
    ...(options.bulkReplayMinutes === undefined ? {} : { bulkReplayMinutes: options.bulkReplayMinutes }),
    ...(options.collectGarbage === undefined ? {} : { collectGarbage: options.collectGarbage }),
  });
  await runtime.reload();
  await db.destroy();
  return runtime;
}

function statusesOf(runtime: SloRuntime) {
  return new Map(
    runtime
      .list()
      .flatMap((slo) => slo.groups.map((g) => [`${slo.name} ${JSON.stringify(g.labels)}`, g.status])),
  );
}

describe("SloRuntime replay", () => {
  /** Statuses after a fresh runtime replays `specs` from the two bursts. */
  async function replayed(specs: Record<string, unknown>, replayChunkSamples?: number) {
    const counting = countingBackend(localBackend(new MemoryMetricsStore()));
    // Two bursts in a 30-day window: 3 hours 20 days ago, and the last 2 hours.
    await writeTraffic(counting.backend, NOW - 20 * DAY, NOW - 20 * DAY + 3 * HOUR);
    await writeTraffic(counting.backend, NOW - 2 * HOUR, NOW);
    const runtime = await loadedRuntime(specs, counting.backend, new ManualClock(NOW), {
      replayChunkSamples,
    });
    return { statuses: statusesOf(runtime), steps: counting.steps(), queries: counting.queries() };
  }

  const ratio = (bad: string, total: string, extra: Record<string, unknown> = {}) => ({
    service: "checkout",
    sli: { ratio: { bad, total } },
    objective: 99,
    window: "30d",
    ...extra,
  });

  it("replays only where the window has data, with the same counts as stepping through all of it", async () => {
    const bad = 'sum(rate(req_total{code=~"5.."}[{{.window}}]))';
    const total = "sum(rate(req_total[{{.window}}]))";
    // `or vector(0)` answers without data, so its replay steps through every minute of the window.
    const skipping = await replayed({ skipping: ratio(bad, total) });
    const full = await replayed({ skipping: ratio(bad, `${total} or vector(0)`) });
    const status = skipping.statuses.get("skipping {}");
    expect(status?.total).toBeGreaterThan(0);
    expect(status).toEqual(full.statuses.get("skipping {}"));
    // Both bursts are counted: 5 hours of 240 requests a minute (the first minutes of each without a rate).
    const events = status?.total ?? 0;
    expect(events).toBeGreaterThan(0.99 * 5 * 60 * 240);
    expect(events).toBeLessThanOrEqual(5 * 60 * 240);
    expect(status?.good).toBeCloseTo(events * (1 - 1 / 60), -1);
    // Two queries per step: 30 days of minutes for the full replay, a few hours around the bursts otherwise.
    expect(full.steps).toBe(2 * 30 * 24 * 60);
    expect(skipping.steps).toBeLessThan(2 * 10 * 60);
  });

  it("keeps the counts of grouped SLOs and of queries with an offset when it skips", async () => {
    const grouped = {
      groupBy: ["route"],
      sli: {
        ratio: {
          bad: 'sum by (route) (rate(req_total{code=~"5.."}[{{.window}}]))',
          total: "sum by (route) (rate(req_total[{{.window}}]))",
        },
      },
    };
    const offset = "sum(rate(req_total[{{.window}}] offset 90m))";
    const skipping = await replayed({
      grouped: ratio("", "", grouped),
      offset: ratio('sum(rate(req_total{code=~"5.."}[{{.window}}] offset 90m))', offset),
    });
    const full = await replayed({
      grouped: ratio("", "", {
        ...grouped,
        sli: { ratio: { ...grouped.sli.ratio, total: `${grouped.sli.ratio.total} or vector(0)` } },
      }),
      offset: ratio('sum(rate(req_total{code=~"5.."}[{{.window}}] offset 90m))', `${offset} or vector(0)`),
    });
    expect([...skipping.statuses.keys()].sort()).toEqual([
      'grouped {"route":"/cart"}',
      'grouped {"route":"/pay"}',
      "offset {}",
    ]);
    for (const [key, status] of skipping.statuses) {
      expect(status.total, key).toBeGreaterThan(0);
      expect(status, key).toEqual(full.statuses.get(key));
    }
    expect(skipping.steps * 20).toBeLessThan(full.steps);
  });

  it("replays in ranges that hold about as many samples as a query may fetch, with the same counts", async () => {
    const specs = {
      grouped: ratio("", "", {
        groupBy: ["route"],
        sli: {
          ratio: {
            bad: 'sum by (route) (rate(req_total{code=~"5.."}[{{.window}}]))',
            total: "sum by (route) (rate(req_total[{{.window}}]))",
          },
        },
      }),
      plain: ratio('sum(rate(req_total{code=~"5.."}[{{.window}}]))', "sum(rate(req_total[{{.window}}]))"),
    };
    const whole = await replayed(specs);
    // The total reads 3 series, 12 samples a minute: 100 samples make 8-minute ranges.
    const chunked = await replayed(specs, 100);
    expect(chunked.statuses.size).toBe(3);
    for (const [key, status] of chunked.statuses) {
      expect(status.total, key).toBeGreaterThan(0);
      expect(status, key).toEqual(whole.statuses.get(key));
    }
    expect(chunked.steps).toBe(whole.steps);
    // Each SLO: a presence query, then two queries per range (one range per burst in one piece; 5 hours of
    // steps in 8-minute pieces).
    expect(whole.queries).toBe(2 * (1 + 2 * 2));
    expect(chunked.queries).toBeGreaterThanOrEqual(2 * (1 + 2 * Math.ceil((5 * 60) / 8)));
  });

  it("ends a reload that replayed a bulk of history with a full collection, and a smaller one without", async () => {
    const backend = localBackend(new MemoryMetricsStore());
    await writeTraffic(backend, NOW - 2 * HOUR, NOW);
    const specs = {
      pay: ratio(
        'sum(rate(req_total{route="/pay",code=~"5.."}[{{.window}}]))',
        'sum(rate(req_total{route="/pay"}[{{.window}}]))',
      ),
      all: ratio('sum(rate(req_total{code=~"5.."}[{{.window}}]))', "sum(rate(req_total[{{.window}}]))"),
    };
    // Two SLOs replay about 2 × 120 minutes.
    const collections = async (bulkReplayMinutes: number) => {
      let count = 0;
      await loadedRuntime(specs, backend, new ManualClock(NOW), {
        bulkReplayMinutes,
        collectGarbage: () => {
          count++;
        },
      });
      return count;
    };
    expect(await collections(200)).toBe(1);
    expect(await collections(300)).toBe(0);
  });
});

describe("SloRuntime alerts", () => {
  it("publishes the tiers that start and stop firing, once each", async () => {
    // /pay fails one request in 20: a 50× burn of a 99.9% objective, which pages (and suppresses tickets).
    const backend = localBackend(new MemoryMetricsStore());
    await writeTraffic(backend, NOW - 2 * HOUR, NOW + 2 * MINUTE);
    const events = createEventBus(() => {});
    const alerts: SloAlert[] = [];
    events.on("slo.alert", (alert) => {
      alerts.push(alert);
    });
    const clock = new ManualClock(NOW);
    const spec = {
      service: "checkout",
      sli: {
        ratio: {
          bad: 'sum(rate(req_total{route="/pay",code=~"5.."}[{{.window}}]))',
          total: 'sum(rate(req_total{route="/pay"}[{{.window}}]))',
        },
      },
      objective: 99.9,
      window: "30d",
    };
    const runtime = await loadedRuntime({ pay: spec }, backend, clock, { events });
    const fired = alerts.map((a) => `${a.state} ${a.labels.tier} ${a.labels.severity} ${a.labels.slo}`);
    expect(fired.sort()).toEqual(["firing page-fast page pay", "firing page-slow page pay"]);
    // Still firing a minute later: nothing new. With no traffic for the 5-minute short window, page-fast stops.
    clock.set(NOW + MINUTE + 5000);
    await runtime.tick();
    expect(alerts).toHaveLength(2);
    for (let k = 2; k <= 8; k++) {
      clock.set(NOW + k * MINUTE + 5000);
      await runtime.tick();
    }
    expect(alerts.slice(2).map((a) => `${a.state} ${a.labels.tier}`)).toEqual(["resolved page-fast"]);
  });
});

describe("SloRuntime minute", () => {
  /**
   * Counters of `values` services with three codes each, every 15 s for the 30 minutes before `to`; every
   * fourth service has no error series at all when `someWithoutErrors`.
   */
  async function writeServices(
    backend: MetricsBackend,
    values: number,
    to: number,
    someWithoutErrors = false,
  ): Promise<void> {
    const app = backend.appender();
    for (let i = 0; i < values; i++) {
      const codes =
        someWithoutErrors && i % 4 === 0
          ? { "200": 40 + i }
          : { "200": 40 + i, "500": i % 3, "503": (i * 7) % 5 };
      for (const [code, perStep] of Object.entries(codes)) {
        const labels = labelsFrom({ __name__: "req_total", svc: `s${i}`, code, job: "api" });
        for (let t = to - 30 * MINUTE, k = 1; t <= to; t += 15_000, k++)
          app.add(labels, t, k * perStep + k * k * 0.1);
      }
    }
    await app.commit();
  }

  /** One SLO per service in Sloth's form; `suffix` appended to both queries. */
  const perService = (count: number, suffix = "") =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `svc-${i}`,
        {
          service: "api",
          sli: {
            ratio: {
              bad: `sum(rate(req_total{job="api", svc="s${i}", code=~"5.."}[{{.window}}]))${suffix}`,
              total: `sum(rate(req_total{svc="s${i}", job="api"}[{{.window}}]))${suffix}`,
            },
          },
          objective: 99,
          window: "1d",
        },
      ]),
    );

  /** Statuses after three minutes, and the queries those minutes took. */
  async function threeMinutes(specs: Record<string, unknown>, values: number, someWithoutErrors = false) {
    const counting = countingBackend(localBackend(new MemoryMetricsStore()));
    await writeServices(counting.backend, values, NOW + 3 * MINUTE, someWithoutErrors);
    const clock = new ManualClock(NOW);
    const runtime = await loadedRuntime(specs, counting.backend, clock);
    const before = counting.queries();
    for (let k = 1; k <= 3; k++) {
      clock.set(NOW + k * MINUTE + 5000);
      await runtime.tick();
    }
    return { statuses: statusesOf(runtime), queries: counting.queries() - before };
  }

  it("answers SLOs whose queries differ only in one label's value with one query per shape, with the same counts", async () => {
    const batched = await threeMinutes(perService(10), 12);
    // `* 1` keeps the numbers and makes the queries a shape that is not batched.
    const alone = await threeMinutes(perService(10, " * 1"), 12);
    expect(batched.queries).toBe(3 * 2);
    expect(alone.queries).toBe(3 * 2 * 10);
    expect(batched.statuses.size).toBe(10);
    for (const [key, status] of batched.statuses) {
      expect(status.total, key).toBeGreaterThan(0);
      expect(status, key).toEqual(alone.statuses.get(key));
    }
  });

  it("counts every event of a service without error series as good, batched as alone", async () => {
    const batched = await threeMinutes(perService(10), 12, true);
    const alone = await threeMinutes(perService(10, " * 1"), 12, true);
    expect(batched.queries).toBe(3 * 2);
    const quiet = batched.statuses.get("svc-4 {}");
    expect(quiet?.total).toBeGreaterThan(0);
    expect(quiet?.good).toBe(quiet?.total);
    for (const [key, status] of batched.statuses) expect(status, key).toEqual(alone.statuses.get(key));
  });

  it("queries SLOs one by one when they use few of the values a batch would read", async () => {
    const few = await threeMinutes(perService(10), 30);
    expect(few.queries).toBe(3 * 2 * 10);
  });
});
