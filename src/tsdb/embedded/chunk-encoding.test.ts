import { describe, expect, it } from "vitest";
import { STALE_NAN } from "../../promql/index.js";
import {
  chunkSampleCount,
  decodeAll,
  decodeChunk,
  ENCODING_DECIMAL,
  ENCODING_XOR,
  encodeChunk,
} from "./chunk-encoding.js";

function bitsOf(values: Float64Array): string[] {
  return Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length), (b) =>
    b.toString(16),
  );
}

/** Values go in a Float64Array: plain arrays of doubles canonicalise NaN payloads in V8. */
function roundTrip(timestamps: number[], values: number[] | Float64Array): Uint8Array {
  const vs = values instanceof Float64Array ? values : Float64Array.from(values);
  const data = encodeChunk(timestamps, vs, 0, timestamps.length);
  expect(chunkSampleCount(data)).toBe(timestamps.length);
  const decoded = decodeAll(data);
  expect(Array.from(decoded.timestamps)).toEqual(timestamps);
  expect(bitsOf(decoded.values)).toEqual(bitsOf(vs));
  return data;
}

const T0 = 1_767_225_600_000;

describe("chunk encoding", () => {
  it("round-trips regular and irregular timestamps", () => {
    const regular = Array.from({ length: 120 }, (_, i) => T0 + i * 15_000);
    roundTrip(
      regular,
      regular.map((_, i) => i * 0.5),
    );
    let t = -5_000_000_000_000;
    const irregular: number[] = [];
    const gaps = [1, 2, 8192, 8193, 65_536, 65_537, 524_288, 524_289, 2 ** 40, 3, 1, 15_000];
    for (let i = 0; i < 120; i++) {
      irregular.push(t);
      t += (gaps[i % gaps.length] as number) + (i % 7) * 1001;
    }
    roundTrip(
      irregular,
      irregular.map((_, i) => Math.sin(i) * 1e6),
    );
    roundTrip([T0], [42]);
    roundTrip([T0, T0 + 1], [1, 2]);
  });

  it("keeps counters, gauges and special floats bit for bit, including the staleness marker", () => {
    const ts = Array.from({ length: 120 }, (_, i) => T0 + i * 15_000);
    let counter = 1000;
    const counterData = roundTrip(
      ts,
      ts.map((_, i) => {
        counter += i % 5;
        return counter;
      }),
    );
    expect(counterData[0]).toBe(ENCODING_DECIMAL);
    expect(counterData.length).toBeLessThan(120);
    roundTrip(
      ts,
      ts.map((_, i) => Math.round(500 + 100 * Math.sin(i / 10)) / 1000),
    );
    const special = Float64Array.from([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      STALE_NAN,
      1.5,
      STALE_NAN,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      -Number.MAX_VALUE,
      0.1 + 0.2,
      2 ** 60,
      -(2 ** -1074),
    ]);
    special[5] = STALE_NAN;
    special[7] = STALE_NAN;
    const data = roundTrip(ts.slice(0, special.length), special);
    expect(data[0]).toBe(ENCODING_XOR);
    const decoded = decodeAll(data);
    const view = new DataView(decoded.values.buffer);
    expect(view.getBigUint64(5 * 8, true)).toBe(0x7ff0000000000002n);
    expect(Object.is(decoded.values[3], -0)).toBe(true);
  });

  it("round-trips random data with either encoding", () => {
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rand() * 200);
      const ts: number[] = [];
      let t = T0 + Math.floor(rand() * 1e9);
      const values = new Float64Array(n);
      const digits = Math.floor(rand() * 8);
      for (let i = 0; i < n; i++) {
        ts.push(t);
        t += 1 + Math.floor(rand() * (rand() < 0.1 ? 1e8 : 30_000));
        const raw = (rand() - 0.5) * 10 ** Math.floor(rand() * 12);
        values[i] = rand() < 0.05 ? STALE_NAN : Math.round(raw * 10 ** digits) / 10 ** digits;
      }
      roundTrip(ts, values);
    }
  });

  it("decodes only the samples inside a time range", () => {
    const ts = Array.from({ length: 50 }, (_, i) => T0 + i * 1000);
    const data = encodeChunk(
      ts,
      Float64Array.from(ts, (_, i) => i),
      0,
      ts.length,
    );
    const outT = new Float64Array(50);
    const outV = new Float64Array(50);
    const end = decodeChunk(data, T0 + 10_000, T0 + 12_000, outT, outV, 3);
    expect(end).toBe(6);
    expect(Array.from(outT.subarray(3, 6))).toEqual([T0 + 10_000, T0 + 11_000, T0 + 12_000]);
    expect(Array.from(outV.subarray(3, 6))).toEqual([10, 11, 12]);
  });
});
