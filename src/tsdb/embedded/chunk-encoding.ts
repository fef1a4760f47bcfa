import { BitReader, BitWriter } from "./bit-stream.js";

/**
 * Compressed chunks of one series' samples. Timestamps are Gorilla delta-of-delta coded exactly as
 * Prometheus's tsdb/chunkenc/xor.go. Values use one of two encodings, whichever is smaller:
 * - XOR (as xor.go): each value XORed with the previous one, bit-exact for every float including NaN payloads
 *   such as the staleness marker;
 * - decimal: when every value is a finite decimal with few digits (k / 10^d, which is what exporters print),
 *   the steps between the integers k are stored as offsets from the chunk's smallest step, in a bit width
 *   chosen per block of 32 samples. Counters that grow by
 *   small integers and gauges with a few significant digits then cost a handful of bits per sample.
 *
 * Layout: encoding byte, sample count (uvarint), then the encoding's bit stream.
 */

export const ENCODING_XOR = 1;
export const ENCODING_DECIMAL = 2;

const TWO_32 = 4294967296;
const MAX_DECIMALS = 6;
/** Decimal chunks choose the bit width of their value steps per block of this many samples. */
const BLOCK = 32;
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
  throw new Error("the embedded TSDB needs a little-endian machine");
}

/**
 * Encodes samples `from .. from + n - 1`; timestamps must be strictly increasing. Picks the smaller encoding.
 */
export function encodeChunk(ts: ArrayLike<number>, vs: Float64Array, from: number, n: number): Uint8Array {
  const decimal = encodeDecimal(ts, vs, from, n);
  // XOR needs about a byte per sample even for integer counters; below that, decimal wins without trying.
  if (decimal !== undefined && decimal.length <= 8 + n) return decimal;
  const xor = encodeXor(ts, vs, from, n);
  return decimal !== undefined && decimal.length < xor.length ? decimal : xor;
}

/** Number of samples in an encoded chunk. */
export function chunkSampleCount(data: Uint8Array): number {
  const r = new BitReader(data);
  r.readBits(8);
  return r.readUvarint();
}

/**
 * Decodes the samples of `data` with `minT ≤ t ≤ maxT` into `outT`/`outV` from index `offset`; returns the index
 * after the last one written. Values are copied as raw bits, so NaN payloads survive.
 */
export function decodeChunk(
  data: Uint8Array,
  minT: number,
  maxT: number,
  outT: Float64Array,
  outV: Float64Array,
  offset: number,
): number {
  const r = new BitReader(data);
  const encoding = r.readBits(8);
  const n = r.readUvarint();
  if (n === 0) return offset;
  if (encoding === ENCODING_XOR) return decodeXor(r, n, minT, maxT, outT, outV, offset);
  if (encoding === ENCODING_DECIMAL) return decodeDecimal(r, n, minT, maxT, outT, outV, offset);
  throw new RangeError(`unknown chunk encoding ${encoding}`);
}

/** Decodes a whole chunk into new arrays. */
export function decodeAll(data: Uint8Array): { timestamps: Float64Array; values: Float64Array } {
  const n = chunkSampleCount(data);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  decodeChunk(data, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, timestamps, values, 0);
  return { timestamps, values };
}

// --- timestamps -----------------------------------------------------------------------------------------

function bitRange(x: number, nbits: number): boolean {
  const half = 2 ** (nbits - 1);
  return -(half - 1) <= x && x <= half;
}

function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) {
    w.writeBits(0, 1);
  } else if (bitRange(dod, 14)) {
    w.writeBits(0b10, 2);
    w.writeBits(dod >>> 0, 14);
  } else if (bitRange(dod, 17)) {
    w.writeBits(0b110, 3);
    w.writeBits(dod >>> 0, 17);
  } else if (bitRange(dod, 20)) {
    w.writeBits(0b1110, 4);
    w.writeBits(dod >>> 0, 20);
  } else {
    w.writeBits(0b1111, 4);
    w.writeBits64(Math.floor(dod / TWO_32) >>> 0, dod >>> 0, 64);
  }
}

function readDod(r: BitReader): number {
  let ones = 0;
  while (ones < 4 && r.readBit()) ones++;
  if (ones === 0) return 0;
  if (ones === 4) {
    const hi = r.readBits(32) | 0;
    const lo = r.readBits(32);
    return hi * TWO_32 + lo;
  }
  const size = ones === 1 ? 14 : ones === 2 ? 17 : 20;
  const bits = r.readBits(size);
  return bits > 2 ** (size - 1) ? bits - 2 ** size : bits;
}

// --- XOR values -----------------------------------------------------------------------------------------

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

interface XorState {
  leading: number;
  trailing: number;
}

function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, n: number): void {
  if (shift >= 32) {
    lo = hi >>> (shift - 32);
    hi = 0;
  } else if (shift > 0) {
    lo = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    hi = hi >>> shift;
  }
  w.writeBits64(hi, lo, n);
}

function writeXorValue(w: BitWriter, dh: number, dl: number, state: XorState): void {
  if (dh === 0 && dl === 0) {
    w.writeBits(0, 1);
    return;
  }
  w.writeBits(1, 1);
  let leading = dh !== 0 ? Math.clz32(dh) : 32 + Math.clz32(dl);
  const trailing = dl !== 0 ? ctz32(dl) : 32 + ctz32(dh);
  if (leading >= 32) leading = 31;
  if (state.leading !== 0xff && leading >= state.leading && trailing >= state.trailing) {
    w.writeBits(0, 1);
    writeShifted(w, dh, dl, state.trailing, 64 - state.leading - state.trailing);
    return;
  }
  state.leading = leading;
  state.trailing = trailing;
  w.writeBits(1, 1);
  w.writeBits(leading, 5);
  const sig = 64 - leading - trailing;
  w.writeBits(sig & 63, 6);
  writeShifted(w, dh, dl, trailing, sig);
}

function encodeXor(ts: ArrayLike<number>, vs: Float64Array, from: number, n: number): Uint8Array {
  const bits = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const w = new BitWriter(16 + n * 2);
  w.writeBits(ENCODING_XOR, 8);
  w.writeUvarint(n);
  if (n === 0) return w.bytes();
  const state: XorState = { leading: 0xff, trailing: 0 };
  let prevT = ts[from] as number;
  let prevLo = bits[2 * from] as number;
  let prevHi = bits[2 * from + 1] as number;
  w.writeVarint(prevT);
  w.writeBits(prevHi, 32);
  w.writeBits(prevLo, 32);
  let prevDelta = 0;
  for (let i = 1; i < n; i++) {
    const t = ts[from + i] as number;
    const delta = t - prevT;
    if (i === 1) w.writeUvarint(delta);
    else writeDod(w, delta - prevDelta);
    const lo = bits[2 * (from + i)] as number;
    const hi = bits[2 * (from + i) + 1] as number;
    writeXorValue(w, (hi ^ prevHi) >>> 0, (lo ^ prevLo) >>> 0, state);
    prevT = t;
    prevDelta = delta;
    prevHi = hi;
    prevLo = lo;
  }
  return w.bytes();
}

function decodeXor(
  r: BitReader,
  n: number,
  minT: number,
  maxT: number,
  outT: Float64Array,
  outV: Float64Array,
  offset: number,
): number {
  const out = new Uint32Array(outV.buffer, outV.byteOffset, outV.length * 2);
  let t = r.readVarint();
  let hi = r.readBits(32);
  let lo = r.readBits(32);
  let delta = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 0; ; ) {
    if (t > maxT) return offset;
    if (t >= minT) {
      outT[offset] = t;
      out[2 * offset] = lo;
      out[2 * offset + 1] = hi;
      offset++;
    }
    if (++i === n) return offset;
    if (i === 1) delta = r.readUvarint();
    else delta += readDod(r);
    t += delta;
    if (r.readBit()) {
      if (r.readBit()) {
        leading = r.readBits(5);
        let sig = r.readBits(6);
        if (sig === 0) sig = 64;
        trailing = 64 - leading - sig;
      }
      const sig = 64 - leading - trailing;
      let dh = 0;
      let dl: number;
      if (sig > 32) {
        dh = r.readBits(sig - 32);
        dl = r.readBits(32);
      } else {
        dl = r.readBits(sig);
      }
      if (trailing >= 32) {
        dh = dl << (trailing - 32);
        dl = 0;
      } else if (trailing > 0) {
        dh = (dh << trailing) | (dl >>> (32 - trailing));
        dl = dl << trailing;
      }
      hi = (hi ^ dh) >>> 0;
      lo = (lo ^ dl) >>> 0;
    }
  }
}

// --- decimal values -------------------------------------------------------------------------------------

/** Whether `v` is exactly k / 10^d for an integer k; exact at d means exact at every larger d too. */
function exactAt(v: number, d: number): boolean {
  const p = POW10[d] as number;
  const k = Math.round(v * p);
  return k / p === v && Math.abs(k) <= 2 ** 51;
}

function encodeDecimal(
  ts: ArrayLike<number>,
  vs: Float64Array,
  from: number,
  n: number,
): Uint8Array | undefined {
  if (n === 0) return undefined;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const v = vs[from + i] as number;
    if (!Number.isFinite(v) || Object.is(v, -0)) return undefined;
    while (!exactAt(v, d)) if (++d > MAX_DECIMALS) return undefined;
  }
  const p = POW10[d] as number;
  const ks = new Float64Array(n);
  let minStep = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = vs[from + i] as number;
    const k = Math.round(v * p);
    if (k / p !== v || Math.abs(k) > 2 ** 51) return undefined;
    ks[i] = k;
    if (i > 0) {
      const step = k - (ks[i - 1] as number);
      if (step < minStep) minStep = step;
    }
  }
  const w = new BitWriter(16 + n);
  w.writeBits(ENCODING_DECIMAL, 8);
  w.writeUvarint(n);
  w.writeBits(d, 8);
  w.writeVarint(ts[from] as number);
  w.writeVarint(ks[0] as number);
  if (n === 1) return w.bytes();
  w.writeVarint(minStep);
  let prevT = ts[from] as number;
  let prevDelta = 0;
  let width = 0;
  for (let i = 1; i < n; i++) {
    if ((i - 1) % BLOCK === 0) {
      let max = 0;
      for (let j = i; j < n && j < i + BLOCK; j++) {
        const x = (ks[j] as number) - (ks[j - 1] as number) - minStep;
        if (x > max) max = x;
      }
      width = max === 0 ? 0 : Math.floor(Math.log2(max)) + 1;
      if (width > 53) return undefined;
      w.writeBits(width, 6);
    }
    const t = ts[from + i] as number;
    const delta = t - prevT;
    if (i === 1) w.writeUvarint(delta);
    else writeDod(w, delta - prevDelta);
    prevT = t;
    prevDelta = delta;
    if (width > 0) {
      const x = (ks[i] as number) - (ks[i - 1] as number) - minStep;
      w.writeBits64(Math.floor(x / TWO_32), x >>> 0, width);
    }
  }
  return w.bytes();
}

function decodeDecimal(
  r: BitReader,
  n: number,
  minT: number,
  maxT: number,
  outT: Float64Array,
  outV: Float64Array,
  offset: number,
): number {
  const p = POW10[r.readBits(8)] ?? 1;
  let t = r.readVarint();
  let k = r.readVarint();
  const minStep = n > 1 ? r.readVarint() : 0;
  let width = 0;
  let delta = 0;
  for (let i = 0; ; ) {
    if (t > maxT) return offset;
    if (t >= minT) {
      outT[offset] = t;
      outV[offset] = k / p;
      offset++;
    }
    if (++i === n) return offset;
    if ((i - 1) % BLOCK === 0) width = r.readBits(6);
    if (i === 1) delta = r.readUvarint();
    else delta += readDod(r);
    t += delta;
    let x = 0;
    if (width > 32) x = r.readBits(width - 32) * TWO_32 + r.readBits(32);
    else if (width > 0) x = r.readBits(width);
    k += x + minStep;
  }
}
