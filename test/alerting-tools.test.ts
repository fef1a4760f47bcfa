import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { registerAlertsCommands } from "../src/cli/alerts-commands.js";
import { NinesClient } from "../src/cli/client.js";
import { type AlertingTestApp, amConfigYaml, startAlertingApp } from "./alerting-harness.js";
import { ADMIN_TOKEN } from "./support/test-app.js";

/**
 * Debian's amtool (prometheus-alertmanager 0.25) and Prometheus 2.42 against Nines's Alertmanager API v2.
 * Both are installed if missing (as root); a missing tool fails the suite with the reason, never passes it.
 */
function ensure(binary: string, pkg: string): string {
  const has = () => spawnSync(binary, ["--version"], { encoding: "utf8" }).status === 0;
  if (!has() && process.getuid?.() === 0)
    spawnSync("apt-get", ["install", "-y", pkg], { stdio: "ignore", timeout: 300_000 });
  if (!has()) throw new Error(`${binary} is missing: install the Debian package ${pkg}`);
  return binary;
}

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("amtool and Prometheus against Nines (sqlite)", () => {
  let t: AlertingTestApp;
  const dir = mkdtempSync(join(tmpdir(), "nines-am-tools-"));
  const httpConfig = join(dir, "http.yml");
  beforeAll(async () => {
    writeFileSync(httpConfig, `authorization:\n  type: Bearer\n  credentials: ${ADMIN_TOKEN}\n`);
    t = await startAlertingApp("sqlite", { configYaml: amConfigYaml(), anonymousRead: true, listen: true });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronous: the server answering amtool runs in this process.
  const amtool = async (args: string[], withToken = true) =>
    (
      await run(
        ensure("amtool", "prometheus-alertmanager"),
        [`--alertmanager.url=${t.url}`, ...(withToken ? [`--http.config.file=${httpConfig}`] : []), ...args],
        { encoding: "utf8", timeout: 20_000 },
      )
    ).stdout;

  it("amtool lists alerts and adds, queries and expires silences", async () => {
    const r = await t.server.inject({
      method: "POST",
      url: "/api/v2/alerts",
      headers: { "content-type": "application/json", ...t.auth() },
      payload: JSON.stringify([
        { labels: { alertname: "DiskFull", instance: "db1" }, annotations: { summary: "98%" } },
      ]),
    });
    expect(r.statusCode).toBe(200);
    // Reads without a token (anonymous-read on), as amtool 0.25 users without an http config do.
    const alerts = JSON.parse(await amtool(["alert", "query", "-o", "json"], false));
    expect(alerts.map((a: { labels: { alertname: string } }) => a.labels.alertname)).toContain("DiskFull");
    expect(await amtool(["alert", "query", "alertname=DiskFull"], false)).toContain("DiskFull");

    const id = (
      await amtool([
        "silence",
        "add",
        "alertname=DiskFull",
        "--comment=replacing disk",
        "--author=ops",
        "--duration=1h",
      ])
    ).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const silences = JSON.parse(await amtool(["silence", "query", "-o", "json"], false));
    expect(silences).toEqual([
      expect.objectContaining({
        id,
        comment: "replacing disk",
        createdBy: "ops",
        status: { state: "active" },
      }),
    ]);
    expect(await amtool(["alert", "query", "--silenced", "-o", "json"], false)).toContain(id);
    await amtool(["silence", "expire", id]);
    expect(JSON.parse(await amtool(["silence", "query", "-o", "json"], false))).toEqual([]);
    expect(JSON.parse(await amtool(["silence", "query", "--expired", "-o", "json"], false))[0].id).toBe(id);
  });

  it("`nines alerts list` and `nines alerts why` show the alert and its history", async () => {
    const r = await t.server.inject({
      method: "POST",
      url: "/api/v2/alerts",
      headers: { "content-type": "application/json", ...t.auth() },
      payload: JSON.stringify([{ labels: { alertname: "CliShown", team: "db" } }]),
    });
    expect(r.statusCode).toBe(200);
    const cli = async (args: string[]) => {
      const program = new Command("nines").exitOverride();
      registerAlertsCommands(program, () => ({
        client: new NinesClient({ server: t.url ?? "", token: ADMIN_TOKEN }),
        output: "table",
      }));
      let out = "";
      const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        out += String(chunk);
        return true;
      });
      try {
        await program.parseAsync(["node", "nines", ...args]);
      } finally {
        spy.mockRestore();
      }
      return out;
    };
    const list = await cli(["alerts", "list", "--filter", "alertname=CliShown"]);
    expect(list).toMatch(/^FINGERPRINT\s+ALERTNAME\s+STATE/);
    const fp = /([0-9a-f]{16})\s+CliShown\s+active/.exec(list)?.[1];
    expect(fp).toBeDefined();
    const why = await cli(["alerts", "why", fp ?? ""]);
    expect(why).toContain(`alert ${fp} {alertname="CliShown", team="db"}`);
    expect(why).toMatch(/received\s+starts/);
    expect(why).toMatch(/grouped\s+group \{\}:\{alertname="CliShown"\} for hook \(new group\)/);
    expect(why).toContain("notifications:\n  (none)");
  });

  it("amtool without a token cannot add a silence", async () => {
    await expect(
      run(
        "amtool",
        [`--alertmanager.url=${t.url}`, "silence", "add", "alertname=X", "--comment=c", "--author=a"],
        {
          timeout: 20_000,
        },
      ),
    ).rejects.toThrow(/401|Unauthorized|token/i);
  });

  it("Prometheus 2.42 sends its firing alerts to Nines with a bearer token", async () => {
    const prometheus = ensure("prometheus", "prometheus");
    const port = new URL(t.url ?? "").port;
    writeFileSync(
      join(dir, "rules.yml"),
      "groups:\n  - name: nines-test\n    interval: 1s\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        labels: { severity: page }\n        annotations: { summary: from prometheus }\n",
    );
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global: { evaluation_interval: 1s }
rule_files: [${join(dir, "rules.yml")}]
alerting:
  alertmanagers:
    - api_version: v2
      authorization: { credentials: ${ADMIN_TOKEN} }
      static_configs: [{ targets: ["127.0.0.1:${port}"] }]
`,
    );
    const webPort = await freePort();
    const child: ChildProcess = spawn(
      prometheus,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${webPort}`,
        // The first send can go before the Alertmanager list is ready; resend every second, not every minute.
        "--rules.alert.resend-delay=1s",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (d: Buffer) => {
      log += d.toString();
    });
    try {
      const alert = await until("the alert from Prometheus", async () => {
        const list = JSON.parse(
          (await t.server.inject({ method: "GET", url: "/api/v2/alerts" })).body,
        ) as Array<{
          labels: Record<string, string>;
          generatorURL?: string;
          annotations: Record<string, string>;
        }>;
        return list.find((a) => a.labels.alertname === "AlwaysFiring");
      });
      expect(alert.labels.severity).toBe("page");
      expect(alert.annotations.summary).toBe("from prometheus");
      expect(alert.generatorURL).toContain("/graph?g0.expr=");
    } catch (error) {
      const stored = await t.test.app.database.db.selectFrom("alerts").selectAll().execute();
      throw new Error(
        `${(error as Error).message}; stored: ${JSON.stringify(stored)}; Prometheus said:\n${log.slice(-1500)}`,
      );
    } finally {
      child.kill("SIGTERM");
    }
  }, 60_000);
});
