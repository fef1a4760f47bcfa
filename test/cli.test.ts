import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNines } from "./support/run-cli.js";
import { ADMIN_TOKEN, startTestApp, type TestApp } from "./support/test-app.js";

const EXAMPLES = resolve(import.meta.dirname, "../examples");

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  return typeof address === "object" && address ? address.port : 0;
}

describe("the nines command against a running server", () => {
  let t: TestApp;
  let env: Record<string, string>;
  let work: string;

  beforeAll(async () => {
    t = await startTestApp("sqlite", { configPath: EXAMPLES, listen: true });
    const address = t.app.server.server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    work = mkdtempSync(join(tmpdir(), "nines-cli-"));
    env = {
      NINES_URL: `http://127.0.0.1:${port}`,
      NINES_TOKEN: ADMIN_TOKEN,
      NINES_DATA_DIR: join(work, "no-data"),
    };
  });
  afterAll(async () => {
    await t?.close();
  });

  it("validates locally: exit 0 when valid, 2 with file:line:column lines when not", async () => {
    const ok = await runNines(["validate", EXAMPLES]);
    expect(ok).toMatchObject({ code: 0, stdout: `${EXAMPLES}: valid, 12 objects\n` });
    const bad = join(work, "bad.yaml");
    writeFileSync(
      bad,
      "apiVersion: nines/v1\nkind: Service\nmetadata: { name: api }\nspec:\n  ownerTeam: ghosts\n---\napiVersion: nines/v1\nkind: Team\nmetadata: { name: ops }\nspec: { displayName: 7 }\n",
    );
    const result = await runNines(["validate", bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `${bad}:5:14: error: Service "api" refers to Team "ghosts", which is not defined.\n${bad}:10:22: error: spec.displayName: expected string, got number 7\nnines: 2 errors in ${bad}\n`,
    );
  });

  it("diffs, applies and rolls back, printing changes field by field", async () => {
    const dir = join(work, "cfg");
    cpSync(EXAMPLES, dir, { recursive: true });
    writeFileSync(
      join(dir, "services.yaml"),
      readFileSync(join(dir, "services.yaml"), "utf8").replace(
        "name: postgres\nspec:\n  ownerTeam: platform\n  tier: 1",
        "name: postgres\nspec:\n  ownerTeam: platform\n  tier: 2",
      ),
    );
    const diff = await runNines(["diff", dir, "--exit-code"], env);
    expect(diff).toMatchObject({
      code: 1,
      stdout:
        "~ Service postgres (update)\n    spec.tier: 1 → 2\n0 to create, 1 to change, 0 to delete, 11 unchanged\n",
    });
    const apply = await runNines(["apply", dir], env);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("applied: revision 2\n");
    const again = await runNines(["apply", dir], env);
    expect(again.stdout).toContain("nothing to change; revision 2 stays in force");
    const revisions = await runNines(["revisions", "-o", "json"], env);
    expect(JSON.parse(revisions.stdout).map((r: { revision: number }) => r.revision)).toEqual([2, 1]);
    const rollback = await runNines(["rollback", "1"], env);
    expect(rollback).toMatchObject({ code: 0 });
    expect(rollback.stdout).toContain("spec.tier: 2 → 1");
    const services = await runNines(["services", "-o", "json"], env);
    expect(JSON.parse(services.stdout).find((s: { name: string }) => s.name === "postgres").tier).toBe(1);
  });

  it("creates, lists and revokes tokens; the secret is printed once", async () => {
    const created = await runNines(
      ["token", "create", "--name", "ci", "--role", "editor", "--expires-in-days", "7"],
      env,
    );
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^nines_/);
    const list = await runNines(["token", "list"], env);
    expect(list.stdout).toMatch(/ci\s+editor/);
    expect(list.stdout).not.toContain(secret);
    const asCi = await runNines(["token", "list"], { ...env, NINES_TOKEN: secret });
    expect(asCi.code).toBe(3);
    expect(asCi.stderr).toMatch(
      /^nines: FORBIDDEN: "token.read" needs role admin or higher; ci has role editor/,
    );
    expect((await runNines(["token", "revoke", "ci"], env)).code).toBe(0);
    const revoked = await runNines(["services"], { ...env, NINES_TOKEN: secret });
    expect(revoked).toMatchObject({
      code: 3,
      stderr: "nines: UNAUTHENTICATED: The token was revoked. Use another token.\n",
    });
  });

  it("verifies the audit chain, and names the first record edited in the database", async () => {
    const good = await runNines(["audit", "verify"], env);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^audit chain intact: \d+ records, head [0-9a-f]{64}\n$/);
    const exported = await runNines(["audit", "export", "--since", "2000-01-01"], env);
    const lines = exported.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ seq: 1, action: "token.create" });

    await sql`update audit_log set details = ${'{"revision":99}'} where seq = 2`.execute(t.app.database.db);
    const broken = await runNines(["audit", "verify"], env);
    expect(broken).toMatchObject({
      code: 1,
      stderr:
        "nines: audit chain broken at record 2: its content does not match its hash: the record was altered\n",
    });
  });

  it("says in one line when the server cannot be reached or the input is wrong, with stack traces only under --debug", async () => {
    const closed = `http://127.0.0.1:${await unusedPort()}`;
    const down = await runNines(["services"], { ...env, NINES_URL: closed });
    expect(down.code).toBe(5);
    expect(down.stderr).toBe(
      `nines: cannot reach Nines at ${closed} (ECONNREFUSED); is \`nines serve\` running? Set --server or NINES_URL.\n`,
    );
    const debug = await runNines(["--debug", "services"], { ...env, NINES_URL: closed });
    expect(debug.stderr).toContain("    at ");
    const usage = await runNines(["rollback", "abc"], env);
    expect(usage).toMatchObject({ code: 2, stderr: 'nines: "abc" is not a revision number\n' });
    const unknown = await runNines(["frobnicate"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it("lists checks and runs one now, printing its conditions and exiting 1 when it fails", async () => {
    const list = await runNines(["checks"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+SERVICE\s+TYPE\s+EVERY\s+STATUS/);
    expect(list.stdout).toMatch(/nightly-backup\s+postgres\s+heartbeat\s+0 3 \* \* \*\s+pending/);
    const dir = join(work, "with-failing-check");
    cpSync(EXAMPLES, dir, { recursive: true });
    writeFileSync(
      join(dir, "failing.yaml"),
      `apiVersion: nines/v1\nkind: Check\nmetadata: { name: nines-api }\nspec:\n  service: checkout\n  interval: 1h\n  timeout: 1s\n  retries: 1\n  probe: { type: http, url: "http://127.0.0.1:${await unusedPort()}/healthz" }\n  conditions: ["[STATUS] == 200"]\n`,
    );
    rmSync(join(dir, "checks.yaml"));
    writeFileSync(
      join(dir, "heartbeat.yaml"),
      readFileSync(join(EXAMPLES, "checks.yaml"), "utf8").split("---")[1] ?? "",
    );
    expect((await runNines(["apply", dir], env)).code).toBe(0);
    let run = await runNines(["check", "run", "nines-api"], env);
    for (let i = 0; i < 20 && run.code === 4; i++) run = await runNines(["check", "run", "nines-api"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^nines-api: FAILED in [\d.]+ms after 2 attempts\n {2}reason: connection refused\n {2}✗ \[STATUS\] == 200 {2}\(actual: \(none: connection refused\)\)/,
    );
    const history = await runNines(["check", "history", "nines-api", "-o", "json"], env);
    expect(JSON.parse(history.stdout).results[0]).toMatchObject({
      ok: false,
      reason: "connection refused",
      attempts: 2,
    });
    const heartbeat = await runNines(["check", "run", "nightly-backup"], env);
    expect(heartbeat).toMatchObject({
      code: 2,
      stderr: 'nines: INVALID_INPUT: Check "nightly-backup" is a heartbeat: it runs when its job pings it.\n',
    });
  });

  it("lists SLOs, shows one, and answers the change gate with exit 0 or 1", async () => {
    const list = await runNines(["slo", "list"], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+GROUP\s+SERVICE\s+OBJECTIVE\s+WINDOW\s+STATUS/);
    expect(list.stdout).toMatch(/checkout-availability\s+checkout\s+99\.5%\s+30d\s+insufficient_data/);
    const status = await runNines(["slo", "status", "checkout-availability"], env);
    expect(status.stdout).toMatch(/^checkout-availability \(service checkout\): 99\.5% over 30d\n/);
    expect(status.stdout).toMatch(/page-fast\s+page\s+14\.4×/);
    const gate = await runNines(["gate", "--service", "checkout"], env);
    expect(gate).toMatchObject({ code: 0, stdout: "changes to checkout may go ahead\n" });
    const unknown = await runNines(["gate", "--service", "nope"], env);
    expect(unknown.code).toBe(4);
  });

  it("imports an alertmanager.yml as Nines config, or names the line that is wrong", async () => {
    const good = join(work, "alertmanager.yml");
    writeFileSync(
      good,
      "route:\n  receiver: ops\nreceivers:\n  - name: ops\n    webhook_configs:\n      - url: http://127.0.0.1:5001/\n",
    );
    const imported = await runNines(["alertmanager", "import", good]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/kind: Receiver\n[\s\S]*kind: AlertmanagerConfig\n/);
    const bad = join(work, "bad-alertmanager.yml");
    writeFileSync(bad, "route:\n  receiver: opz\nreceivers:\n  - name: ops\n");
    const refused = await runNines(["alertmanager", "import", bad]);
    expect(refused).toMatchObject({ code: 2, stdout: "" });
    expect(refused.stderr).toContain(`${bad}:2:13: error: undefined receiver "opz" used in route`);
  });

  it("prints the JSON Schema of every kind", async () => {
    const schema = JSON.parse((await runNines(["schema"])).stdout);
    expect(schema.oneOf.map((k: { title: string }) => k.title)).toEqual([
      "nines/v1 Team",
      "nines/v1 User",
      "nines/v1 Service",
      "nines/v1 Check",
      "nines/v1 SLO",
      "nines/v1 ScrapeConfig",
      "nines/v1 RuleGroup",
      "nines/v1 Receiver",
      "nines/v1 AlertmanagerConfig",
    ]);
    const service = schema.oneOf[2];
    expect(service.properties.spec.required).toEqual(["ownerTeam"]);
    expect(service.properties.spec.additionalProperties).toBe(false);
  });
});
