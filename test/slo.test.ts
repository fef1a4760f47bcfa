import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/platform/clock.js";
import { labelsFrom } from "../src/promql/index.js";
import type { SloAlert } from "../src/slo/index.js";
import { DIALECTS } from "./support/databases.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const CONFIG = `apiVersion: nines/v1
kind: Team
metadata: { name: ops }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: checkout }
spec: { ownerTeam: ops, links: { runbook: "https://runbooks.example.com/checkout" } }
---
apiVersion: nines/v1
kind: Check
metadata: { name: checkout-health }
spec:
  service: checkout
  interval: 10s
  timeout: 5s
  paused: true
  probe: { type: http, url: "http://127.0.0.1:9/health" }
---
apiVersion: nines/v1
kind: SLO
metadata: { name: checkout-availability }
spec:
  service: checkout
  sli: { checkAvailability: { check: checkout-health } }
  objective: 99.9
  window: 30d
---
apiVersion: nines/v1
kind: SLO
metadata: { name: checkout-requests }
spec:
  service: checkout
  sli:
    ratio:
      bad: sum by (route) (rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum by (route) (rate(http_requests_total[{{.window}}]))
  groupBy: [route]
  objective: 99
  window: 7d
  policy: { freezeBelow: 10 }
---
apiVersion: nines/v1
kind: SLO
metadata: { name: checkout-canary }
spec:
  service: checkout
  sli: { checkAvailability: { check: checkout-health } }
  objective: 99.9
  window: 30d
  alerting: { minEvents: 100000 }
`;

for (const dialect of DIALECTS) {
  describe(`SLOs through the running server (${dialect})`, () => {
    let t: TestApp;
    let dir: string;
    const clock = new ManualClock(Date.UTC(2026, 5, 1, 12, 0));
    const alerts: SloAlert[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "nines-slo-"));
      writeFileSync(join(dir, "nines.yaml"), CONFIG);
      t = await startTestApp(dialect, { configPath: dir, clock });
      t.app.events.on("slo.alert", (a) => {
        alerts.push(a);
      });
    });

    afterAll(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("counts check runs as they happen and pages through the fast tier when every run fails", async () => {
      const ran = (ok: boolean) =>
        t.app.events.emit("check.ran", {
          check: "checkout-health",
          service: "checkout",
          at: clock.now(),
          ok,
          degraded: false,
          durationMs: 12,
        });
      // An hour of good runs every 10 s, then failures.
      for (let i = 0; i < 360; i++) {
        ran(true);
        clock.advance(10_000);
      }
      await t.app.slos.tick();
      expect(alerts).toEqual([]);
      for (let i = 0; i < 12; i++) {
        ran(false);
        clock.advance(10_000);
      }
      await t.app.slos.tick();
      const page = alerts.find((a) => a.labels.slo === "checkout-availability" && a.state === "firing");
      expect(page?.labels).toMatchObject({ severity: "page", tier: "page-fast", service: "checkout" });
      expect(page?.annotations.runbook_url).toBe("https://runbooks.example.com/checkout");

      const res = await t.app.server.inject({ url: "/api/v1/slos/checkout-availability", headers: t.auth() });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.groups[0].status.totalEvents).toBe(372);
      expect(body.groups[0].status.tiers[0]).toMatchObject({ name: "page-fast", firing: true });

      // A real run of the check (its target refuses the connection) is counted as it happens.
      const run = await t.app.server.inject({
        method: "POST",
        url: "/api/v1/checks/checkout-health/run",
        headers: t.auth(),
      });
      expect(run.json()).toMatchObject({ ok: false });
      await t.app.slos.tick();
      const after = await t.app.server.inject({
        url: "/api/v1/slos/checkout-availability",
        headers: t.auth(),
      });
      expect(after.json().groups[0].status.totalEvents).toBe(373);
    });

    it("evaluates PromQL SLIs per group each minute and freezes changes when a group's budget is spent", async () => {
      // Counters for two routes: /pay fails 50% of requests, /cart none, for 30 minutes.
      const pay = labelsFrom({ __name__: "http_requests_total", route: "/pay", code: "200" });
      const payErr = labelsFrom({ __name__: "http_requests_total", route: "/pay", code: "500" });
      const cart = labelsFrom({ __name__: "http_requests_total", route: "/cart", code: "200" });
      let n = 0;
      const start = clock.now();
      for (let s = 0; s <= 30 * 60; s += 15) {
        const app = t.app.metricsBackend.appender();
        n += 10;
        app.add(pay, start + s * 1000, n);
        app.add(payErr, start + s * 1000, n);
        app.add(cart, start + s * 1000, n * 2);
        await app.commit();
        if (s % 60 === 0 && s > 0) {
          clock.set(start + s * 1000);
          await t.app.slos.tick();
        }
      }
      const res = await t.app.server.inject({ url: "/api/v1/slos?service=checkout", headers: t.auth() });
      const slos = res.json().slos as Array<{
        name: string;
        groups: Array<{ labels: Record<string, string>; status: { sli: number; budgetRemaining: number } }>;
      }>;
      const requests = slos.find((s) => s.name === "checkout-requests");
      const byRoute = Object.fromEntries((requests?.groups ?? []).map((g) => [g.labels.route, g.status]));
      expect(byRoute["/cart"]?.sli).toBe(1);
      expect(byRoute["/pay"]?.sli).toBeCloseTo(0.5, 2);
      expect(byRoute["/pay"]?.budgetRemaining).toBeLessThan(0);
      // Least budget left first.
      expect(slos[0]?.name).toBe("checkout-requests");

      const gate = await t.app.server.inject({ url: "/api/v1/services/checkout/gate", headers: t.auth() });
      expect(gate.json()).toMatchObject({ allowed: false });
      expect(gate.json().reasons.join("\n")).toMatch(/SLO checkout-requests \{"route":"\/pay"\}/);
      // The canary's budget is spent too, but on fewer events than its minEvents: that does not freeze.
      const canary = gate.json().slos.find((s: { name: string }) => s.name === "checkout-canary");
      expect(canary).toMatchObject({ status: "insufficient_data" });
      expect(canary.remaining).toBeLessThan(0);
      expect(gate.json().reasons.join("\n")).not.toMatch(/checkout-canary/);
      const unknown = await t.app.server.inject({ url: "/api/v1/services/nope/gate", headers: t.auth() });
      expect(unknown.statusCode).toBe(404);
    });

    it("serves budget and burn-rate history as chart series", async () => {
      const to = new Date(clock.now()).toISOString();
      const from = new Date(clock.now() - HOUR).toISOString();
      const res = await t.app.server.inject({
        url: `/api/v1/slos/checkout-availability/history?from=${from}&to=${to}&step=600`,
        headers: t.auth(),
      });
      expect(res.statusCode).toBe(200);
      const [series] = res.json().series;
      expect(series.timestamps).toHaveLength(7);
      expect(series.burnRate["page-fast"]).toHaveLength(7);
      expect(series.budgetRemaining.at(-1)).toBeLessThan(1);
    });
  });
}
