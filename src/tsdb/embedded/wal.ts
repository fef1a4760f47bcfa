import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import type { Labels } from "../../promql/index.js";

/**
 * The head's write-ahead log: numbered segment files of records `[length u32][crc32 u32][payload]`. Each
 * committed batch is one record written with one synchronous `write` before the commit resolves, so a killed
 * process loses nothing committed; `fsync` runs at most every `fsyncIntervalMs`, which bounds what an
 * operating-system crash or power loss can lose. A record whose length or checksum does not match (a write
 * torn by a crash) ends the replay of its segment.
 */

const HEADER = 8;
const SEGMENT_DIGITS = 8;
const RECORD_BATCH = 1;

export interface WalSeries {
  readonly id: number;
  readonly labels: Labels;
}

/** A decoded batch: new series, then samples as parallel arrays. */
export interface WalBatch {
  readonly series: WalSeries[];
  readonly ids: Float64Array;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  readonly length: number;
}

export class Wal {
  private fd: number | undefined;
  private segment = 0;
  private segmentBytes = 0;
  private olderBytes = 0;
  private dirty = false;
  private syncing = false;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Segment numbers on disk, ascending. */
  segments(): number[] {
    return readdirSync(this.dir)
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Reads the valid records of a segment; stops at the first torn or corrupt record. */
  *read(segment: number, onTorn?: (offset: number, size: number) => void): Generator<WalBatch> {
    const path = this.path(segment);
    if (!existsSync(path)) return;
    const buf = readFileSync(path);
    let pos = 0;
    while (pos < buf.length) {
      const len = pos + HEADER <= buf.length ? buf.readUInt32LE(pos) : 0;
      const sum = pos + HEADER <= buf.length ? buf.readUInt32LE(pos + 4) : 0;
      const payload = buf.subarray(pos + HEADER, pos + HEADER + len);
      const batch =
        len > 0 && pos + HEADER + len <= buf.length && crc32(payload) === sum
          ? decodeBatch(payload)
          : undefined;
      if (batch === undefined) {
        onTorn?.(pos, buf.length);
        return;
      }
      pos += HEADER + len;
      yield batch;
    }
  }

  /** Starts writing to segment `n`; earlier segments stay until `deleteBefore`. */
  startSegment(n: number): void {
    this.closeFd(true);
    this.olderBytes = this.segments()
      .filter((s) => s !== n)
      .reduce((sum, s) => sum + fileSize(this.path(s)), 0);
    this.fd = openSync(this.path(n), "a");
    this.segment = n;
    this.segmentBytes = fstatSync(this.fd).size;
    syncDir(this.dir);
  }

  get currentSegment(): number {
    return this.segment;
  }

  /** Bytes in all segments. */
  get bytes(): number {
    return this.olderBytes + this.segmentBytes;
  }

  /** Appends one record with a synchronous write: on return the record survives a process kill. */
  append(payload: Uint8Array): void {
    if (this.fd === undefined) throw new Error("the write-ahead log is closed");
    const record = Buffer.allocUnsafe(HEADER + payload.length);
    record.writeUInt32LE(payload.length, 0);
    record.writeUInt32LE(crc32(payload), 4);
    record.set(payload, HEADER);
    let written = 0;
    while (written < record.length) {
      written += writeSync(this.fd, record, written, record.length - written);
    }
    this.segmentBytes += record.length;
    this.dirty = true;
  }

  /** Starts an fsync of the current segment if anything was written since the last one. */
  syncSoon(): void {
    if (!this.dirty || this.syncing || this.fd === undefined) return;
    this.dirty = false;
    this.syncing = true;
    fsync(this.fd, () => {
      this.syncing = false;
    });
  }

  /** fsyncs the current segment now. */
  syncNow(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    this.dirty = false;
  }

  deleteBefore(n: number): void {
    for (const s of this.segments()) if (s < n) unlinkSync(this.path(s));
    this.olderBytes = 0;
  }

  close(): void {
    this.closeFd(true);
  }

  private closeFd(sync: boolean): void {
    if (this.fd === undefined) return;
    if (sync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    this.olderBytes += this.segmentBytes;
    this.segmentBytes = 0;
    this.dirty = false;
  }

  private path(n: number): string {
    return join(this.dir, String(n).padStart(SEGMENT_DIGITS, "0"));
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the segment's own fsync still applies.
  }
}

// --- record encoding ----------------------------------------------------------------------------------

/** A growable byte buffer for WAL records. */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private len = 0;

  reset(): void {
    this.len = 0;
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  uvarint(x: number): void {
    this.ensure(10);
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
  }

  varint(x: number): void {
    this.uvarint(x < 0 ? -2 * x - 1 : 2 * x);
  }

  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.ensure(n);
    this.len += this.buf.write(s, this.len);
  }

  /** Copies 8 raw bytes (a float's bits) from `bytes` at `offset`. */
  raw8(bytes: Uint8Array, offset: number): void {
    this.ensure(8);
    for (let i = 0; i < 8; i++) this.buf[this.len++] = bytes[offset + i] as number;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

/**
 * Encodes a batch record: new series (id, labels), then samples with id and timestamp as deltas from the
 * previous sample and the value's 8 raw bytes.
 */
export function encodeBatch(
  w: RecordWriter,
  series: readonly WalSeries[],
  ids: ArrayLike<number>,
  timestamps: ArrayLike<number>,
  values: Float64Array,
  indexes: ArrayLike<number>,
  count: number,
): Uint8Array {
  w.reset();
  w.byte(RECORD_BATCH);
  w.uvarint(series.length);
  for (const s of series) {
    w.uvarint(s.id);
    w.uvarint(s.labels.length);
    for (const l of s.labels) {
      w.string(l.name);
      w.string(l.value);
    }
  }
  const valueBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  w.uvarint(count);
  let prevId = 0;
  let prevT = 0;
  for (let j = 0; j < count; j++) {
    const i = indexes[j] as number;
    const id = ids[i] as number;
    const t = timestamps[i] as number;
    w.varint(id - prevId);
    w.varint(t - prevT);
    w.raw8(valueBytes, i * 8);
    prevId = id;
    prevT = t;
  }
  return w.bytes();
}

function decodeBatch(buf: Buffer): WalBatch | undefined {
  let pos = 0;
  const uvarint = (): number => {
    let x = 0;
    let scale = 1;
    for (;;) {
      if (pos >= buf.length) throw new RangeError("record ends early");
      const b = buf[pos++] as number;
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 0x80;
    }
  };
  const varint = (): number => {
    const u = uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  };
  const string = (): string => {
    const n = uvarint();
    const s = buf.toString("utf8", pos, pos + n);
    pos += n;
    return s;
  };
  try {
    if (buf[pos++] !== RECORD_BATCH) return undefined;
    const series: WalSeries[] = [];
    const nSeries = uvarint();
    for (let i = 0; i < nSeries; i++) {
      const id = uvarint();
      const nLabels = uvarint();
      const labels = [];
      for (let j = 0; j < nLabels; j++) labels.push({ name: string(), value: string() });
      series.push({ id, labels });
    }
    const n = uvarint();
    const ids = new Float64Array(n);
    const timestamps = new Float64Array(n);
    const values = new Float64Array(n);
    const valueBytes = new Uint8Array(values.buffer);
    let id = 0;
    let t = 0;
    for (let i = 0; i < n; i++) {
      id += varint();
      t += varint();
      ids[i] = id;
      timestamps[i] = t;
      if (pos + 8 > buf.length) return undefined;
      valueBytes.set(buf.subarray(pos, pos + 8), i * 8);
      pos += 8;
    }
    return { series, ids, timestamps, values, length: n };
  } catch {
    return undefined;
  }
}
