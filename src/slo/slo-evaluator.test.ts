import { describe, expect, it } from "vitest";
import { scaleTiers, tierWarnings, WORKBOOK_TIERS } from "./burn-rate.js";
import { countLevels, type SloTarget, SloEvaluator } from "./slo-evaluator.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 5, 10, 0, 0, 0);

const thirtyDays: SloTarget = {
  objectivePercent: 99.9,
  window: { kind: "rolling", ms: 30 * DAY },
  budgeting: { method: "occurrences" },
  tiers: WORKBOOK_TIERS,
  minEvents: 0,
  exclusions: [],
};

/**
 * Steady traffic of `perMinute` events, good until T0 (for 3 days, so every window is full), then with
 * `errorShare` bad from T0. Evaluated once a minute, as SLI queries are; returns when each tier first fired
 * (ms after T0) or null.
 */
function simulate(
  errorShare: number,
  untilMs: number,
  target: SloTarget = thirtyDays,
  perMinute = 1000,
): Record<string, number | null> {
  const slo = new SloEvaluator(target);
  const firstFired: Record<string, number | null> = Object.fromEntries(
    target.tiers.map((t) => [t.name, null]),
  );
  for (let t = T0 - 3 * DAY; t < T0 + untilMs; t += MINUTE) {
    const bad = t >= T0 ? Math.round(perMinute * errorShare) : 0;
    // The minute's events, stamped inside the minute they happened in; then the evaluation at its end.
    slo.record(t + MINUTE - 1, perMinute - bad, perMinute);
    const status = slo.evaluate(t + MINUTE);
    for (const tier of status.tiers) {
      if (tier.firing && firstFired[tier.name] === null) firstFired[tier.name] = t + MINUTE - T0;
    }
  }
  return firstFired;
}

const EVALUATION_INTERVAL = MINUTE;

describe("multi-window burn-rate alerts in simulated time (99.9% over 30 days, steady traffic)", () => {
  it("100% errors fire the fast page tier after about 52 s: the 1 h window crosses 14.4 × 0.1%", () => {
    const expected = (14.4 * 0.001 * HOUR) / 1; // 51.84 s of errors out of an hour
    const fired = simulate(1, 10 * MINUTE);
    expect(fired["page-fast"]).not.toBeNull();
    expect(Math.abs((fired["page-fast"] ?? 0) - expected)).toBeLessThanOrEqual(EVALUATION_INTERVAL);
  });

  it("2% errors fire the fast page tier after about 43 min", () => {
    const expected = (14.4 * 0.001 * HOUR) / 0.02; // 2,592 s
    const fired = simulate(0.02, 2 * HOUR);
    expect(Math.abs((fired["page-fast"] ?? Number.POSITIVE_INFINITY) - expected)).toBeLessThanOrEqual(
      EVALUATION_INTERVAL,
    );
  });

  it("0.2% errors (a 2× burn) never page, never reach the 3× ticket, and open the 1× ticket after about 1.5 days", () => {
    const expected = (1 * 0.001 * 3 * DAY) / 0.002; // 1.5 days
    const fired = simulate(0.002, 2 * DAY);
    expect(fired["page-fast"]).toBeNull();
    expect(fired["page-slow"]).toBeNull();
    expect(fired["ticket-fast"]).toBeNull();
    expect(Math.abs((fired["ticket-slow"] ?? Number.POSITIVE_INFINITY) - expected)).toBeLessThanOrEqual(
      EVALUATION_INTERVAL,
    );
  });

  it("says which tiers fire as evaluate() does, tier by tier, without the status", () => {
    // 2% errors from T0 page, then the ticket tiers burn under the firing page tiers (suppressed).
    const slo = new SloEvaluator(thirtyDays);
    const firing: boolean[] = [];
    const seen = new Set<string>();
    for (let t = T0 - 3 * DAY; t < T0 + DAY; t += MINUTE) {
      slo.record(t + MINUTE - 1, t >= T0 ? 980 : 1000, 1000);
      slo.firing(t + MINUTE, firing);
      const tiers = slo.evaluate(t + MINUTE).tiers;
      expect(firing.slice(0, tiers.length)).toEqual(tiers.map((tier) => tier.firing));
      for (const tier of tiers) seen.add(`${tier.name} ${tier.burning} ${tier.firing}`);
    }
    expect(seen).toContain("page-fast true true");
    expect(seen).toContain("ticket-fast true false");
  });

  it("a firing page tier suppresses the ticket tiers of the same SLO", () => {
    const slo = new SloEvaluator(thirtyDays);
    for (let t = T0 - 3 * DAY; t < T0 + 2 * DAY; t += MINUTE) slo.record(t, t >= T0 ? 0 : 1000, 1000);
    const status = slo.evaluate(T0 + 2 * DAY);
    const byName = Object.fromEntries(status.tiers.map((t) => [t.name, t]));
    expect(byName["page-fast"]?.firing).toBe(true);
    expect(byName["ticket-slow"]?.burning).toBe(true);
    expect(byName["ticket-slow"]?.firing).toBe(false);
    expect(status.status).toBe("exhausted");
  });
});

describe("budget figures", () => {
  it("reports remaining budget as a share and as time, and when it runs out at the current burn", () => {
    const slo = new SloEvaluator(thirtyDays);
    // 30 days at 1,000 events a minute with 0.05% bad: half the budget spent.
    for (let t = T0 - 30 * DAY + MINUTE; t <= T0; t += MINUTE) slo.record(t - 1, 999.5, 1000);
    const status = slo.evaluate(T0);
    expect(status.errorBudget.consumed).toBeCloseTo(0.5, 2);
    expect(status.errorBudget.totalMs).toBeCloseTo(43.2 * MINUTE, 0);
    expect((status.errorBudget.remainingMs ?? 0) / MINUTE).toBeCloseTo(21.6, 0);
    expect(status.burnRateNow).toBeCloseTo(0.5, 5);
    // Half the budget left, burning at 0.5×: it lasts another 30 days.
    expect(((status.exhaustionAt ?? 0) - T0) / DAY).toBeCloseTo(30, 0);
    expect(status.status).toBe("healthy");
  });

  it("says insufficient data before any event and when fewer than the minimum events arrived", () => {
    const slo = new SloEvaluator({ ...thirtyDays, minEvents: 100 });
    expect(slo.evaluate(T0).status).toBe("insufficient_data");
    slo.record(T0, 10, 10);
    expect(slo.evaluate(T0 + MINUTE).status).toBe("insufficient_data");
  });

  it("an excluded maintenance period costs no budget", () => {
    const maintenance = { kind: "once" as const, start: T0, end: T0 + 2 * HOUR };
    const slo = new SloEvaluator({ ...thirtyDays, exclusions: [maintenance] });
    for (let t = T0 - DAY; t < T0 + 3 * HOUR; t += MINUTE) {
      const inMaintenance = t >= T0 && t < T0 + 2 * HOUR;
      slo.record(t, inMaintenance ? 0 : 1000, 1000);
    }
    const status = slo.evaluate(T0 + 3 * HOUR);
    expect(status.errorBudget.consumed).toBe(0);
    expect(status.tiers.some((t) => t.firing)).toBe(false);
  });

  it("a recurring exclusion (every Sunday 02:00–04:00 Berlin) leaves those hours out", () => {
    const sunday = Date.UTC(2026, 5, 14, 0, 0); // 02:00 in Berlin (CEST)
    const slo = new SloEvaluator({
      ...thirtyDays,
      exclusions: [
        { kind: "recurring", schedule: "0 2 * * 0", timezone: "Europe/Berlin", durationMs: 2 * HOUR },
      ],
    });
    expect(slo.excluded(sunday + HOUR)).toBe(true);
    expect(slo.excluded(sunday + 2 * HOUR)).toBe(false);
    expect(slo.excluded(sunday - MINUTE)).toBe(false);
    expect(slo.excluded(sunday + 7 * DAY + 30 * MINUTE)).toBe(true);
  });

  it("a service with 10 requests an hour does not page on one failure when the minimum-events guard is set", () => {
    const run = (minEvents: number) => {
      const slo = new SloEvaluator({ ...thirtyDays, minEvents });
      let paged = false;
      for (let t = T0 - 3 * DAY; t < T0 + 6 * HOUR; t += 6 * MINUTE) {
        const failed = t === T0;
        slo.record(t, failed ? 0 : 1, 1);
        if (slo.evaluate(t + MINUTE).tiers.some((x) => x.severity === "page" && x.firing)) paged = true;
      }
      return paged;
    };
    expect(run(0)).toBe(true);
    // 100 events: more than the page tiers' windows hold at 10 an hour (10 in 1 h, 60 in 6 h).
    expect(run(100)).toBe(false);
  });
});

describe("calendar windows", () => {
  const monthly = (timezone: string): SloTarget => ({
    ...thirtyDays,
    window: { kind: "calendar", unit: "month", timezone },
  });

  it("a calendar month resets at midnight of the 1st in its time zone, across the end of daylight saving time", () => {
    // New York leaves daylight saving time on 1 November 2026 at 02:00; that midnight is still 04:00 UTC.
    const slo = new SloEvaluator(monthly("America/New_York"));
    const boundary = Date.UTC(2026, 10, 1, 4, 0);
    for (let t = boundary - 2 * DAY; t < boundary + 2 * HOUR; t += MINUTE) {
      slo.record(t, t < boundary - HOUR ? 1000 : t < boundary ? 900 : 1000, 1000);
    }
    const before = slo.evaluate(boundary - 1);
    expect(before.window.start).toBe(Date.UTC(2026, 9, 1, 4, 0));
    expect(before.errorBudget.consumed ?? 0).toBeGreaterThan(0);
    const after = slo.evaluate(boundary + 2 * HOUR);
    expect(after.window).toEqual({ start: boundary, end: Date.UTC(2026, 11, 1, 5, 0) });
    expect(after.errorBudget.consumed).toBe(0);
    // November has 30 days plus the hour daylight saving time gives back.
    expect(after.errorBudget.totalMs).toBeCloseTo((30 * DAY + HOUR) * 0.001, 0);
  });

  it("a month in Kathmandu (UTC+5:45) counts exactly the events since its local midnight, ten days on", () => {
    const slo = new SloEvaluator(monthly("Asia/Kathmandu"));
    const boundary = Date.UTC(2026, 9, 31, 18, 15);
    let goodSince = 0;
    let totalSince = 0;
    for (let t = boundary - DAY; t < boundary + 10 * DAY; t += MINUTE) {
      // All bad in the last hour of October: none of it may leak into November's budget.
      const good = t >= boundary - HOUR && t < boundary ? 0 : t >= boundary && t % HOUR === 0 ? 99 : 100;
      slo.record(t, good, 100);
      if (t >= boundary) {
        goodSince += good;
        totalSince += 100;
      }
    }
    const status = slo.evaluate(boundary + 10 * DAY - 1);
    expect(status.window.start).toBe(boundary);
    expect(status.total).toBe(totalSince);
    expect(status.good).toBe(goodSince);
  });

  it("a quarter in Berlin starts on 1 April at 00:00 CEST (22:00 UTC the day before)", () => {
    const slo = new SloEvaluator({
      ...thirtyDays,
      window: { kind: "calendar", unit: "quarter", timezone: "Europe/Berlin" },
    });
    const status = slo.evaluate(Date.UTC(2026, 4, 15));
    expect(status.window.start).toBe(Date.UTC(2026, 2, 31, 22, 0));
    expect(status.window.end).toBe(Date.UTC(2026, 5, 30, 22, 0));
  });
});

describe("time-slice budgeting", () => {
  it("counts each 5-minute slice as good when 95% of its events were good, and burns budget per bad slice", () => {
    const slo = new SloEvaluator({
      ...thirtyDays,
      objectivePercent: 99,
      budgeting: { method: "timeslices", sliceMs: 5 * MINUTE, sliceTargetPercent: 95 },
    });
    for (let t = T0; t < T0 + 10 * HOUR; t += MINUTE) {
      // One bad slice an hour: its five minutes are 10% bad; the others are 1% bad, which still meets 95%.
      const badSlice = (t - T0) % HOUR < 5 * MINUTE;
      slo.record(t, badSlice ? 90 : 99, 100);
    }
    const status = slo.evaluate(T0 + 10 * HOUR);
    expect(status.total).toBe(120);
    expect(status.good).toBe(110);
  });
});

describe("time-slice budgeting after a silence", () => {
  it("closes a slice whose events arrived before a silence, at the next evaluation", () => {
    const slo = new SloEvaluator({
      ...thirtyDays,
      budgeting: { method: "timeslices", sliceMs: 5 * MINUTE, sliceTargetPercent: 95 },
    });
    slo.record(T0 + 2 * MINUTE, 50, 100);
    const status = slo.evaluate(T0 + 3 * HOUR);
    expect(status.total).toBe(1);
    expect(status.good).toBe(0);
  });
});

describe("storage", () => {
  it("keeps minute buckets for the page tiers, 5-minute ones for the ticket tiers and hours for the 30 days", () => {
    expect(countLevels(thirtyDays)).toEqual([
      { resolutionMs: MINUTE, spanMs: 6 * HOUR },
      { resolutionMs: 5 * MINUTE, spanMs: 3 * DAY },
      { resolutionMs: HOUR, spanMs: 30 * DAY },
    ]);
    const quarter = countLevels({
      ...thirtyDays,
      window: { kind: "calendar", unit: "quarter", timezone: "UTC" },
    });
    expect(quarter.at(-1)).toEqual({ resolutionMs: 15 * MINUTE, spanMs: 92 * DAY + HOUR });
  });
});

describe("tiers", () => {
  it("scale with the SLO window and keep their factors", () => {
    const weekly = scaleTiers(WORKBOOK_TIERS, 7 * DAY);
    expect(weekly[0]).toMatchObject({ factor: 14.4, longWindowMs: 14 * MINUTE, shortWindowMs: MINUTE });
    expect(scaleTiers(WORKBOOK_TIERS, 30 * DAY)).toEqual(WORKBOOK_TIERS);
  });

  it("warn about a tier that can never fire and one that fires on a single failure", () => {
    expect(tierWarnings(WORKBOOK_TIERS, 90, {})[0]).toMatch(/page-fast can never fire.*10×/);
    const lowTraffic = tierWarnings(WORKBOOK_TIERS, 99.9, { eventsPerHour: 10 });
    expect(lowTraffic.some((w) => /page-fast fires on a single failure/.test(w))).toBe(true);
    // The guard covers the page tiers; a ticket tier with 240 events in 24 h still opens on one failure.
    const guarded = tierWarnings(WORKBOOK_TIERS, 99.9, { eventsPerHour: 10, minEvents: 100 });
    expect(guarded.map((w) => w.split(" ")[1])).toEqual(["ticket-fast", "ticket-slow"]);
    expect(tierWarnings(WORKBOOK_TIERS, 99.9, { eventsPerHour: 1_000_000 })).toEqual([]);
  });
});
