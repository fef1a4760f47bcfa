import SnappyJS from "snappyjs";
import type { Labels } from "../../promql/index.js";

export interface EncodableSeries {
  readonly labels: Labels;
  readonly samples: ReadonlyArray<{ readonly t: number; readonly v: number }>;
  /** Adds this many empty native-histogram entries (field 4), to test that they are refused. */
  readonly histograms?: number;
}

/**
 * Encodes a `prometheus.WriteRequest` (remote-write 1.0) without compression. For tests and benchmarks of
 * the receiver: the sender Nines uses in production lives with the remote backend.
 */
export function encodeWriteRequest(series: readonly EncodableSeries[]): Uint8Array {
  const out = new Writer();
  for (const s of series) {
    const ts = new Writer();
    for (const l of s.labels) {
      const label = new Writer();
      label.string(1, l.name);
      label.string(2, l.value);
      ts.bytes(1, label.finish());
    }
    for (const p of s.samples) {
      const sample = new Writer();
      sample.double(1, p.v);
      sample.int64(2, p.t);
      ts.bytes(2, sample.finish());
    }
    for (let i = 0; i < (s.histograms ?? 0); i++) ts.bytes(4, new Uint8Array(0));
    out.bytes(1, ts.finish());
  }
  return out.finish();
}

/** Snappy block compression, as remote_write bodies are sent. */
export function snappyCompress(data: Uint8Array): Uint8Array {
  return SnappyJS.compress(data);
}

class Writer {
  private readonly parts: number[] = [];
  private readonly chunks: Uint8Array[] = [];

  string(field: number, value: string): void {
    this.bytes(field, new TextEncoder().encode(value));
  }

  bytes(field: number, value: Uint8Array): void {
    this.varint((field << 3) | 2);
    this.varint(value.length);
    this.flush();
    this.chunks.push(value);
  }

  double(field: number, value: number): void {
    this.varint((field << 3) | 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.flush();
    this.chunks.push(b);
  }

  int64(field: number, value: number): void {
    this.varint(field << 3);
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.parts.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.parts.push(Number(v));
  }

  finish(): Uint8Array {
    this.flush();
    return Buffer.concat(this.chunks);
  }

  private varint(value: number): void {
    let v = value;
    while (v >= 0x80) {
      this.parts.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.parts.push(v);
  }

  private flush(): void {
    if (this.parts.length > 0) {
      this.chunks.push(Uint8Array.from(this.parts));
      this.parts.length = 0;
    }
  }
}
