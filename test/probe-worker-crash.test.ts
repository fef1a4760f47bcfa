import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckSpec } from "../src/checks/check-kind.js";
import type * as ExecutorModule from "../src/checks/probe-executor.js";
import { writeCrashingWorker } from "./support/crashing-worker.js";

// Worker threads run compiled code: the suite's global setup has built dist/.
const dist = resolve(import.meta.dirname, "../dist/checks");

describe("probe worker threads", () => {
  let server: Server;
  let url = "";
  let dir = "";
  let crashingWorker: URL;

  beforeAll(async () => {
    server = createServer((_req, res) => res.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no address");
    url = `http://127.0.0.1:${address.port}/`;
    // The real worker, plus a listener that crashes the thread when asked to run the check "crash-me".
    dir = mkdtempSync(join(tmpdir(), "nines-worker-"));
    crashingWorker = writeCrashingWorker(
      dir,
      join(dist, "probe-worker.js"),
      `(m) => m.type === "run" && m.name === "crash-me"`,
    );
  });

  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs started together on two workers each come back with their own outcome", async () => {
    const { workerExecutor } = (await import(
      pathToFileURL(join(dist, "probe-executor.js")).href
    )) as typeof ExecutorModule;
    const errors: unknown[] = [];
    const executor = workerExecutor({
      workers: 2,
      addressPolicy: { allow: ["127.0.0.0/8"] },
      onWorkerError: (error) => errors.push(error),
    });
    const names = Array.from({ length: 40 }, (_, i) => `batch-${i}`);
    try {
      executor.sync([
        ...names.map((name) => ({
          name,
          spec: CheckSpec.parse({
            service: "api",
            timeout: "5s",
            probe: { type: "http", url: `${url}${name}` },
          }),
        })),
        {
          name: "refused",
          spec: CheckSpec.parse({
            service: "api",
            timeout: "5s",
            probe: { type: "tcp", host: "127.0.0.1", port: 1 },
          }),
        },
      ]);
      const outcomes = await Promise.all([...names, "refused", "unknown"].map((name) => executor.run(name)));
      expect(outcomes.slice(0, names.length).map((o) => [o?.check, o?.ok])).toEqual(
        names.map((name) => [name, true]),
      );
      expect(outcomes[names.length]).toMatchObject({ check: "refused", ok: false });
      expect(outcomes[names.length + 1]).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await executor.close();
    }
  });

  it("a worker that dies fails only its own runs and is replaced with the current checks", async () => {
    const { workerExecutor } = (await import(
      pathToFileURL(join(dist, "probe-executor.js")).href
    )) as typeof ExecutorModule;
    const errors: unknown[] = [];
    const executor = workerExecutor({
      workers: 1,
      addressPolicy: { allow: ["127.0.0.0/8"] },
      onWorkerError: (error) => errors.push(error),
      workerFile: crashingWorker,
    });
    const spec = (name: string) =>
      CheckSpec.parse({ service: "api", timeout: "5s", probe: { type: "http", url: `${url}${name}` } });
    try {
      executor.sync([
        { name: "healthy", spec: spec("healthy") },
        { name: "crash-me", spec: spec("crash-me") },
      ]);
      const before = await executor.run("healthy");
      expect(before?.ok).toBe(true);

      await expect(executor.run("crash-me")).rejects.toThrow(/stopped during the run/);
      expect(String(errors[0])).toMatch(/crashed on purpose/);

      // The replacement got the last sync, so it knows the checks without being told again.
      const after = await executor.run("healthy");
      expect(after?.ok).toBe(true);
    } finally {
      await executor.close();
    }
  });
});
