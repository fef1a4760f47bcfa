import { isUtf8 } from "node:buffer";
import type { Label } from "../../promql/index.js";

/** A body that is not a well-formed `prometheus.WriteRequest`: truncated, a wrong wire type, a bad length. */
export class ProtobufError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtobufError";
  }
}

/**
 * One `TimeSeries` of a write request as the decoder hands it over. `timestamps` and `values` are scratch
 * buffers reused for the next series: read the first `sampleCount` entries before returning.
 */
export interface DecodedSeries {
  /** In the order the sender wrote them; the receiver checks that they are sorted and valid. */
  readonly labels: Label[];
  readonly sampleCount: number;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** Native histogram samples (field 4), which Nines does not store. */
  readonly histogramCount: number;
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/**
 * Decodes a `prometheus.WriteRequest` (remote-write 1.0) and calls `onSeries` for each time series:
 *
 *     WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
 *     TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2;
 *                    repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
 *     Label        { string name = 1; string value = 2; }
 *     Sample       { double value = 1; int64 timestamp = 2; }
 *
 * Unknown fields, exemplars and metadata are skipped by wire type. Throws `ProtobufError` on a malformed
 * message; the callback may throw to stop early.
 */
export function decodeWriteRequest(body: Uint8Array, onSeries: (series: DecodedSeries) => void): void {
  new Decoder(body).writeRequest(onSeries);
}

class Decoder {
  private readonly buf: Buffer;
  private readonly view: DataView;
  private pos = 0;
  private timestamps = new Float64Array(64);
  private values = new Float64Array(64);

  constructor(body: Uint8Array) {
    this.buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  writeRequest(onSeries: (series: DecodedSeries) => void): void {
    const end = this.buf.length;
    while (this.pos < end) {
      const key = this.varint32();
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 1) {
        this.expectWire(wire, WIRE_LEN, "WriteRequest.timeseries");
        const len = this.length(end);
        onSeries(this.timeSeries(this.pos + len));
      } else {
        this.skip(wire, end);
      }
    }
  }

  private timeSeries(end: number): DecodedSeries {
    const labels: Label[] = [];
    let sampleCount = 0;
    let histogramCount = 0;
    while (this.pos < end) {
      const key = this.varint32();
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 1) {
        this.expectWire(wire, WIRE_LEN, "TimeSeries.labels");
        const len = this.length(end);
        labels.push(this.internedLabel(this.pos, this.pos + len));
      } else if (field === 2) {
        this.expectWire(wire, WIRE_LEN, "TimeSeries.samples");
        const len = this.length(end);
        if (sampleCount === this.timestamps.length) this.grow();
        this.sample(this.pos + len, sampleCount);
        sampleCount++;
      } else if (field === 4) {
        this.expectWire(wire, WIRE_LEN, "TimeSeries.histograms");
        const len = this.length(end);
        this.pos += len;
        histogramCount++;
      } else {
        this.skip(wire, end);
      }
    }
    if (this.pos !== end) throw new ProtobufError("TimeSeries: field runs past the end of its message");
    return { labels, sampleCount, timestamps: this.timestamps, values: this.values, histogramCount };
  }

  /**
   * The same label arrives in series after series and request after request: look its encoded bytes up
   * before decoding, so that a repeated label costs one hash and one compare, and no strings or objects.
   */
  private internedLabel(start: number, end: number): Label {
    const len = end - start;
    if (len > MAX_INTERNED_BYTES) return this.label(end);
    const buf = this.buf;
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ (buf[i] as number), 0x01000193);
    const bucket = LABEL_CACHE.get(hash);
    if (bucket !== undefined) {
      for (const entry of bucket) {
        if (sameBytes(entry.bytes, buf, start, len)) {
          this.pos = end;
          return entry.label;
        }
      }
    }
    const label = this.label(end);
    if (LABEL_CACHE.size >= MAX_INTERNED_LABELS) LABEL_CACHE.clear();
    const entry = { bytes: Uint8Array.prototype.slice.call(buf, start, end), label };
    if (bucket === undefined) LABEL_CACHE.set(hash, [entry]);
    else bucket.push(entry);
    return label;
  }

  private label(end: number): Label {
    let name = "";
    let value = "";
    while (this.pos < end) {
      const key = this.varint32();
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 1 || field === 2) {
        this.expectWire(wire, WIRE_LEN, field === 1 ? "Label.name" : "Label.value");
        const len = this.length(end);
        // Decoding would silently replace bad bytes with U+FFFD and store a label the sender never sent.
        if (!isUtf8(this.buf.subarray(this.pos, this.pos + len))) {
          throw new ProtobufError(`${field === 1 ? "Label.name" : "Label.value"} is not valid UTF-8`);
        }
        const text = this.buf.toString("utf8", this.pos, this.pos + len);
        this.pos += len;
        if (field === 1) name = text;
        else value = text;
      } else {
        this.skip(wire, end);
      }
    }
    if (this.pos !== end) throw new ProtobufError("Label: field runs past the end of its message");
    return { name, value };
  }

  private sample(end: number, index: number): void {
    let value = 0;
    let timestamp = 0;
    while (this.pos < end) {
      const key = this.varint32();
      const field = key >>> 3;
      const wire = key & 7;
      if (field === 1) {
        this.expectWire(wire, WIRE_I64, "Sample.value");
        if (this.pos + 8 > end) throw truncated();
        value = this.view.getFloat64(this.pos, true);
        this.pos += 8;
      } else if (field === 2) {
        this.expectWire(wire, WIRE_VARINT, "Sample.timestamp");
        timestamp = this.int64();
      } else {
        this.skip(wire, end);
      }
    }
    if (this.pos !== end) throw new ProtobufError("Sample: field runs past the end of its message");
    this.timestamps[index] = timestamp;
    this.values[index] = value;
  }

  private grow(): void {
    const timestamps = new Float64Array(this.timestamps.length * 2);
    timestamps.set(this.timestamps);
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.timestamps = timestamps;
    this.values = values;
  }

  private expectWire(actual: number, expected: number, field: string): void {
    if (actual !== expected) throw new ProtobufError(`${field}: wrong wire type ${actual}`);
  }

  /** A length prefix, checked against the end of the enclosing message. */
  private length(end: number): number {
    const len = this.varint32();
    if (len < 0 || this.pos + len > end) throw truncated();
    return len;
  }

  /** A varint known to fit in 32 bits (keys and lengths); longer ones are rejected. */
  private varint32(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    while (true) {
      if (this.pos >= buf.length) throw truncated();
      const b = buf[this.pos++] as number;
      if (shift === 28) {
        if (b > 0x0f) throw new ProtobufError("varint does not fit in 32 bits");
        return result + b * 0x10000000;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
      shift += 7;
    }
  }

  /** An int64 varint as a number: exact up to 2^53, two's complement for negative values. */
  private int64(): number {
    const buf = this.buf;
    let result = 0;
    let factor = 1;
    const start = this.pos;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= buf.length) throw truncated();
      const b = buf[this.pos++] as number;
      result += (b & 0x7f) * factor;
      if (b < 0x80) return result;
      factor *= 128;
    }
    // Eight to ten bytes: large or negative. Rare enough for BigInt.
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw truncated();
      const b = buf[this.pos++] as number;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, big));
      shift += 7n;
    }
    throw new ProtobufError("varint is longer than 10 bytes");
  }

  private skip(wire: number, end: number): void {
    switch (wire) {
      case WIRE_VARINT:
        for (let i = 0; ; i++) {
          if (this.pos >= end) throw truncated();
          if (i === 10) throw new ProtobufError("varint is longer than 10 bytes");
          if ((this.buf[this.pos++] as number) < 0x80) return;
        }
      case WIRE_I64:
        this.pos += 8;
        break;
      case WIRE_LEN: {
        // Not `this.pos += this.length(end)`: that reads pos before length() moves it.
        const len = this.length(end);
        this.pos += len;
        return;
      }
      case WIRE_I32:
        this.pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wire}`);
    }
    if (this.pos > end) throw truncated();
  }
}

const MAX_INTERNED_BYTES = 256;
const MAX_INTERNED_LABELS = 100_000;
/** Decoded labels by the hash of their encoded bytes; cleared when full. Labels are immutable, so shared. */
const LABEL_CACHE = new Map<number, Array<{ bytes: Uint8Array; label: Label }>>();

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, len: number): boolean {
  if (a.length !== len) return false;
  for (let i = 0; i < len; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

function truncated(): ProtobufError {
  return new ProtobufError("unexpected end of message (truncated or corrupt body)");
}
