import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.js";
import { createLogger } from "../../platform/logger.js";
import { labelsFrom, STALE_NAN } from "../../promql/index.js";
import { AppendError } from "../metrics-store.js";
import { type RemoteBackendOptions, remoteBackend } from "./remote-backend.js";
import { eventually, FakeReceiver } from "./remote-write.test-helpers.js";

const receivers: FakeReceiver[] = [];
const backends: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
  for (const r of receivers.splice(0)) await r.stop();
});

async function setup(script: number[] = [], options: Partial<RemoteBackendOptions> = {}) {
  const receiver = new FakeReceiver(script);
  receivers.push(receiver);
  const writeUrl = await receiver.start();
  const backend = remoteBackend({
    writeUrl,
    queryUrl: "http://127.0.0.1:1",
    closeTimeoutMs: 5000,
    ...options,
    queue: { batchSendDeadlineMs: 60_000, minBackoffMs: 1, maxBackoffMs: 4, ...options.queue },
  });
  backends.push(backend);
  return { receiver, backend, writeUrl };
}

async function write(
  backend: ReturnType<typeof remoteBackend>,
  name: string,
  samples: Array<[number, number]>,
): Promise<void> {
  const app = backend.appender();
  for (const [t, v] of samples) app.add(labelsFrom({ __name__: name, job: "test" }), t, v);
  await app.commit();
}

describe("remote_write queue", () => {
  it("sends batches of at most max_samples_per_send, snappy protobuf with remote_write headers", async () => {
    const { receiver, backend } = await setup([], {
      queue: { maxSamplesPerSend: 3 },
      bearerToken: "s3cret",
      userAgent: "Nines/9.9.9",
    });
    await write(
      backend,
      "a",
      Array.from({ length: 7 }, (_, i): [number, number] => [1000 * i, i]),
    );
    await backend.flush();
    expect(receiver.received.map((r) => r.series.flatMap((s) => s.samples).length)).toEqual([3, 3, 1]);
    expect(receiver.accepted("a").map((s) => s.t)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000]);
    const headers = receiver.received[0]?.headers;
    expect(headers?.["content-encoding"]).toBe("snappy");
    expect(headers?.["content-type"]).toBe("application/x-protobuf");
    expect(headers?.["x-prometheus-remote-write-version"]).toBe("0.1.0");
    expect(headers?.["user-agent"]).toBe("Nines/9.9.9");
    expect(headers?.authorization).toBe("Bearer s3cret");
    expect(backend.stats()).toMatchObject({ sentSamples: 7, sentRequests: 3, pendingSamples: 0 });
  });

  it("sends a partial batch once the batch deadline passes, without a flush", async () => {
    const { receiver, backend } = await setup([], { queue: { batchSendDeadlineMs: 20 } });
    await write(backend, "a", [
      [1, 1],
      [2, 2],
    ]);
    await eventually(() => receiver.received.length === 1);
    expect(receiver.accepted("a").map((s) => s.v)).toEqual([1, 2]);
  });

  it("retries a batch on 500 and 429 with the same samples, then counts it sent", async () => {
    const { receiver, backend } = await setup([500, 429]);
    await write(backend, "a", [
      [1, 1],
      [2, 2],
    ]);
    await backend.flush();
    expect(receiver.received.map((r) => r.status)).toEqual([500, 429, 204]);
    expect(receiver.received[0]?.series).toEqual(receiver.received[2]?.series);
    expect(backend.stats()).toMatchObject({ sentSamples: 2, retriedSamples: 4, failedSamples: 0 });
  });

  it("retries when the receiver is not there, and delivers once it is", async () => {
    const receiver = new FakeReceiver();
    receivers.push(receiver);
    const writeUrl = await receiver.start();
    await receiver.stop();
    const backend = remoteBackend({
      writeUrl,
      queryUrl: writeUrl,
      queue: { batchSendDeadlineMs: 1, minBackoffMs: 5, maxBackoffMs: 10 },
    });
    backends.push(backend);
    await write(backend, "a", [[1, 1]]);
    await eventually(() => backend.stats().retriedSamples > 0);
    const port = Number(new URL(writeUrl).port);
    const again = new FakeReceiver();
    receivers.push(again);
    // The same port, so the queued request finds it.
    await again.start(port);
    await backend.flush();
    expect(again.accepted("a").map((s) => s.v)).toEqual([1]);
  });

  it("does not retry a 400: the batch is dropped and counted as failed, later batches still go", async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "error",
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const { receiver, backend } = await setup([400], { log });
    await write(backend, "a", [[1, 1]]);
    await backend.flush();
    await write(backend, "a", [[2, 2]]);
    await backend.flush();
    expect(receiver.received.map((r) => r.status)).toEqual([400, 204]);
    expect(backend.stats()).toMatchObject({ sentSamples: 1, failedSamples: 1, retriedSamples: 0 });
    expect(lines.join("")).toContain("status 400 from the fake receiver");
  });

  it("keeps each series in order across batches and retries", async () => {
    const { receiver, backend } = await setup([500, 503, 500], { queue: { maxSamplesPerSend: 7 } });
    for (let round = 0; round < 10; round++) {
      const app = backend.appender();
      for (const name of ["a", "b", "c"]) {
        for (let k = 0; k < 3; k++) app.add(labelsFrom({ __name__: name }), round * 100 + k, round);
      }
      await app.commit();
    }
    await backend.flush();
    const expected = Array.from({ length: 10 }, (_, r) => [r * 100, r * 100 + 1, r * 100 + 2]).flat();
    for (const name of ["a", "b", "c"]) expect(receiver.accepted(name).map((s) => s.t)).toEqual(expected);
  });

  it("sends a staleness marker that the receiver sees as one", async () => {
    const { receiver, backend } = await setup();
    const app = backend.appender();
    // Straight from the constant: a NaN put in a plain array may lose its payload on the way.
    app.add(labelsFrom({ __name__: "a" }), 1, 1);
    app.add(labelsFrom({ __name__: "a" }), 2, STALE_NAN);
    await app.commit();
    await backend.flush();
    expect(receiver.accepted("a").map((s) => s.bits)).toEqual([0x3ff0000000000000n, 0x7ff0000000000002n]);
  });

  it("close() sends what is still queued", async () => {
    const { receiver, backend } = await setup();
    await write(backend, "a", [
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(receiver.received).toHaveLength(0);
    await backend.close();
    expect(receiver.accepted("a").map((s) => s.t)).toEqual([1, 2, 3]);
    await expect(write(backend, "a", [[4, 4]])).rejects.toThrow(/closed/);
  });

  it("close() gives up after its timeout against a failing receiver and counts the samples dropped", async () => {
    const { backend } = await setup(
      Array.from({ length: 1000 }, () => 503),
      { closeTimeoutMs: 50 },
    );
    await write(backend, "a", [
      [1, 1],
      [2, 2],
    ]);
    await backend.close();
    expect(backend.stats()).toMatchObject({ sentSamples: 0, droppedSamples: 2, pendingSamples: 0 });
  });

  it("drops the oldest waiting samples when the queue is full, and counts them", async () => {
    const { receiver, backend } = await setup([], { queue: { capacity: 5, maxSamplesPerSend: 1 } });
    let open: () => void = () => {};
    receiver.gate = new Promise((resolve) => {
      open = resolve;
    });
    await write(backend, "a", [[0, 0]]);
    await eventually(() => backend.stats().pendingSamples === 1 && receiver.received.length === 0);
    await write(
      backend,
      "a",
      Array.from({ length: 10 }, (_, i): [number, number] => [i + 1, i + 1]),
    );
    expect(backend.stats()).toMatchObject({ droppedSamples: 5, pendingSamples: 6 });
    receiver.gate = undefined;
    open();
    await backend.flush();
    expect(receiver.accepted("a").map((s) => s.t)).toEqual([0, 6, 7, 8, 9, 10]);
  });

  it("refuses samples older than what this process already sent, as the embedded store does", async () => {
    const { backend } = await setup();
    await write(backend, "a", [[10, 1]]);
    const app = backend.appender();
    const labels = labelsFrom({ __name__: "a", job: "test" });
    expect(() => app.add(labels, 5, 1)).toThrow(AppendError);
    expect(() => app.add(labels, 10, 2)).toThrow(expect.objectContaining({ reason: "duplicate_sample" }));
    app.add(labels, 10, 1);
    app.add(labels, 11, 1);
    expect(() => app.add(labels, 9, 1)).toThrow(expect.objectContaining({ reason: "out_of_order" }));
    app.rollback();
    app.add(labels, 11, 5);
    expect(await app.commit()).toBe(1);
  });

  it("forgets the ordering of series idle for over an hour, and keeps checking the others", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const { backend } = await setup([], { clock });
    const now = clock.now();
    await write(backend, "old", [[now - 2 * 3_600_000, 1]]);
    await write(backend, "fresh", [[now, 1]]);
    clock.advance(10 * 60_000);
    await write(backend, "other", [[clock.now(), 1]]);
    const app = backend.appender();
    expect(() => app.add(labelsFrom({ __name__: "fresh", job: "test" }), now - 1, 1)).toThrow(AppendError);
    app.add(labelsFrom({ __name__: "old", job: "test" }), now - 3 * 3_600_000, 1);
  });

  it("moves credentials from the URL into a basic auth header and keeps them out of the logs", async () => {
    const lines: string[] = [];
    const log = createLogger({
      level: "debug",
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const receiver = new FakeReceiver([500]);
    receivers.push(receiver);
    const url = new URL(await receiver.start());
    url.username = "nines";
    url.password = "pa55word";
    const backend = remoteBackend({
      writeUrl: url.toString(),
      queryUrl: url.origin,
      log,
      queue: { minBackoffMs: 1, maxBackoffMs: 2 },
    });
    backends.push(backend);
    await write(backend, "a", [[1, 1]]);
    await backend.flush();
    expect(receiver.received[1]?.headers.authorization).toBe(
      `Basic ${Buffer.from("nines:pa55word").toString("base64")}`,
    );
    expect(lines.join("")).toContain("retrying");
    expect(lines.join("")).not.toContain("pa55word");
  });
});
