import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { type Clock, systemClock } from "../../platform/clock.js";
import { NinesError } from "../../platform/errors.js";
import type { Log } from "../../platform/logger.js";
import { compareStrings } from "../../promql/index.js";
import { compareLabels, type Labels, type SelectRequest, type Series } from "../../promql/index.js";
import { AppendError, type Appender, type MetricsStore, type SeriesRequest } from "../metrics-store.js";
import { decodeChunk, encodeChunk } from "./chunk-encoding.js";
import { ChunkStore, type RawChunk } from "./chunk-store.js";
import { CHUNK_SAMPLES, HeadSeries, hashLabels, SeriesMap } from "./head.js";
import { LabelIndex } from "./label-index.js";
import { encodeBatch, RecordWriter, Wal } from "./wal.js";

export interface EmbeddedTsdbOptions {
  /** Directory of the store's own files: `chunks.sqlite` and `wal/`. */
  readonly dir: string;
  readonly clock?: Clock;
  readonly log?: Log;
  /** Samples older than now − retentionMs are deleted (default 15 days). */
  readonly retentionMs?: number;
  /** Most bytes on disk; the oldest chunks go first when exceeded (default 0: no limit). */
  readonly retentionBytes?: number;
  /** Longest time between fsyncs of the write-ahead log (default 1000 ms; 0 = fsync before each commit resolves). */
  readonly fsyncIntervalMs?: number;
  /** Samples older than the newest sample in the head minus this are out of bounds (default 1 h, Prometheus's). */
  readonly appendWindowMs?: number;
  /** A head chunk is cut after 120 samples or when it would span longer than this (default 2 h). */
  readonly maxChunkSpanMs?: number;
  /** The WAL is checkpointed (head written to SQLite, old segments deleted) past this size (default 4 MiB). */
  readonly walCheckpointBytes?: number;
  /**
   * A checkpoint the WAL's size starts writes the open chunks this many series at a time, one event-loop turn
   * each, so that 30,000 series do not block the process for a second (default 500).
   */
  readonly checkpointSliceSeries?: number;
  /** Cut chunks written to SQLite in one transaction once this many wait (default 2000; also every fsync tick). */
  readonly flushChunks?: number;
  /** How often retention runs (default 60 s; 0 = only when `applyRetention` is called). */
  readonly retentionIntervalMs?: number;
  /** How often compaction runs (default 10 min; 0 = only when `compact` is called). */
  readonly compactionIntervalMs?: number;
  /** Compaction merges adjacent chunks up to this many samples (default 960)… */
  readonly compactMaxSamples?: number;
  /** …and up to this span (default 4 h). */
  readonly compactMaxSpanMs?: number;
}

export interface EmbeddedTsdbStats {
  readonly series: number;
  /** Samples in memory: open head chunks and cut chunks not yet written to SQLite. */
  readonly headSamples: number;
  readonly headChunks: number;
  /** Rows in the chunks table (a row may mirror an open head chunk as of the last checkpoint). */
  readonly persistedChunks: number;
  /** Samples stored in SQLite, not counting the rows that mirror open head chunks. */
  readonly persistedSamples: number;
  readonly walBytes: number;
  readonly sqliteBytes: number;
  readonly bytesOnDisk: number;
}

export interface RetentionResult {
  readonly deletedChunks: number;
  readonly deletedSeries: number;
}

export interface CompactionResult {
  readonly chunksBefore: number;
  readonly chunksAfter: number;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Opens (creating if needed) the embedded TSDB in `options.dir`, replaying its write-ahead log. */
export async function openEmbeddedTsdb(options: EmbeddedTsdbOptions): Promise<EmbeddedTsdb> {
  mkdirSync(options.dir, { recursive: true });
  const unlock = lockDir(options.dir);
  let db: EmbeddedTsdb | undefined;
  try {
    db = new EmbeddedTsdb(options, unlock);
    db.load();
    return db;
  } catch (err) {
    db?.abandon();
    unlock();
    throw err;
  }
}

const openDirs = new Set<string>();

/**
 * One process, one store: a `LOCK` file holds the owner's pid. A lock left by a process that no longer runs
 * (killed) is taken over.
 */
function lockDir(dir: string): () => void {
  const path = join(resolve(dir), "LOCK");
  const busy = (): NinesError =>
    new NinesError(
      "CONFLICT",
      `The metrics store in ${dir} is open in another Nines process (see ${path}). Stop that process or use another data directory.`,
    );
  if (openDirs.has(path)) throw busy();
  let owner = Number.NaN;
  try {
    owner = Number(readFileSync(path, "utf8").trim());
  } catch {
    // No lock yet.
  }
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processRuns(owner)) throw busy();
  writeFileSync(path, `${process.pid}\n`);
  openDirs.add(path);
  return () => {
    openDirs.delete(path);
    rmSync(path, { force: true });
  };
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/**
 * Nines's own time-series store: a head of open chunks protected by a write-ahead log, compressed chunks in a
 * SQLite file of its own, an in-memory label index, retention by time and size, and compaction. See
 * docs/tsdb.md for the durability bound.
 */
export class EmbeddedTsdb implements MetricsStore {
  private readonly clock: Clock;
  private readonly log: Log | undefined;
  private readonly retentionMs: number;
  private readonly retentionBytes: number;
  private readonly appendWindowMs: number;
  private readonly maxChunkSpanMs: number;
  private readonly walCheckpointBytes: number;
  private readonly flushChunks: number;
  private readonly checkpointSliceSeries: number;
  private readonly compactMaxSamples: number;
  private readonly compactMaxSpanMs: number;

  private readonly store: ChunkStore;
  private readonly wal: Wal;
  private readonly writer = new RecordWriter();
  private readonly index = new LabelIndex();
  private readonly byLabels = new SeriesMap();
  private readonly byId = new Map<number, HeadSeries>();

  private nextId = 1;
  private headMaxT = Number.NEGATIVE_INFINITY;
  /** Widest persisted chunk (max_t − min_t): how far before a range a chunk overlapping it may start. */
  private maxSpan = 0;
  private commitGen = 0;
  private unpersistedSeries: HeadSeries[] = [];
  private pendingSeries: HeadSeries[] = [];
  private pendingChunks = 0;
  private dirtySeries: HeadSeries[] = [];
  /** A checkpoint in slices: the series whose open chunks it still has to write, from `next` on. */
  private slicedCheckpoint: { series: HeadSeries[]; next: number; segment: number } | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private compaction: Promise<CompactionResult> | undefined;
  private closed = false;
  /** Set when close() starts: background compaction stops at its next batch. */
  private closing = false;
  private closePromise: Promise<void> | undefined;

  constructor(
    private readonly options: EmbeddedTsdbOptions,
    private readonly unlock: () => void = () => undefined,
  ) {
    this.clock = options.clock ?? systemClock;
    this.log = options.log;
    this.retentionMs = options.retentionMs ?? 15 * DAY;
    this.retentionBytes = options.retentionBytes ?? 0;
    this.appendWindowMs = options.appendWindowMs ?? HOUR;
    this.maxChunkSpanMs = options.maxChunkSpanMs ?? 2 * HOUR;
    this.walCheckpointBytes = options.walCheckpointBytes ?? 4 * 1024 * 1024;
    this.flushChunks = options.flushChunks ?? 2000;
    this.checkpointSliceSeries = Math.max(1, options.checkpointSliceSeries ?? 500);
    this.compactMaxSamples = options.compactMaxSamples ?? 960;
    this.compactMaxSpanMs = options.compactMaxSpanMs ?? 4 * HOUR;
    mkdirSync(options.dir, { recursive: true });
    this.store = new ChunkStore(join(options.dir, "chunks.sqlite"));
    this.wal = new Wal(join(options.dir, "wal"));
  }

  /** Rebuilds the index and head from SQLite, replays the WAL, then checkpoints. */
  load(): void {
    for (const { id, labels } of this.store.allSeries()) {
      const s = new HeadSeries(id, labels, hashLabels(labels));
      s.persisted = true;
      this.register(s);
      if (id >= this.nextId) this.nextId = id + 1;
    }
    this.maxSpan = this.store.getMeta("max_span") ?? this.store.widestChunk();
    for (const st of this.store.allStats()) {
      const s = this.byId.get(st.seriesId);
      if (s === undefined) continue;
      s.rows = st.rows;
      s.persistedMinT = st.minT;
      this.resumeLastChunk(s);
    }
    this.nextId = Math.max(this.nextId, this.store.getMeta("next_series_id") ?? 1);
    const walStart = this.store.getMeta("wal_start") ?? 1;
    const cutoff = this.clock.now() - this.retentionMs;
    let replayed = 0;
    let last = walStart;
    for (const segment of this.wal.segments()) {
      if (segment < walStart) continue;
      last = Math.max(last, segment);
      const onTorn = (offset: number, size: number): void =>
        this.log?.warn(
          { segment, offset, size },
          "tsdb: write-ahead log ends with a torn record; ignoring it",
        );
      for (const batch of this.wal.read(segment, onTorn)) {
        const valueBits = new Uint32Array(batch.values.buffer, batch.values.byteOffset, batch.length * 2);
        for (const ser of batch.series) {
          if (ser.id >= this.nextId) this.nextId = ser.id + 1;
          if (this.byId.has(ser.id)) continue;
          const s = new HeadSeries(ser.id, ser.labels, hashLabels(ser.labels));
          this.register(s);
          this.unpersistedSeries.push(s);
        }
        for (let i = 0; i < batch.length; i++) {
          const s = this.byId.get(batch.ids[i] as number);
          const t = batch.timestamps[i] as number;
          if (s === undefined || t <= s.lastT || t < cutoff) continue;
          this.appendSample(s, t, valueBits, i);
          replayed++;
        }
      }
    }
    if (replayed > 0) this.log?.info({ samples: replayed }, "tsdb: replayed the write-ahead log");
    this.checkpoint(last + 1);
    this.startTimers();
  }

  private startTimers(): void {
    const every = (ms: number, fn: () => void): void => {
      if (ms <= 0) return;
      const timer = setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.log?.error({ err }, "tsdb: background task failed");
        }
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    const fsyncMs = this.options.fsyncIntervalMs ?? 1000;
    every(fsyncMs > 0 ? fsyncMs : 1000, () => {
      if (fsyncMs > 0) this.wal.syncSoon();
      if (this.pendingChunks > 0) this.store.transaction(() => this.persistPending());
    });
    every(this.options.retentionIntervalMs ?? 60_000, () => {
      this.applyRetention();
    });
    every(this.options.compactionIntervalMs ?? 600_000, () => {
      void this.compact().catch((err: unknown) => this.log?.error({ err }, "tsdb: compaction failed"));
    });
  }

  private resumeLastChunk(s: HeadSeries): void {
    const last = this.store.lastChunk(s.id);
    if (last === undefined) return;
    const [minT, maxT, count, data] = last;
    const ts = new Float64Array(count);
    const vs = new Float64Array(count);
    decodeChunk(data, minT, maxT, ts, vs, 0);
    s.lastT = maxT;
    s.persistedMaxT = maxT;
    const bits = new Uint32Array(vs.buffer);
    s.lastLo = bits[2 * count - 2] as number;
    s.lastHi = bits[2 * count - 1] as number;
    if (maxT > this.headMaxT) this.headMaxT = maxT;
    if (count < CHUNK_SAMPLES) {
      s.ts.set(ts);
      s.vs.set(vs);
      s.n = count;
      s.partialMinT = minT;
      s.partialCount = count;
    }
  }

  private register(s: HeadSeries): void {
    this.byLabels.add(s);
    this.byId.set(s.id, s);
    this.index.add(s.id, s.labels);
  }

  // --- writing ------------------------------------------------------------------------------------------

  appender(): Appender {
    return new HeadAppender(this, this.minValidTime());
  }

  /** Prometheus's appendable window: not older than the retention, nor than the head's newest sample − 1 h. */
  private minValidTime(): number {
    return Math.max(this.clock.now() - this.retentionMs, this.headMaxT - this.appendWindowMs);
  }

  /** @internal */
  lookup(labels: Labels, hash: number): HeadSeries | undefined {
    return this.byLabels.get(labels, hash);
  }

  /** @internal Writes a batch to the WAL, then into the head; returns the samples written. */
  commitBatch(batch: HeadAppender): number {
    if (this.closed) throw new Error("the embedded TSDB is closed");
    const gen = ++this.commitGen;
    const created: HeadSeries[] = [];
    for (const s of batch.newSeries.values()) {
      const existing = this.byLabels.get(s.labels, s.hash);
      if (existing !== undefined) s.alias = existing;
      else {
        s.id = this.nextId++;
        created.push(s);
      }
    }
    const n = batch.length;
    const ids = new Float64Array(n);
    const indexes = new Uint32Array(n);
    let count = 0;
    for (let i = 0; i < n; i++) {
      let s = batch.series[i] as HeadSeries;
      if (s.alias !== undefined) {
        s = s.alias;
        batch.series[i] = s;
      }
      const t = batch.ts[i] as number;
      // A concurrent appender may have committed newer samples for the series since `add` checked.
      const last = s.commitGen === gen ? s.commitT : s.lastT;
      if (t <= last) continue;
      s.commitGen = gen;
      s.commitT = t;
      ids[i] = s.id;
      indexes[count++] = i;
    }
    if (count === 0 && created.length === 0) return 0;
    this.wal.append(encodeBatch(this.writer, created, ids, batch.ts, batch.vs, indexes, count));
    if (this.options.fsyncIntervalMs === 0) this.wal.syncNow();
    for (const s of created) {
      this.register(s);
      this.unpersistedSeries.push(s);
    }
    const bits = new Uint32Array(batch.vs.buffer);
    for (let j = 0; j < count; j++) {
      const i = indexes[j] as number;
      this.appendSample(batch.series[i] as HeadSeries, batch.ts[i] as number, bits, i);
    }
    if (this.wal.bytes >= this.walCheckpointBytes && this.slicedCheckpoint === undefined)
      this.startSlicedCheckpoint();
    else if (this.pendingChunks >= this.flushChunks) this.store.transaction(() => this.persistPending());
    return count;
  }

  /** Appends value `i` of `bits` (raw float bits, two words each) at `t`; cuts the open chunk first if full. */
  private appendSample(s: HeadSeries, t: number, bits: Uint32Array, i: number): void {
    if (s.n === CHUNK_SAMPLES || (s.n > 0 && t - (s.ts[0] as number) > this.maxChunkSpanMs)) this.cut(s);
    const lo = bits[2 * i] as number;
    const hi = bits[2 * i + 1] as number;
    s.ts[s.n] = t;
    s.vbits[2 * s.n] = lo;
    s.vbits[2 * s.n + 1] = hi;
    s.n++;
    s.lastT = t;
    s.lastLo = lo;
    s.lastHi = hi;
    if (t > this.headMaxT) this.headMaxT = t;
    if (!s.dirty) {
      s.dirty = true;
      this.dirtySeries.push(s);
    }
  }

  private cut(s: HeadSeries): void {
    s.pending.push({
      minT: s.ts[0] as number,
      maxT: s.ts[s.n - 1] as number,
      count: s.n,
      data: encodeChunk(s.ts, s.vs, 0, s.n),
    });
    s.n = 0;
    this.pendingChunks++;
    if (!s.queued) {
      s.queued = true;
      this.pendingSeries.push(s);
    }
  }

  /** Writes new series and cut chunks to SQLite; call inside a transaction. */
  private persistPending(): void {
    for (const s of this.unpersistedSeries) {
      if (this.byId.get(s.id) !== s) continue;
      this.store.putSeries(s.id, s.labels);
      s.persisted = true;
    }
    this.unpersistedSeries = [];
    for (const s of this.pendingSeries) {
      for (const c of s.pending) {
        this.store.putChunk({ seriesId: s.id, minT: c.minT, maxT: c.maxT, count: c.count, data: c.data });
        if (s.partialMinT === c.minT) {
          s.partialMinT = undefined;
          s.partialCount = 0;
        } else {
          s.rows++;
        }
        this.notePersisted(s, c.minT, c.maxT);
      }
      s.pending.length = 0;
      s.queued = false;
    }
    this.pendingSeries = [];
    this.pendingChunks = 0;
  }

  private notePersisted(s: HeadSeries, minT: number, maxT: number): void {
    if (minT < s.persistedMinT) s.persistedMinT = minT;
    if (maxT > s.persistedMaxT) s.persistedMaxT = maxT;
    this.growSpan(maxT - minT);
  }

  /** Call inside the transaction that writes the chunk: queries rely on the stored span after a crash. */
  private growSpan(span: number): void {
    if (span <= this.maxSpan) return;
    this.maxSpan = span;
    this.store.setMeta("max_span", span);
  }

  /**
   * Writes everything in the head to SQLite (cut chunks, and open chunks as partial rows that later cuts
   * replace), then starts a new WAL segment and deletes the old ones: the WAL only ever holds what came
   * after the last checkpoint. Finishes a sliced checkpoint that is under way.
   */
  checkpoint(nextSegment = this.wal.currentSegment + 1): void {
    const sliced = this.slicedCheckpoint;
    this.slicedCheckpoint = undefined;
    this.store.transaction(() => {
      this.persistPending();
      if (sliced)
        for (let i = sliced.next; i < sliced.series.length; i++) this.writeOpenChunk(sliced.series[i]);
      for (const s of this.dirtySeries) this.writeOpenChunk(s);
      this.dirtySeries = [];
      this.store.setMeta("wal_start", nextSegment);
      this.store.setMeta("next_series_id", this.nextId);
    });
    this.wal.startSegment(nextSegment);
    this.wal.deleteBefore(nextSegment);
    // Partial rows replaced since the last checkpoint left free pages; SQLite's own log has grown too.
    this.store.shrink();
  }

  /**
   * The same checkpoint without blocking: appends go to a new WAL segment at once; the open chunks of the
   * series written to since the last checkpoint are stored a slice at a time; only then does the store
   * record that replay starts at the new segment and delete the old ones. A crash part-way replays the old
   * segments too, which recovery allows: samples at or before a stored chunk's end are skipped.
   */
  private startSlicedCheckpoint(): void {
    const segment = this.wal.currentSegment + 1;
    this.wal.startSegment(segment);
    const job = { series: this.dirtySeries, next: 0, segment };
    this.dirtySeries = [];
    this.slicedCheckpoint = job;
    const step = (): void => {
      // Finished or taken over by a synchronous checkpoint (close, flush, retention), or the store closed.
      if (this.slicedCheckpoint !== job || this.closed) return;
      try {
        const end = Math.min(job.next + this.checkpointSliceSeries, job.series.length);
        this.store.transaction(() => {
          for (let i = job.next; i < end; i++) this.writeOpenChunk(job.series[i]);
        });
        job.next = end;
        if (end < job.series.length) {
          setImmediate(step);
          return;
        }
        this.slicedCheckpoint = undefined;
        this.store.transaction(() => {
          this.persistPending();
          this.store.setMeta("wal_start", segment);
          this.store.setMeta("next_series_id", this.nextId);
        });
        this.wal.deleteBefore(segment);
        this.store.shrink();
      } catch (err) {
        // The old segments stay: the next checkpoint covers what this one did not write.
        // A failed slice may have marked series clean before its transaction rolled back.
        if (this.slicedCheckpoint === job) this.slicedCheckpoint = undefined;
        for (const s of job.series.slice(job.next)) {
          s.dirty = true;
          this.dirtySeries.push(s);
        }
        this.log?.error({ err }, "tsdb: checkpoint failed");
      }
    };
    setImmediate(step);
  }

  /** Stores a series' open chunk as its partial row (replacing the previous one of the same chunk). */
  private writeOpenChunk(s: HeadSeries | undefined): void {
    if (s === undefined) return;
    s.dirty = false;
    if (s.n === 0 || this.byId.get(s.id) !== s) return;
    const minT = s.ts[0] as number;
    const maxT = s.ts[s.n - 1] as number;
    this.store.putChunk({ seriesId: s.id, minT, maxT, count: s.n, data: encodeChunk(s.ts, s.vs, 0, s.n) });
    if (s.partialMinT !== minT) s.rows++;
    s.partialMinT = minT;
    s.partialCount = s.n;
    this.notePersisted(s, minT, maxT);
  }

  /** Checkpoints, then gives free pages back and empties SQLite's log: every committed sample is in SQLite. */
  flush(): Promise<void> {
    this.checkpoint();
    this.store.shrink();
    return Promise.resolve();
  }

  // --- reading ------------------------------------------------------------------------------------------

  select(request: SelectRequest): readonly Series[] {
    const { minT, maxT } = request;
    const out: Series[] = [];
    const ids = this.index.select(request.matchers);
    for (let k = 0; k < ids.length; k++) {
      if ((k & 255) === 255) request.signal?.throwIfAborted();
      const s = this.byId.get(ids[k] as number);
      if (s === undefined || s.lastT < minT || s.minT() > maxT) continue;
      const series = this.readSeries(s, minT, maxT, request.allocate);
      if (series !== undefined) out.push(series);
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /**
   * One statement per series: measured faster than one `IN (json_each(?))` statement for all 10,000 series.
   * Persisted rows that are not mirrors of head chunks end before memMinT, so a range that starts there or
   * later (rules, recent dashboards) is answered from memory alone.
   */
  private readSeries(
    s: HeadSeries,
    minT: number,
    maxT: number,
    allocate: ((n: number) => Float64Array) | undefined,
  ): Series | undefined {
    const memMinT = s.memMinT();
    let rows: RawChunk[] = [];
    if (s.rows > 0 && memMinT > minT && s.persistedMinT <= maxT && s.persistedMaxT >= minT) {
      // Rows from memMinT on are mirrors of head chunks, which memory answers.
      const to = Math.min(maxT, memMinT - 1);
      const from = minT - this.maxSpan;
      if (to >= from) rows = this.store.chunksIn(s.id, from, to);
    }
    let total = 0;
    for (const r of rows) if (r[1] >= minT) total += r[2];
    for (const p of s.pending) if (p.maxT >= minT && p.minT <= maxT) total += p.count;
    let openFrom = 0;
    let openTo = s.n;
    while (openFrom < openTo && (s.ts[openFrom] as number) < minT) openFrom++;
    while (openTo > openFrom && (s.ts[openTo - 1] as number) > maxT) openTo--;
    total += openTo - openFrom;
    if (total === 0) return undefined;
    const timestamps = allocate?.(total) ?? new Float64Array(total);
    const values = allocate?.(total) ?? new Float64Array(total);
    let k = 0;
    for (const r of rows) if (r[1] >= minT) k = decodeChunk(r[3], minT, maxT, timestamps, values, k);
    for (const p of s.pending) {
      if (p.maxT >= minT && p.minT <= maxT) k = decodeChunk(p.data, minT, maxT, timestamps, values, k);
    }
    // Copied one by one: a `subarray` view to copy from is an object per array per series, and a query over
    // 20,000 series (the SLO runtime's per-minute batches) reads a few samples of each.
    for (let i = openFrom; i < openTo; i++, k++) {
      timestamps[k] = s.ts[i] as number;
      values[k] = s.vs[i] as number;
    }
    if (k === 0) return undefined;
    return {
      labels: s.labels,
      timestamps: k === total ? timestamps : timestamps.subarray(0, k),
      values: k === total ? values : values.subarray(0, k),
    };
  }

  /** Series matching the request that have samples in its range (approximately: by first and last sample). */
  private matching(request: SeriesRequest): HeadSeries[] {
    let ids: number[];
    if (request.matcherSets.length === 0) ids = this.index.select([]);
    else {
      const set = new Set<number>();
      for (const matchers of request.matcherSets) for (const id of this.index.select(matchers)) set.add(id);
      ids = [...set];
    }
    const out: HeadSeries[] = [];
    for (const id of ids) {
      const s = this.byId.get(id);
      if (s === undefined || s.lastT < request.minT || s.minT() > request.maxT) continue;
      out.push(s);
    }
    request.signal?.throwIfAborted();
    return out;
  }

  async series(request: SeriesRequest): Promise<Labels[]> {
    const labels = this.matching(request)
      .map((s) => s.labels)
      .sort(compareLabels);
    return request.limit !== undefined && labels.length > request.limit
      ? labels.slice(0, request.limit)
      : labels;
  }

  async labelNames(request: SeriesRequest): Promise<string[]> {
    const names = new Set<string>();
    for (const s of this.matching(request)) for (const l of s.labels) names.add(l.name);
    return [...names].sort(compareStrings);
  }

  async labelValues(name: string, request: SeriesRequest): Promise<string[]> {
    const values = new Set<string>();
    for (const s of this.matching(request)) {
      for (const l of s.labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort(compareStrings);
  }

  // --- retention and compaction ------------------------------------------------------------------------

  /**
   * Deletes chunks that end before now − retention, then, if the files exceed `retentionBytes`, the chunks
   * that end first until they fit; drops series left without samples.
   */
  applyRetention(): RetentionResult {
    if (this.closed) return { deletedChunks: 0, deletedSeries: 0 };
    const cutoff = this.clock.now() - this.retentionMs;
    const touched = new Set<HeadSeries>();
    let deletedChunks = 0;
    this.store.transaction(() => {
      for (const s of this.byId.values()) {
        if (s.pending.length === 0 && s.n > 0 && s.lastT < cutoff) {
          s.n = 0;
          touched.add(s);
        }
        if (s.rows > 0 && s.persistedMinT < cutoff) {
          deletedChunks += this.store.deleteOlder(s.id, cutoff);
          touched.add(s);
        }
      }
    });
    let deletedSeries = this.refreshAfterDelete(touched);
    if (this.retentionBytes > 0 && this.bytesOnDisk() > this.retentionBytes) {
      this.checkpoint();
      this.store.shrink();
      for (let round = 0; round < 100; round++) {
        const excess = this.bytesOnDisk() - this.retentionBytes;
        if (excess <= 0) break;
        const victims: [HeadSeries, number][] = [];
        let freed = 0;
        for (const [id, minT, , bytes] of this.store.oldestChunks(1000)) {
          const s = this.byId.get(id);
          if (s === undefined || s.partialMinT === minT) continue;
          victims.push([s, minT]);
          freed += bytes + 24;
          if (freed >= excess) break;
        }
        if (victims.length === 0) break;
        const round_touched = new Set<HeadSeries>();
        this.store.transaction(() => {
          for (const [s, minT] of victims) {
            deletedChunks += this.store.deleteChunk(s.id, minT);
            round_touched.add(s);
          }
        });
        deletedSeries += this.refreshAfterDelete(round_touched);
        this.store.shrink();
      }
    } else if (deletedChunks > 0) {
      this.store.shrink();
    }
    return { deletedChunks, deletedSeries };
  }

  /** Re-reads the persisted extent of series that lost chunks; drops those left empty. */
  private refreshAfterDelete(touched: ReadonlySet<HeadSeries>): number {
    const dropped = new Set<number>();
    this.store.transaction(() => {
      for (const s of touched) {
        const st = this.store.statsOf(s.id);
        s.rows = st.rows;
        s.persistedMinT = st.minT;
        s.persistedMaxT = st.maxT;
        if (s.partialMinT !== undefined && (st.rows === 0 || s.partialMinT > st.maxT || s.n === 0)) {
          s.partialMinT = undefined;
          s.partialCount = 0;
        }
        // A series an open appender has samples for stays: its commit will bring it back to life.
        if (
          s.rows === 0 &&
          s.n === 0 &&
          s.pending.length === 0 &&
          s.persisted &&
          s.batchOwner === undefined
        ) {
          this.store.deleteSeries(s.id);
          dropped.add(s.id);
        }
      }
    });
    this.index.remove(dropped, (id) => this.byId.get(id)?.labels);
    for (const id of dropped) {
      const s = this.byId.get(id);
      if (s === undefined) continue;
      this.byId.delete(id);
      this.byLabels.delete(s);
    }
    return dropped.size;
  }

  /**
   * Merges runs of adjacent persisted chunks of each series into chunks of up to `compactMaxSamples` samples
   * and `compactMaxSpanMs`, so that old data costs fewer rows and bytes. Works in batches of series and yields
   * to the event loop between them.
   */
  compact(): Promise<CompactionResult> {
    if (this.compaction === undefined) {
      this.compaction = this.runCompaction().finally(() => {
        this.compaction = undefined;
      });
    }
    return this.compaction;
  }

  private async runCompaction(): Promise<CompactionResult> {
    let chunksBefore = 0;
    let chunksAfter = 0;
    const all = [...this.byId.values()];
    for (let i = 0; i < all.length && !this.closing; i += 256) {
      this.store.transaction(() => {
        for (const s of all.slice(i, i + 256)) {
          if (this.byId.get(s.id) !== s) continue;
          const [before, after] = this.compactSeries(s);
          chunksBefore += before;
          chunksAfter += after;
        }
      });
      await yieldToEventLoop();
    }
    if (chunksAfter < chunksBefore && !this.closing) this.store.shrink();
    return { chunksBefore, chunksAfter };
  }

  private compactSeries(s: HeadSeries): [number, number] {
    if (s.rows < 2) return [s.rows, s.rows];
    const meta = this.store.chunkMeta(s.id, s.partialMinT ?? Number.POSITIVE_INFINITY);
    let after = s.rows;
    for (let i = 0; i < meta.length; ) {
      const first = meta[i] as [number, number, number];
      let j = i;
      let samples = first[2];
      while (j + 1 < meta.length) {
        const next = meta[j + 1] as [number, number, number];
        if (samples + next[2] > this.compactMaxSamples || next[1] - first[0] > this.compactMaxSpanMs) break;
        samples += next[2];
        j++;
      }
      if (j > i) {
        const lastMinT = (meta[j] as [number, number, number])[0];
        const rows = this.store.chunksIn(s.id, first[0], lastMinT);
        const ts = new Float64Array(samples);
        const vs = new Float64Array(samples);
        let k = 0;
        for (const r of rows) {
          k = decodeChunk(r[3], Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, ts, vs, k);
        }
        const maxT = ts[k - 1] as number;
        this.store.deleteRange(s.id, first[0], lastMinT);
        this.store.putChunk({
          seriesId: s.id,
          minT: first[0],
          maxT,
          count: k,
          data: encodeChunk(ts, vs, 0, k),
        });
        this.growSpan(maxT - first[0]);
        after -= rows.length - 1;
      }
      i = j + 1;
    }
    const before = s.rows;
    s.rows = after;
    return [before, after];
  }

  // --- operations ---------------------------------------------------------------------------------------

  private bytesOnDisk(): number {
    return this.store.bytes() + this.wal.bytes;
  }

  stats(): EmbeddedTsdbStats {
    let headSamples = 0;
    let headChunks = 0;
    let persistedChunks = 0;
    let mirrored = 0;
    for (const s of this.byId.values()) {
      headSamples += s.memSamples();
      headChunks += s.pending.length + (s.n > 0 ? 1 : 0);
      persistedChunks += s.rows;
      mirrored += s.partialCount;
    }
    const walBytes = this.wal.bytes;
    const sqliteBytes = this.store.bytes();
    return {
      series: this.byId.size,
      headSamples,
      headChunks,
      persistedChunks,
      persistedSamples: this.store.totalSamples() - mirrored,
      walBytes,
      sqliteBytes,
      bytesOnDisk: walBytes + sqliteBytes,
    };
  }

  /** @internal Releases the files without a checkpoint (a failed open). */
  abandon(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.wal.close();
    this.store.close();
  }

  /** Stops background work, checkpoints the head to SQLite and releases the files and the lock. */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    await this.compaction?.catch(() => undefined);
    try {
      this.checkpoint();
    } finally {
      this.closed = true;
      this.wal.close();
      this.store.close();
      this.unlock();
    }
  }
}

/**
 * A batch being built. `add` checks each sample against the committed head and the batch so far; `commit`
 * writes the whole batch as one WAL record before the samples become visible.
 */
export class HeadAppender implements Appender {
  series: HeadSeries[] = [];
  ts = new Float64Array(64);
  vs = new Float64Array(64);
  vbits = new Uint32Array(this.vs.buffer);
  length = 0;
  duplicates = 0;
  readonly newSeries = new SeriesMap();
  private lastLabels: Labels | undefined;
  private lastSeries: HeadSeries | undefined;

  constructor(
    private readonly db: EmbeddedTsdb,
    private readonly minValidTime: number,
  ) {}

  add(labels: Labels, t: number, v: number): void {
    if (t < this.minValidTime) {
      throw new AppendError(
        "out_of_bounds",
        labels,
        t,
        "out of bounds: the sample is older than the store accepts",
      );
    }
    // Remote_write carries several samples of a series with one label set: skip the hash for repeats.
    let s = labels === this.lastLabels ? this.lastSeries : undefined;
    if (s === undefined) {
      const hash = hashLabels(labels);
      s = this.db.lookup(labels, hash) ?? this.newSeries.get(labels, hash);
      if (s === undefined) {
        s = new HeadSeries(-1, labels, hash);
        this.newSeries.add(s);
      }
      this.lastLabels = labels;
      this.lastSeries = s;
    }
    scratch[0] = v;
    const lo = scratchBits[0] as number;
    const hi = scratchBits[1] as number;
    const owned = s.batchOwner === this;
    const lastT = owned ? s.batchT : s.lastT;
    if (t < lastT) throw new AppendError("out_of_order", labels, t, "out of order sample");
    if (t === lastT) {
      const same = owned ? lo === s.batchLo && hi === s.batchHi : lo === s.lastLo && hi === s.lastHi;
      if (!same) throw new AppendError("duplicate_sample", labels, t, "duplicate sample for timestamp");
      this.duplicates++;
      return;
    }
    s.batchOwner = this;
    s.batchT = t;
    s.batchLo = lo;
    s.batchHi = hi;
    if (this.length === this.ts.length) this.grow();
    this.series.push(s);
    this.ts[this.length] = t;
    this.vbits[2 * this.length] = lo;
    this.vbits[2 * this.length + 1] = hi;
    this.length++;
  }

  commit(): Promise<number> {
    try {
      const written = this.db.commitBatch(this);
      return Promise.resolve(written + this.duplicates);
    } catch (err) {
      return Promise.reject(err);
    } finally {
      this.reset();
    }
  }

  rollback(): void {
    this.reset();
  }

  private reset(): void {
    for (const s of this.series) if (s.batchOwner === this) s.batchOwner = undefined;
    this.series = [];
    this.length = 0;
    this.duplicates = 0;
    this.newSeries.clear();
    this.lastLabels = undefined;
    this.lastSeries = undefined;
  }

  private grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    this.ts = ts;
    const vs = new Float64Array(this.vs.length * 2);
    vs.set(this.vs);
    this.vs = vs;
    this.vbits = new Uint32Array(vs.buffer);
  }
}
