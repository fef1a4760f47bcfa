import { describe, expect, it } from "vitest";
import { labelsFrom } from "../../promql/index.js";
import { type Appender, MemoryMetricsStore } from "../../tsdb/index.js";
import { receiveRemoteWrite } from "./receive-write.js";
import { encodeWriteRequest, snappyCompress } from "./write-request-encoder.js";

const NOW = 1_700_000_000_000;
const body = (name: string, t = NOW) =>
  snappyCompress(encodeWriteRequest([{ labels: labelsFrom({ __name__: name }), samples: [{ t, v: 1 }] }]));

describe("receiveRemoteWrite", () => {
  it("counts the samples it stored", async () => {
    const store = new MemoryMetricsStore();
    const outcome = await receiveRemoteWrite({
      headers: {},
      body: body("a"),
      now: NOW,
      appender: () => store.appender(),
    });
    expect(outcome).toEqual({ status: 204, message: "", samples: 1 });
  });

  it("answers 500, which senders retry, when the store fails, and rolls back", async () => {
    let rolledBack = false;
    const failing: Appender = {
      add: () => {},
      commit: async () => {
        throw new Error("disk full");
      },
      rollback: () => {
        rolledBack = true;
      },
    };
    const onCommit = await receiveRemoteWrite({
      headers: {},
      body: body("a"),
      now: NOW,
      appender: () => failing,
    });
    expect(onCommit).toMatchObject({ status: 500, message: "storing the samples failed: disk full" });
    const throwing: Appender = {
      ...failing,
      add: () => {
        throw new Error("broken");
      },
    };
    const onAdd = await receiveRemoteWrite({
      headers: {},
      body: body("a"),
      now: NOW,
      appender: () => throwing,
    });
    expect(onAdd.status).toBe(500);
    expect(rolledBack).toBe(true);
  });

  it("refuses label values that are not valid UTF-8 instead of storing replaced characters", async () => {
    const raw = encodeWriteRequest([
      { labels: labelsFrom({ __name__: "a", x: "é" }), samples: [{ t: NOW, v: 1 }] },
    ]);
    // "é" is 0xc3 0xa9; a lone 0xc3 followed by "!" is not UTF-8.
    const at = Buffer.from(raw).indexOf(Buffer.from("é"));
    const bad = Buffer.from(raw);
    bad[at + 1] = 0x21;
    const store = new MemoryMetricsStore();
    const outcome = await receiveRemoteWrite({
      headers: {},
      body: snappyCompress(bad),
      now: NOW,
      appender: () => store.appender(),
    });
    expect(outcome.status).toBe(400);
    expect(outcome.message).toMatch(/not valid UTF-8/);
  });

  it("refuses a body that claims to decompress to more than the bound", async () => {
    // A snappy block starts with its decompressed length as a varint: here 2^30.
    const header = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x04, 0x00]);
    const outcome = await receiveRemoteWrite({
      headers: {},
      body: header,
      now: NOW,
      appender: () => new MemoryMetricsStore().appender(),
    });
    expect(outcome.status).toBe(400);
    expect(outcome.message).toMatch(
      /^snappy: corrupt input \(The uncompressed length of 1073741824 is too big/,
    );
  });
});
