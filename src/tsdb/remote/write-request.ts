import { isStaleNaN, type Labels } from "../../promql/index.js";

/** One series of a remote_write request: its labels (sorted by name) and its samples in time order. */
export interface WriteSeries {
  readonly labels: Labels;
  /** Milliseconds since the epoch, integers. */
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  /**
   * `1` where the sample is Prometheus's staleness marker, whatever `values` holds there: a NaN's payload may
   * not survive a plain array, so callers that know a sample is stale say so here.
   */
  readonly stale?: ArrayLike<number>;
}

// Field tags of prometheus.WriteRequest (remote.proto, types.proto): (field number << 3) | wire type.
const TAG_WRITE_REQUEST_TIMESERIES = 0x0a; // 1, length-delimited
const TAG_TIMESERIES_LABELS = 0x0a; // 1, length-delimited
const TAG_TIMESERIES_SAMPLES = 0x12; // 2, length-delimited
const TAG_LABEL_NAME = 0x0a; // 1, length-delimited
const TAG_LABEL_VALUE = 0x12; // 2, length-delimited
const TAG_SAMPLE_VALUE = 0x09; // 1, 64-bit
const TAG_SAMPLE_TIMESTAMP = 0x10; // 2, varint

/** Prometheus's staleness marker, 0x7ff0000000000002, little-endian as protobuf writes doubles. */
const STALE_NAN_BYTES = [0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f] as const;

/**
 * Encodes `prometheus.WriteRequest` messages (remote_write 1.0) by hand into a buffer it reuses between
 * requests, so that a busy sender does not allocate one per batch. The returned bytes are a view into that
 * buffer: valid until the next `encode`.
 */
export class WriteRequestEncoder {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  encode(series: readonly WriteSeries[]): Uint8Array {
    const labelSizes: number[] = [];
    const seriesSizes: number[] = [];
    let total = 0;
    for (const s of series) {
      let size = 0;
      for (const l of s.labels) {
        const labelSize = stringFieldSize(l.name) + stringFieldSize(l.value);
        labelSizes.push(labelSize);
        size += 1 + varintSize(labelSize) + labelSize;
      }
      for (let i = 0; i < s.timestamps.length; i++) {
        const sampleSize = sampleMessageSize(s.timestamps[i] as number);
        size += 1 + varintSize(sampleSize) + sampleSize;
      }
      seriesSizes.push(size);
      total += 1 + varintSize(size) + size;
    }
    this.reserve(total);
    this.pos = 0;
    let labelIndex = 0;
    for (const [si, s] of series.entries()) {
      this.byte(TAG_WRITE_REQUEST_TIMESERIES);
      this.varint(seriesSizes[si] as number);
      for (const l of s.labels) {
        this.byte(TAG_TIMESERIES_LABELS);
        this.varint(labelSizes[labelIndex++] as number);
        this.stringField(TAG_LABEL_NAME, l.name);
        this.stringField(TAG_LABEL_VALUE, l.value);
      }
      for (let i = 0; i < s.timestamps.length; i++) {
        const t = s.timestamps[i] as number;
        const v = s.values[i] as number;
        this.byte(TAG_TIMESERIES_SAMPLES);
        this.varint(sampleMessageSize(t));
        this.byte(TAG_SAMPLE_VALUE);
        if (s.stale?.[i] === 1 || isStaleNaN(v)) {
          for (const b of STALE_NAN_BYTES) this.byte(b);
        } else {
          this.buf.writeDoubleLE(v, this.pos);
          this.pos += 8;
        }
        this.byte(TAG_SAMPLE_TIMESTAMP);
        this.varint(t);
      }
    }
    return this.buf.subarray(0, this.pos);
  }

  private reserve(bytes: number): void {
    if (this.buf.length >= bytes) return;
    this.buf = Buffer.allocUnsafe(Math.max(bytes, this.buf.length * 2));
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  private stringField(tag: number, value: string): void {
    // proto3 leaves empty strings out, as Go's generated marshaller does.
    if (value === "") return;
    this.byte(tag);
    this.varint(Buffer.byteLength(value, "utf8"));
    this.pos += this.buf.write(value, this.pos, "utf8");
  }

  private varint(n: number): void {
    if (n < 0) {
      // int64 in two's complement: negative timestamps (before 1970) take ten bytes.
      let u = BigInt.asUintN(64, BigInt(n));
      while (u >= 0x80n) {
        this.byte(Number(u & 0x7fn) | 0x80);
        u >>= 7n;
      }
      this.byte(Number(u));
      return;
    }
    let v = n;
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }
}

/** Encodes one request into fresh bytes; `WriteRequestEncoder` reuses its buffer instead. */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  return Uint8Array.from(new WriteRequestEncoder(256).encode(series));
}

function stringFieldSize(value: string): number {
  if (value === "") return 0;
  const n = Buffer.byteLength(value, "utf8");
  return 1 + varintSize(n) + n;
}

function sampleMessageSize(t: number): number {
  return 1 + 8 + 1 + varintSize(t);
}

function varintSize(n: number): number {
  if (n < 0) return 10;
  let size = 1;
  let v = n;
  while (v >= 0x80) {
    size++;
    v = Math.floor(v / 0x80);
  }
  return size;
}
