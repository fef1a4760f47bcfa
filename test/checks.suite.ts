import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckStateChanged } from "../src/checks/index.js";
import type { DialectName } from "./support/databases.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

const SECRET = `s3cret-${Math.random().toString(36).slice(2)}`;
process.env.NINES_TEST_CHECK_SECRET = SECRET;

interface Target {
  server: Server;
  port: number;
  status: number;
  hits: number;
  seenAuthorization: Set<string>;
}

async function startTarget(): Promise<Target> {
  const target = { status: 200, hits: 0, seenAuthorization: new Set<string>() } as Target;
  target.server = createServer((req, res) => {
    target.hits++;
    if (req.headers.authorization) target.seenAuthorization.add(req.headers.authorization);
    if (req.url === "/hang") return; // never answers
    res.writeHead(target.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: target.status === 200 ? "ok" : "failing" }));
  });
  await new Promise<void>((done) => target.server.listen(0, "127.0.0.1", done));
  const address = target.server.address();
  target.port = typeof address === "object" && address ? address.port : 0;
  return target;
}

function config(port: number, extra = "", interval = "1s"): string {
  return `apiVersion: nines/v1
kind: Team
metadata: { name: ops }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec: { ownerTeam: ops }
---
apiVersion: nines/v1
kind: Check
metadata: { name: web }
spec:
  service: api
  interval: ${interval}
  timeout: 800ms
  labels: { env: test }
  probe:
    type: http
    url: http://127.0.0.1:${port}/health
    headers: { authorization: "Bearer \${NINES_TEST_CHECK_SECRET}" }
  conditions: ["[STATUS] == 200", "[BODY].status == ok"]
---
apiVersion: nines/v1
kind: Check
metadata: { name: closed-port }
spec:
  service: api
  interval: 1s
  timeout: 500ms
  failureThreshold: 2
  probe: { type: tcp, host: 127.0.0.1, port: 1 }
---
apiVersion: nines/v1
kind: Check
metadata: { name: cron-job }
spec:
  service: api
  heartbeat: { period: 1s, grace: 1s }
${extra}`;
}

/** The checks suite: checks end to end through the real server, once per dialect. */
export function runChecksSuite({ dialect }: { dialect: DialectName }): void {
  describe(`checks [${dialect}]`, () => {
    let t: TestApp;
    let target: Target;
    let dir: string;
    const changes: CheckStateChanged[] = [];
    const inject = (options: InjectOptions) => t.app.server.inject(options);
    const get = async (url: string, token?: string) => (await inject({ url, headers: t.auth(token) })).json();
    const statusOf = async (name: string): Promise<string> => (await get(`/api/v1/checks/${name}`)).status;

    beforeAll(async () => {
      target = await startTarget();
      dir = mkdtempSync(join(tmpdir(), "nines-checks-"));
      writeFileSync(join(dir, "config.yaml"), config(target.port));
      t = await startTestApp(dialect, { configPath: dir, uptimeCacheTtlMs: 0 });
      t.app.events.on("check.stateChanged", (e) => {
        changes.push(e);
      });
    });
    afterAll(async () => {
      await t?.close();
      target?.server.close();
    });

    it("runs each kind of check, judges it by its conditions and thresholds, and lists state and uptime", async () => {
      await expect.poll(() => statusOf("web"), { timeout: 8000 }).toBe("up");
      await expect.poll(() => statusOf("closed-port"), { timeout: 8000 }).toBe("down");
      const { checks, next } = await get("/api/v1/checks");
      expect(next).toBeNull();
      const first = await get("/api/v1/checks?limit=2");
      expect(first.checks.map((c: { name: string }) => c.name)).toEqual(["closed-port", "cron-job"]);
      expect(first.next).toBe("cron-job");
      const second = await get(`/api/v1/checks?limit=2&after=${first.next}`);
      expect(second).toMatchObject({ checks: [{ name: "web" }], next: null });
      const web = checks.find((c: { name: string }) => c.name === "web");
      expect(web).toMatchObject({
        service: "api",
        type: "http",
        interval: "1s",
        status: "up",
        lastReason: null,
      });
      await expect
        .poll(
          async () => {
            // Rollups (and so uptime) are written every tenth flush; make this one write them.
            await t.app.checks.recorder.flush({ rollups: true });
            return (await get("/api/v1/checks")).checks.find(
              (c: { name: string }) => c.name === "closed-port",
            ).uptime["24h"].runs;
          },
          { timeout: 8000 },
        )
        .toBeGreaterThan(0);
      const closed = (await get("/api/v1/checks/closed-port")) as {
        lastReason: string;
        uptime: { "24h": { ratio: number } };
      };
      expect(closed.lastReason).toBe("connection refused");
      expect(closed.uptime["24h"].ratio).toBe(0);
      const events = (await get("/api/v1/checks/closed-port/events")).events;
      expect(events.map((e: { from: string; to: string }) => `${e.from}->${e.to}`)).toEqual([
        "pending->down",
      ]);
    });

    it("goes down with the failed condition's actual value when the target fails, and tells subscribers", async () => {
      target.status = 503;
      await expect.poll(() => statusOf("web"), { timeout: 8000 }).toBe("down");
      const [latest] = (await get("/api/v1/checks/web/results?limit=1")).results;
      expect(latest).toMatchObject({ ok: false, statusCode: 503 });
      expect(latest.reason).toContain("503");
      expect(
        changes.some((c) => c.check === "web" && c.service === "api" && c.from === "up" && c.to === "down"),
      ).toBe(true);
      target.status = 200;
      await expect.poll(() => statusOf("web"), { timeout: 8000 }).toBe("up");
      const events = (await get("/api/v1/checks/web/events")).events.map((e: { to: string }) => e.to);
      expect(events.slice(0, 3)).toEqual(["up", "down", "up"]);
    });

    it("keeps history: results newest first with phase timings and conditions, paged, and rollups with latency", async () => {
      const page1 = (await get("/api/v1/checks/web/results?limit=2")).results;
      expect(page1).toHaveLength(2);
      expect(Date.parse(page1[0].at)).toBeGreaterThanOrEqual(Date.parse(page1[1].at));
      const good =
        page1.find((r: { ok: boolean }) => r.ok) ??
        (await get("/api/v1/checks/web/results?limit=1")).results[0];
      expect(good.conditions).toEqual([
        { condition: "[STATUS] == 200", ok: true, actual: "200" },
        { condition: "[BODY].status == ok", ok: true, actual: "ok" },
      ]);
      expect(Object.keys(good.timings)).toEqual(
        expect.arrayContaining(["connect", "processing", "transfer"]),
      );
      const page2 = (
        await get(`/api/v1/checks/web/results?limit=2&before=${encodeURIComponent(page1[1].at)}`)
      ).results;
      expect(page2.length).toBeGreaterThan(0);
      expect(Date.parse(page2[0].at)).toBeLessThan(Date.parse(page1[1].at));

      const minuteRollups = async () => {
        await t.app.checks.recorder.flush({ rollups: true });
        return (await get("/api/v1/checks/web/rollups?resolution=1m")).rollups;
      };
      // The check runs once a second: wait for a few runs rather than assume that they happened.
      await expect
        .poll(async () => (await minuteRollups()).reduce((n: number, r: { runs: number }) => n + r.runs, 0), {
          timeout: 8000,
        })
        .toBeGreaterThan(3);
      const rollups = await minuteRollups();
      expect(rollups[rollups.length - 1].latencyMs.p95).toBeGreaterThan(0);
      const daily = (await get("/api/v1/checks/web/rollups?resolution=1d")).rollups;
      expect(daily).toHaveLength(1);
    });

    it("sends secrets from the environment but never shows them", async () => {
      expect(target.seenAuthorization).toEqual(new Set([`Bearer ${SECRET}`]));
      const detail = await inject({ url: "/api/v1/checks/web", headers: t.auth() });
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the API must show the reference as written.
      expect(detail.body).toContain("${NINES_TEST_CHECK_SECRET}");
      expect(detail.body).not.toContain(SECRET);
      const results = await inject({ url: "/api/v1/checks/web/results?limit=1000", headers: t.auth() });
      expect(results.body).not.toContain(SECRET);
      expect((await inject({ url: "/metrics" })).body).not.toContain(SECRET);
    });

    it("exports every check with blackbox_exporter's metric names", async () => {
      const body = (await inject({ url: "/metrics" })).body;
      expect(body).toMatch(/^probe_success\{check="web",service="api",env="test"\} 1$/m);
      expect(body).toMatch(/^probe_success\{check="closed-port",service="api"\} 0$/m);
      expect(body).toMatch(/^probe_http_status_code\{check="web",service="api",env="test"\} 200$/m);
      expect(body).toMatch(
        /^probe_http_duration_seconds\{check="web",service="api",env="test",phase="connect"\} [0-9.e-]+$/m,
      );
      expect(body).toMatch(/^nines_check_status\{check="closed-port",service="api",status="down"\} 1$/m);
      expect(body).toMatch(/^nines_check_schedule_lag_seconds_count [1-9]/m);
    });

    it("marks a silent heartbeat down, and a ping brings it back; its URL is only for editors", async () => {
      await expect.poll(() => statusOf("cron-job"), { timeout: 8000 }).toBe("down");
      const [event] = (await get("/api/v1/checks/cron-job/events")).events;
      expect(event.reason).toMatch(/^no ping since it was configured; one was due by /);
      const { heartbeatUrl } = await get("/api/v1/checks/cron-job");
      expect(heartbeatUrl).toMatch(/^\/api\/v1\/heartbeats\/[A-Za-z0-9_-]{20,}$/);
      const viewer = (
        await inject({
          method: "POST",
          url: "/api/v1/tokens",
          headers: t.auth(),
          payload: { name: "v", role: "viewer" },
        })
      ).json().token;
      expect((await get("/api/v1/checks/cron-job", viewer)).heartbeatUrl).toBeNull();

      const ping = await inject({
        method: "POST",
        url: heartbeatUrl,
        payload: "done",
        headers: { "content-type": "text/plain" },
      });
      expect(ping.json()).toEqual({ ok: true, check: "cron-job" });
      // State is stored at the next flush, within a second.
      await expect.poll(() => statusOf("cron-job"), { timeout: 3000 }).toBe("up");
      const fail = await inject({ method: "GET", url: `${heartbeatUrl}/fail` });
      expect(fail.statusCode).toBe(200);
      await expect.poll(() => statusOf("cron-job"), { timeout: 3000 }).toBe("down");
      expect((await inject({ url: "/api/v1/heartbeats/not-a-real-token-at-all" })).statusCode).toBe(404);
    });

    it("runs a check on demand, for responders and up", async () => {
      const res = await inject({ method: "POST", url: "/api/v1/checks/web/run", headers: t.auth() });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ ok: true, statusCode: 200, attempts: 1 });
      const viewer = (
        await inject({
          method: "POST",
          url: "/api/v1/tokens",
          headers: t.auth(),
          payload: { name: "v2", role: "viewer" },
        })
      ).json().token;
      expect(
        (await inject({ method: "POST", url: "/api/v1/checks/web/run", headers: t.auth(viewer) })).statusCode,
      ).toBe(403);
      expect(
        (await inject({ method: "POST", url: "/api/v1/checks/nope/run", headers: t.auth() })).statusCode,
      ).toBe(404);
    });

    it("takes configuration changes without a restart and without resetting state; a bad change leaves the checks as they were", async () => {
      const before = await get("/api/v1/checks/web");
      const bad = await inject({
        method: "POST",
        url: "/api/v1/config/apply",
        headers: t.auth(),
        payload: { files: [{ path: "c.yaml", content: config(target.port, "", "500ms") }] },
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().details.problems[0].message).toBe(
        "spec.interval: interval must be between 1s and 24h",
      );

      const slow = config(target.port, "", "2s").replace(
        /---\napiVersion: nines\/v1\nkind: Check\nmetadata: \{ name: closed-port \}[\s\S]*?(?=---)/,
        "",
      );
      const applied = await inject({
        method: "POST",
        url: "/api/v1/config/apply",
        headers: t.auth(),
        payload: { files: [{ path: "c.yaml", content: slow }] },
      });
      expect(applied.json()).toMatchObject({ ok: true, applied: true });
      await expect
        .poll(async () => (await get("/api/v1/checks")).checks.map((c: { name: string }) => c.name), {
          timeout: 5000,
        })
        .toEqual(["cron-job", "web"]);
      const after = await get("/api/v1/checks/web");
      expect(after).toMatchObject({ interval: "2s", status: before.status, since: before.since });
      const hits = target.hits;
      await new Promise((r) => setTimeout(r, 4500));
      // At 2 s the check runs two or three times in 4.5 s, not four or more.
      expect(target.hits - hits).toBeGreaterThanOrEqual(1);
      expect(target.hits - hits).toBeLessThanOrEqual(3);
    });

    it("resumes state and history after a restart", async () => {
      await t.app.checks.recorder.flush({ rollups: true });
      const before = await get("/api/v1/checks/web");
      const runsBefore = (await get("/api/v1/checks/web/rollups?resolution=1d")).rollups[0].runs;
      await t.close({ keepDatabase: true });
      t = await startTestApp(dialect, { configPath: dir, database: t.database, uptimeCacheTtlMs: 0 });
      const after = await get("/api/v1/checks/web");
      expect(after).toMatchObject({ status: before.status, since: before.since });
      await expect
        .poll(
          async () => {
            await t.app.checks.recorder.flush({ rollups: true });
            return (await get("/api/v1/checks/web/rollups?resolution=1d")).rollups[0].runs;
          },
          { timeout: 8000 },
        )
        .toBeGreaterThan(runsBefore);
    });
  });
}
