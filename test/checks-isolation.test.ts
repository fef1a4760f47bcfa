import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "./support/test-app.js";

describe("one misbehaving target", () => {
  let t: TestApp;
  const hits = new Map<string, number>();
  const servers: Array<{ close(): void }> = [];

  beforeAll(async () => {
    // Never answers; sends garbage; streams an endless body; and a healthy one counting hits per path.
    const hang = createTcpServer(() => {});
    const garbage = createTcpServer((socket) => socket.end("\x00\x01 not http at all\r\n\r\n"));
    const endless = createHttpServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = () => {
        while (res.write(chunk)) {}
      };
      res.on("drain", pump);
      pump();
    });
    const healthy = createHttpServer((req, res) => {
      hits.set(req.url ?? "", (hits.get(req.url ?? "") ?? 0) + 1);
      res.end("ok");
    });
    const ports: number[] = [];
    for (const server of [hang, garbage, endless, healthy]) {
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      const address = server.address();
      ports.push(typeof address === "object" && address ? address.port : 0);
      servers.push(server);
    }
    const [hangPort, garbagePort, endlessPort, healthyPort] = ports;
    const check = (name: string, url: string, timeout = "700ms") =>
      `---\napiVersion: nines/v1\nkind: Check\nmetadata: { name: ${name} }\nspec:\n  service: api\n  interval: 1s\n  timeout: ${timeout}\n  probe: { type: http, url: "${url}", bodyLimitBytes: 1048576 }\n`;
    let yaml =
      "apiVersion: nines/v1\nkind: Team\nmetadata: { name: ops }\nspec: {}\n---\napiVersion: nines/v1\nkind: Service\nmetadata: { name: api }\nspec: { ownerTeam: ops }\n";
    yaml += check("hangs", `http://127.0.0.1:${hangPort}/`);
    yaml += check("garbage", `http://127.0.0.1:${garbagePort}/`);
    yaml += check("endless", `http://127.0.0.1:${endlessPort}/`);
    for (let i = 0; i < 30; i++) yaml += check(`healthy-${i}`, `http://127.0.0.1:${healthyPort}/${i}`);
    // Cloud metadata: refused after resolution, before any packet is sent.
    yaml += check("metadata", "http://169.254.169.254/latest/meta-data/");
    const dir = mkdtempSync(join(tmpdir(), "nines-isolation-"));
    writeFileSync(join(dir, "checks.yaml"), yaml);
    t = await startTestApp("sqlite", { configPath: dir, uptimeCacheTtlMs: 0 });
  });
  afterAll(async () => {
    await t?.close();
    for (const s of servers) s.close();
  });

  it("deletes raw results and rollups past their retention and keeps the rest", async () => {
    const db = t.app.database.db;
    const old = Date.now() - 8 * 86_400_000;
    await db
      .insertInto("check_results")
      .values({
        id: "old-result",
        check_name: "healthy-0",
        at: old,
        ok: 1,
        degraded: 0,
        duration_ms: 1,
        attempts: 1,
        status_code: 200,
        reason: null,
        conditions: null,
        timings: null,
      })
      .execute();
    const rollup = {
      check_name: "healthy-0",
      runs: 1,
      failures: 0,
      degraded: 0,
      latency_min: 1,
      latency_sum: 1,
      latency_max: 1,
      latency_histogram: "{}",
    };
    await db
      .insertInto("check_rollups")
      .values([
        { ...rollup, resolution: "1m", start: old },
        { ...rollup, resolution: "1d", start: old },
      ])
      .execute();
    await t.app.checks.applyRetention();
    expect(
      await db.selectFrom("check_results").select("id").where("id", "=", "old-result").execute(),
    ).toEqual([]);
    const kept = await db.selectFrom("check_rollups").select("resolution").where("start", "=", old).execute();
    expect(kept.map((r) => r.resolution)).toEqual(["1d"]);
  });

  it("fails with a reason and never delays the other checks", async () => {
    await new Promise((r) => setTimeout(r, 4500));
    // Every healthy check kept its 1 s schedule: four or five runs in 4.5 s, none starved.
    for (let i = 0; i < 30; i++) expect(hits.get(`/${i}`) ?? 0).toBeGreaterThanOrEqual(3);
    const reasons = async (name: string) =>
      (await t.app.server.inject({ url: `/api/v1/checks/${name}`, headers: t.auth() })).json()
        .lastReason as string;
    await t.app.checks.recorder.flush();
    expect(await reasons("hangs")).toMatch(/^timeout after 700 ms/);
    expect(await reasons("garbage")).toMatch(/parse|protocol|HTTP|response/i);
    expect(await reasons("endless")).toMatch(/body exceeded 1048576 bytes/);
    expect(await reasons("metadata")).toMatch(/address 169\.254\.169\.254 is blocked/);
    // Runs never pile up behind a slow target: at most one run per check is ever in flight.
    expect(t.app.checks.schedulerStats().inFlight).toBeLessThanOrEqual(34);
    expect((await t.app.server.inject({ url: "/healthz" })).statusCode).toBe(200);
  });
});
