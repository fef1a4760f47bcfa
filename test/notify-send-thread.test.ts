import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type * as SendExecutorModule from "../src/notify/send-executor.js";
import type { SendJob } from "../src/notify/send-stored.js";
import { writeCrashingWorker } from "./support/crashing-worker.js";

// Worker threads run compiled code: the suite's global setup has built dist/.
const dist = resolve(import.meta.dirname, "../dist/notify");
const load = async () =>
  (await import(pathToFileURL(join(dist, "send-executor.js")).href)) as typeof SendExecutorModule;

/** A webhook outbox row's stored request, as the outbox writes it. */
function storedWebhook(url: string, key: string): SendJob {
  const at = Date.UTC(2026, 0, 1);
  return {
    request: JSON.stringify({
      type: "webhook_configs",
      config: { url },
      request: {
        idempotencyKey: key,
        receiver: "team",
        groupKey: '{}:{alertname="A"}',
        groupLabels: { alertname: "A" },
        commonLabels: { alertname: "A" },
        commonAnnotations: {},
        status: "firing",
        alerts: [
          {
            fingerprint: "f1",
            status: "firing",
            labels: { alertname: "A" },
            annotations: {},
            startsAt: at,
            endsAt: 0,
          },
        ],
        firingCount: 1,
        resolvedCount: 0,
        routeId: "root",
        at,
      },
    }),
    idempotencyKey: key,
    externalURL: "http://nines.example",
    defaultTimeoutMs: 10_000,
  };
}

describe("the send thread", () => {
  let server: Server;
  let base = "";
  let dir = "";
  let crashingWorker: URL;
  const received: Array<{ path: string; key: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        received.push({ path: req.url ?? "", key: String(req.headers["idempotency-key"]), body });
        if (req.url?.startsWith("/hang")) return; // never answers
        // The answer quotes the request's URL, as some proxies do: its token must not be recorded.
        if (req.url?.startsWith("/fail")) res.writeHead(500).end(`broken: ${base}${req.url}`);
        else res.writeHead(200).end("ok");
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The real worker, plus a listener that crashes the thread when asked to send the key "crash-me".
    dir = mkdtempSync(join(tmpdir(), "nines-send-worker-"));
    crashingWorker = writeCrashingWorker(
      dir,
      join(dist, "send-worker.js"),
      `(m) => m.type === "send" && m.job.idempotencyKey === "crash-me"`,
    );
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends started together each come back with their own answer, secrets replaced", async () => {
    const { threadSender } = await load();
    const sender = threadSender({ onWorkerError: (error) => expect.unreachable(String(error)) });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `k-${i}`);
      const results = await Promise.all([
        ...keys.map((key) => sender.send(storedWebhook(`${base}/ok/${key}`, key))),
        sender.send(storedWebhook(`${base}/fail?token=SECRET-TOKEN-42`, "failing")),
      ]);
      for (const result of results.slice(0, keys.length))
        expect(result.outcome).toMatchObject({ ok: true, statusCode: 200 });
      for (const key of keys) {
        const got = received.find((r) => r.path === `/ok/${key}`);
        expect(got?.key).toBe(key);
        expect(JSON.parse(got?.body ?? "{}")).toMatchObject({
          version: "4",
          receiver: "team",
          status: "firing",
        });
      }
      const failed = results[keys.length]?.outcome;
      expect(failed).toMatchObject({ ok: false, retry: true, statusCode: 500 });
      expect(JSON.stringify(failed)).not.toContain("SECRET-TOKEN-42");
      expect(JSON.stringify(failed)).toContain("<secret>");
    } finally {
      await sender.close();
    }
  });

  it("a send to a receiver that hangs comes back stopped when the sends are aborted", async () => {
    const { threadSender } = await load();
    const sender = threadSender({ onWorkerError: (error) => expect.unreachable(String(error)) });
    try {
      const hanging = sender.send(storedWebhook(`${base}/hang`, "hanging"));
      await expect.poll(() => received.some((r) => r.key === "hanging")).toBe(true);
      sender.abortAll();
      expect(await hanging).toMatchObject({ stopped: true, outcome: { ok: false } });
    } finally {
      await sender.close();
    }
  });

  it("many sends in flight all come back stopped, without Node's listener-leak warning", async () => {
    const { inProcessSender } = await import("../src/notify/send-executor.js");
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    const sender = inProcessSender();
    try {
      const hanging = Array.from({ length: 20 }, (_, i) =>
        sender.send(storedWebhook(`${base}/hang/${i}`, `many-${i}`)),
      );
      await expect.poll(() => received.filter((r) => r.key.startsWith("many-")).length).toBe(20);
      sender.abortAll();
      for (const result of await Promise.all(hanging)) expect(result).toMatchObject({ stopped: true });
      const after = await sender.send(storedWebhook(`${base}/ok/after-stop`, "after-stop"));
      expect(after.outcome).toMatchObject({ ok: true });
      expect(after.stopped).toBeUndefined();
      // Node emits its warnings on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
      await sender.close();
    }
  });

  it("a send thread that dies fails its sends as retryable and a new thread takes the next ones", async () => {
    const { threadSender } = await load();
    const errors: unknown[] = [];
    const sender = threadSender({
      onWorkerError: (error) => errors.push(error),
      workerFile: crashingWorker,
    });
    try {
      const lost = await sender.send(storedWebhook(`${base}/hang`, "crash-me"));
      expect(lost.outcome).toMatchObject({ ok: false, retry: true });
      expect(lost.stopped).toBeUndefined();
      expect(errors).toHaveLength(1);
      const next = await sender.send(storedWebhook(`${base}/ok/after-crash`, "after-crash"));
      expect(next.outcome).toMatchObject({ ok: true });
    } finally {
      await sender.close();
    }
  });
});
