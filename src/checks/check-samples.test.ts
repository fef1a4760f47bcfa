import { describe, expect, it } from "vitest";
import { ManualClock } from "../platform/clock.js";
import { silentLogger } from "../platform/logger.js";
import { localBackend, MemoryMetricsStore } from "../tsdb/index.js";
import type { CheckOutcome } from "./check-outcome.js";
import { CheckSampleWriter } from "./check-samples.js";

function httpOutcome(at: number, ok: boolean): CheckOutcome {
  return {
    check: "api-health",
    at,
    ok,
    degraded: false,
    durationMs: 120,
    attempts: 1,
    reason: ok ? null : "unexpected status 503",
    statusCode: ok ? 200 : 503,
    conditions: [],
    timings: { connect: 10, processing: 100 },
    probe: { type: "http", tls: null },
  };
}

describe("check runs as samples", () => {
  it("writes blackbox_exporter's series that PromQL can answer over, and ends them when the check goes", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryMetricsStore();
    const writer = new CheckSampleWriter({ appender: () => store.appender(), clock, log: silentLogger });
    const backend = localBackend(store);
    const t0 = clock.now();
    writer.record(httpOutcome(t0, true), "api", { team: "web" });
    writer.record(httpOutcome(t0 + 30_000, false), "api", { team: "web" });
    await writer.flush();

    const success = await backend.rangeQuery({
      query: 'probe_success{job="nines_checks",check="api-health",service="api",team="web"}',
      start: t0,
      end: t0 + 30_000,
      step: 30_000,
    });
    expect(success.value.type).toBe("matrix");
    if (success.value.type !== "matrix") return;
    expect(success.value.series[0]?.points.map((p) => p.f)).toEqual([1, 0]);

    const duration = await backend.instantQuery({
      query: 'probe_duration_seconds{check="api-health"}',
      time: t0 + 31_000,
    });
    expect(duration.value).toMatchObject({ type: "vector", samples: [{ f: 0.12 }] });
    const status = await backend.instantQuery({ query: "probe_http_status_code", time: t0 + 31_000 });
    expect(status.value).toMatchObject({ type: "vector", samples: [{ f: 503 }] });

    clock.advance(60_000);
    writer.forget("api-health");
    await writer.flush();
    const after = await backend.instantQuery({ query: "probe_success", time: clock.now() + 1000 });
    expect(after.value).toEqual({ type: "vector", samples: [] });
  });

  it("keeps labels sorted with an upper-case label name, and starts new series when a check's labels change", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryMetricsStore();
    const writer = new CheckSampleWriter({ appender: () => store.appender(), clock, log: silentLogger });
    const extra = { Zone: "eu-1", team: "web" };
    writer.record(httpOutcome(clock.now(), true), "api", extra);
    writer.record(httpOutcome(clock.now() + 10_000, true), "api", extra);
    await writer.flush();
    const names = (labels: ReadonlyArray<{ name: string }>) => labels.map((l) => l.name);
    const first = store.select({ matchers: [], minT: 0, maxT: clock.now() + 10_000 });
    expect(first.map((s) => names(s.labels))).toContainEqual([
      "Zone",
      "__name__",
      "check",
      "job",
      "service",
      "team",
    ]);
    expect(first.length).toBe(3);

    clock.advance(20_000);
    writer.record(httpOutcome(clock.now(), true), "api", { ...extra, team: "payments" });
    await writer.flush();
    const later = store.select({ matchers: [], minT: clock.now(), maxT: clock.now() });
    const teams = later.map((s) => s.labels.find((l) => l.name === "team")?.value).sort();
    // The old series end (a stale marker now) and the new ones begin.
    expect(teams).toEqual(["payments", "payments", "payments", "web", "web", "web"]);
  });

  it("stores a batch of thousands of runs whole, though it is added a slice at a time", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryMetricsStore();
    const writer = new CheckSampleWriter({ appender: () => store.appender(), clock, log: silentLogger });
    for (let i = 0; i < 2000; i++)
      writer.record({ ...httpOutcome(clock.now(), true), check: `check-${i}` }, "api", {});
    await writer.flush();
    const series = store.select({ matchers: [], minT: 0, maxT: clock.now() });
    expect(series.length).toBe(6000);
    expect(writer.refused).toBe(0);
  });

  it("counts a run the store refuses and keeps the rest of the batch", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new MemoryMetricsStore();
    const writer = new CheckSampleWriter({ appender: () => store.appender(), clock, log: silentLogger });
    writer.record(httpOutcome(clock.now(), true), "api", {});
    writer.record(httpOutcome(clock.now() - 5000, false), "api", {});
    await writer.flush();
    expect(writer.refused).toBeGreaterThan(0);
    const series = store.select({ matchers: [], minT: 0, maxT: clock.now() });
    expect(series.length).toBe(3);
  });
});
