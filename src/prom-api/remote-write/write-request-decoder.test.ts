import SnappyJS from "snappyjs";
import { describe, expect, it } from "vitest";
import { labelsFrom } from "../../promql/index.js";
import { type DecodedSeries, decodeWriteRequest, ProtobufError } from "./write-request-decoder.js";
import { encodeWriteRequest } from "./write-request-encoder.js";

interface Copied {
  labels: Array<{ name: string; value: string }>;
  samples: Array<[number, number]>;
  histograms: number;
}

function decodeAll(body: Uint8Array): Copied[] {
  const out: Copied[] = [];
  decodeWriteRequest(body, (s: DecodedSeries) => {
    const samples: Array<[number, number]> = [];
    for (let i = 0; i < s.sampleCount; i++) samples.push([s.timestamps[i] as number, s.values[i] as number]);
    out.push({ labels: s.labels.map((l) => ({ ...l })), samples, histograms: s.histogramCount });
  });
  return out;
}

describe("decodeWriteRequest", () => {
  it("reads back labels, samples and their exact values", () => {
    const many = Array.from({ length: 200 }, (_, i) => ({ t: 1_700_000_000_000 + i * 15_000, v: i / 3 }));
    const body = encodeWriteRequest([
      { labels: labelsFrom({ __name__: "up", job: "api", ünïcode: "✓" }), samples: many },
      {
        labels: labelsFrom({ __name__: "odd" }),
        samples: [
          { t: -1, v: Number.NaN },
          { t: -1_500_000_000_000, v: Number.POSITIVE_INFINITY },
          { t: 2 ** 53 - 1, v: -0 },
          { t: 0, v: 1e-300 },
        ],
      },
      { labels: labelsFrom({ __name__: "h" }), samples: [], histograms: 2 },
    ]);
    const series = decodeAll(body);
    expect(series).toHaveLength(3);
    expect(series[0]?.labels).toEqual([
      { name: "__name__", value: "up" },
      { name: "job", value: "api" },
      { name: "ünïcode", value: "✓" },
    ]);
    expect(series[0]?.samples).toEqual(many.map((p) => [p.t, p.v]));
    expect(series[1]?.samples).toEqual([
      [-1, Number.NaN],
      [-1_500_000_000_000, Number.POSITIVE_INFINITY],
      [2 ** 53 - 1, -0],
      [0, 1e-300],
    ]);
    expect(series[2]).toMatchObject({ samples: [], histograms: 2 });
  });

  it("skips unknown fields of every wire type, exemplars and metadata", () => {
    // WriteRequest { timeseries = 1 { labels {name: "__name__", value: "x"}, exemplars = 3 {..}, 9: varint },
    //                metadata = 3 {..}, 7: fixed32, 8: fixed64 }
    const label = [0x0a, 8, ...Buffer.from("__name__"), 0x12, 1, 0x78];
    const ts = [0x0a, label.length, ...label, 0x1a, 2, 0x08, 0x01, 0x48, 0x96, 0x01];
    const body = Uint8Array.from([
      0x0a,
      ts.length,
      ...ts,
      0x1a,
      3,
      0x08,
      0x01,
      0x10,
      0x3d,
      1,
      2,
      3,
      4,
      0x41,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]);
    expect(decodeAll(body)).toEqual([
      { labels: [{ name: "__name__", value: "x" }], samples: [], histograms: 0 },
    ]);
  });

  it("rejects truncated and corrupt bodies with a ProtobufError, never a crash or a partial read", () => {
    const body = encodeWriteRequest([
      { labels: labelsFrom({ __name__: "up", job: "api" }), samples: [{ t: 1000, v: 1 }] },
    ]);
    for (let cut = 1; cut < body.length; cut++) {
      expect(() => decodeAll(body.subarray(0, cut)), `cut at ${cut}`).toThrow(ProtobufError);
    }
    // A group wire type (3) is not accepted; a length that runs past the end is corrupt.
    expect(() => decodeAll(Uint8Array.from([0x0b]))).toThrow(ProtobufError);
    expect(() => decodeAll(Uint8Array.from([0x0a, 0x7f, 0x00]))).toThrow(/truncated or corrupt/);
    // An unknown field is skipped; a known field with the wrong wire type is refused.
    expect(() => decodeAll(Uint8Array.from([0x10, 0x01]))).not.toThrow();
    expect(() => decodeAll(Uint8Array.from([0x08, 0x01]))).toThrow(/wrong wire type/);
    expect(() => decodeAll(Uint8Array.from([0x0a, 0x02, 0x08, 0x01]))).toThrow(/wrong wire type/);
  });

  it("reads a body that went through snappy, as remote_write sends it", () => {
    const raw = encodeWriteRequest([{ labels: labelsFrom({ __name__: "a" }), samples: [{ t: 5, v: 6 }] }]);
    const decoded = decodeAll(SnappyJS.uncompress(SnappyJS.compress(raw)));
    expect(decoded[0]?.samples).toEqual([[5, 6]]);
  });
});
