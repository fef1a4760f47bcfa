import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer as createHttpServer } from "node:http";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { buildServer } from "../src/http/server.js";
import { createEventBus } from "../src/platform/events.js";
import { silentLogger } from "../src/platform/logger.js";
import { createMetrics } from "../src/platform/metrics.js";
import { defineRoute } from "../src/platform/route.js";
import { systemClock } from "../src/platform/clock.js";
import { z } from "zod";
import { newTestDatabase, openMigrated } from "./support/databases.js";
import { CLI } from "./support/run-cli.js";

const EXAMPLES = resolve(import.meta.dirname, "../examples");

/** Starts `nines serve` as a user would and waits until it says where it serves. */
async function startServer(
  dir: string,
  extraEnv: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string; stdout: () => string }> {
  const child = spawn(process.execPath, [CLI, "serve", "--config", join(dir, "config"), "--port", "0"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start: ${stderr}`)), 15_000);
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const match = /serving at (http:\/\/\S+)/.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        done(match[1]);
      }
    });
    child.on("exit", (code) => fail(new Error(`server exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr, stdout: () => stdout };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => child.on("exit", (code) => done(code)));
}

describe("the server process", () => {
  it("starts on SQLite in ./data with the example config, writes the admin token with mode 0600, reloads on SIGHUP and stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-proc-"));
    cpSync(EXAMPLES, join(dir, "config"), { recursive: true });
    const server = await startServer(dir);
    try {
      const tokenFile = join(dir, "data", "admin-token");
      expect(server.stderr()).toContain(`The admin token was written to ${tokenFile} (mode 0600).`);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, "utf8").trim();
      const headers = { authorization: `Bearer ${token}` };
      expect(
        (
          (await (await fetch(`${server.url}/api/v1/services`, { headers })).json()) as {
            services: unknown[];
          }
        ).services,
      ).toHaveLength(3);
      expect(server.stdout()).not.toContain(token);

      // A broken file is refused on reload; the running configuration stays as it was.
      writeFileSync(
        join(dir, "config", "broken.yaml"),
        "apiVersion: nines/v1\nkind: Team\nmetadata: { name: x }\nspec: { nope: 1 }\n",
      );
      server.child.kill("SIGHUP");
      await expect.poll(() => server.stdout(), { timeout: 5000 }).toContain("configuration not reloaded");
      expect(server.stdout()).toContain('broken.yaml:4:9: error: unknown field \\"nope\\" in spec.');
      expect(
        ((await (await fetch(`${server.url}/api/v1/teams`, { headers })).json()) as { teams: unknown[] })
          .teams,
      ).toHaveLength(2);

      writeFileSync(
        join(dir, "config", "broken.yaml"),
        "apiVersion: nines/v1\nkind: Team\nmetadata: { name: x }\nspec: {}\n",
      );
      server.child.kill("SIGHUP");
      await expect.poll(() => server.stdout(), { timeout: 5000 }).toContain("configuration reloaded");
      expect(
        ((await (await fetch(`${server.url}/api/v1/teams`, { headers })).json()) as { teams: unknown[] })
          .teams,
      ).toHaveLength(3);

      const exit = exitOf(server.child);
      server.child.kill("SIGTERM");
      expect(await exit).toBe(0);
      expect(server.stdout()).toContain('"msg":"stopped"');
      // Closing the database checkpoints SQLite's write-ahead log.
      expect(existsSync(join(dir, "data", "nines.db-wal"))).toBe(false);
    } finally {
      server.child.kill("SIGKILL");
    }
  });

  it("refuses to start with an invalid configuration and says where the problem is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-proc-"));
    cpSync(EXAMPLES, join(dir, "config"), { recursive: true });
    writeFileSync(
      join(dir, "config", "zz.yaml"),
      "apiVersion: nines/v1\nkind: Service\nmetadata: { name: x }\nspec: { ownerTeam: nobody }\n",
    );
    const child = spawn(process.execPath, [CLI, "serve", "--config", join(dir, "config"), "--port", "0"], {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    expect(await exitOf(child)).toBe(2);
    expect(stderr).toContain(
      'zz.yaml:4:20: error: Service "x" refers to Team "nobody", which is not defined.',
    );
  });

  it("runs probes on a worker thread in the compiled server", async () => {
    const target = createHttpServer((_req, res) => res.end("ok"));
    await new Promise<void>((done) => target.listen(0, "127.0.0.1", done));
    const address = target.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const dir = mkdtempSync(join(tmpdir(), "nines-proc-"));
    cpSync(EXAMPLES, join(dir, "config"), { recursive: true });
    writeFileSync(
      join(dir, "config", "probe.yaml"),
      `apiVersion: nines/v1\nkind: Check\nmetadata: { name: local }\nspec:\n  service: checkout\n  interval: 1s\n  timeout: 500ms\n  probe: { type: http, url: "http://127.0.0.1:${port}/" }\n  conditions: ['[BODY] == ok']\n`,
    );
    const token = "nines_worker-test-token-0123456789";
    const server = await startServer(dir, {
      NINES_ADMIN_TOKEN: token,
      NINES_CHECK_WORKERS: "1",
      NINES_CHECK_WORKERS_FROM: "2",
    });
    try {
      expect(server.stdout()).toContain('"workers":1,"msg":"probes now run on worker threads"');
      const status = async () =>
        (
          (await (
            await fetch(`${server.url}/api/v1/checks/local`, {
              headers: { authorization: `Bearer ${token}` },
            })
          ).json()) as { status: string }
        ).status;
      await expect.poll(status, { timeout: 8000 }).toBe("up");
      const run = await fetch(`${server.url}/api/v1/checks/local/run`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(await run.json()).toMatchObject({
        ok: true,
        conditions: [{ condition: "[BODY] == ok", ok: true, actual: "ok" }],
      });
    } finally {
      server.child.kill("SIGKILL");
      target.close();
    }
  });

  it("uses NINES_ADMIN_TOKEN instead of writing a token file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-proc-"));
    cpSync(EXAMPLES, join(dir, "config"), { recursive: true });
    const token = "nines_from-the-environment-0123456789";
    const server = await startServer(dir, { NINES_ADMIN_TOKEN: token });
    try {
      expect(existsSync(join(dir, "data", "admin-token"))).toBe(false);
      const res = await fetch(`${server.url}/api/v1/tokens`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      server.child.kill("SIGKILL");
    }
  });
});

describe("graceful shutdown", () => {
  it("finishes a request in flight, then refuses new ones", async () => {
    const database = await newTestDatabase("sqlite");
    const opened = await openMigrated(database);
    let release: () => void = () => {};
    let markStarted: () => void = () => {};
    const handlerStarted = new Promise<void>((done) => {
      markStarted = done;
    });
    const slow = defineRoute({
      method: "GET",
      url: "/slow",
      tag: "test",
      summary: "answers when released",
      access: "public",
      response: z.object({ done: z.boolean() }),
      handler: () =>
        new Promise<{ done: boolean }>((done) => {
          markStarted();
          release = () => done({ done: true });
        }),
    });
    const server = await buildServer(
      {
        db: opened.db,
        adapter: opened.adapter,
        clock: systemClock,
        log: silentLogger,
        events: createEventBus(() => {}),
        metrics: createMetrics(),
        anonymousRead: false,
        version: "test",
        readiness: async () => ({ ok: true, checks: {} }),
      },
      [slow],
    );
    const url = await server.listen({ host: "127.0.0.1", port: 0 });
    const inFlight = fetch(`${url}/slow`);
    await handlerStarted;
    const closing = server.close();
    await new Promise((r) => setTimeout(r, 100));
    // No new connections once closing has begun; the one in flight is still served.
    expect(server.server.listening).toBe(false);
    release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ done: true });
    await closing;
    await opened.db.destroy();
    await database.drop();
  });
});
