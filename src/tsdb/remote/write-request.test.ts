import { compress, uncompress } from "snappyjs";
import { describe, expect, it } from "vitest";
import { labelsFrom, STALE_NAN } from "../../promql/index.js";
import { decodeWriteRequest } from "./remote-write.test-helpers.js";
import { encodeWriteRequest, WriteRequestEncoder } from "./write-request.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("WriteRequest encoder", () => {
  it("writes the bytes of a one-sample request as derived by hand from remote.proto", () => {
    const bytes = encodeWriteRequest([
      { labels: labelsFrom({ __name__: "up" }), timestamps: [1000], values: [1] },
    ]);
    // label: name (0a 08 "__name__") + value (12 02 "up") = 14 bytes
    const label = `0a08${Buffer.from("__name__").toString("hex")}1202${Buffer.from("up").toString("hex")}`;
    // sample: value 1.0 as little-endian double (09 …f03f) + timestamp 1000 = varint e8 07 (10 e8 07) = 12 bytes
    const sample = "09000000000000f03f" + "10e807";
    // series: labels (0a 0e …) + samples (12 0c …) = 30 bytes; request: timeseries (0a 1e …)
    expect(hex(bytes)).toBe(`0a1e0a0e${label}120c${sample}`);
  });

  it("round-trips labels, values and timestamps, keeping the staleness marker bit for bit", () => {
    const series = [
      {
        labels: labelsFrom({ __name__: "http_requests_total", job: "api", path: "/ünïcødé/☃" }),
        timestamps: [1_700_000_000_000, 1_700_000_015_000, 1_700_000_030_000, 1_700_000_045_000],
        // A plain array may quieten the marker's NaN (V8 does); a Float64Array keeps it, as storage.ts says.
        values: Float64Array.of(0, -0.5, Number.POSITIVE_INFINITY, STALE_NAN),
      },
      {
        labels: labelsFrom({ __name__: "odd", le: "+Inf" }),
        timestamps: [-5000, 0, 2 ** 50],
        values: [Number.NaN, Number.NEGATIVE_INFINITY, 1.5e300],
        stale: [0, 0, 0],
      },
      // A marker the caller flagged: the value itself is a plain NaN.
      { labels: labelsFrom({ __name__: "flagged" }), timestamps: [10], values: [Number.NaN], stale: [1] },
    ];
    const decoded = decodeWriteRequest(uncompress(compress(encodeWriteRequest(series))));
    expect(decoded.map((s) => s.labels)).toEqual(series.map((s) => s.labels));
    const first = decoded[0]?.samples ?? [];
    expect(first.map((s) => s.t)).toEqual(series[0]?.timestamps);
    expect(first).toHaveLength(4);
    expect(first.slice(0, 3).map((s) => s.v)).toEqual([0, -0.5, Number.POSITIVE_INFINITY]);
    expect(first[3]?.bits).toBe(0x7ff0000000000002n);
    const second = decoded[1]?.samples ?? [];
    expect(second.map((s) => s.t)).toEqual([-5000, 0, 2 ** 50]);
    expect(Number.isNaN(second[0]?.v)).toBe(true);
    expect(second[0]?.bits).not.toBe(0x7ff0000000000002n);
    expect(second.slice(1).map((s) => s.v)).toEqual([Number.NEGATIVE_INFINITY, 1.5e300]);
    expect(decoded[2]?.samples[0]?.bits).toBe(0x7ff0000000000002n);
  });

  it("reuses its buffer: a small request after a large one carries only its own bytes", () => {
    const encoder = new WriteRequestEncoder(16);
    const big = Array.from({ length: 200 }, (_, i) => ({
      labels: labelsFrom({ __name__: "m", i: String(i) }),
      timestamps: [i],
      values: [i],
    }));
    expect(decodeWriteRequest(encoder.encode(big))).toHaveLength(200);
    const small = encoder.encode([
      { labels: labelsFrom({ __name__: "up" }), timestamps: [1000], values: [1] },
    ]);
    expect(hex(small)).toBe(
      hex(encodeWriteRequest([{ labels: labelsFrom({ __name__: "up" }), timestamps: [1000], values: [1] }])),
    );
  });
});
