import { statSync } from "node:fs";
import SqliteDatabase from "better-sqlite3";
import type { Labels } from "../../promql/index.js";

/**
 * Persistent chunks in one SQLite file of their own (never the state database): a `series` table of label
 * sets and a `chunks` table keyed by (series, first timestamp) so that one series' chunks sit together on
 * disk. `auto_vacuum = INCREMENTAL` lets retention give space back to the file system.
 */

export interface ChunkRow {
  readonly seriesId: number;
  readonly minT: number;
  readonly maxT: number;
  readonly count: number;
  readonly data: Uint8Array;
}

export interface SeriesStats {
  readonly seriesId: number;
  readonly rows: number;
  readonly minT: number;
}

/** [min_t, max_t, count, data] as better-sqlite3 returns it in raw mode. */
export type RawChunk = [number, number, number, Uint8Array];

/** A series' chunks as last read for a range, kept until that series is written again. */
interface CachedRange {
  from: number;
  to: number;
  rows: RawChunk[];
  bytes: number;
}

/** Bytes of compressed chunks kept in memory for repeated reads (the role the page cache plays for Prometheus). */
const CACHE_BYTES = 64 * 1024 * 1024;

export class ChunkStore {
  readonly db: SqliteDatabase.Database;
  /** Recently read chunk ranges by series id, least recently used first. */
  private readonly cache = new Map<number, CachedRange>();
  private cachedBytes = 0;
  private readonly statements;

  constructor(readonly path: string) {
    this.db = new SqliteDatabase(path);
    this.db.pragma("auto_vacuum = INCREMENTAL");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("journal_size_limit = 4194304");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS series (id INTEGER PRIMARY KEY, labels TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, min_t INTEGER NOT NULL, max_t INTEGER NOT NULL,
        count INTEGER NOT NULL, data BLOB NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS chunks_by_series ON chunks (series_id, min_t);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.statements = {
      insertSeries: this.db.prepare("INSERT OR REPLACE INTO series (id, labels) VALUES (?, ?)"),
      deleteSeries: this.db.prepare("DELETE FROM series WHERE id = ?"),
      putChunk: this.db.prepare(
        "INSERT OR REPLACE INTO chunks (series_id, min_t, max_t, count, data) VALUES (?, ?, ?, ?, ?)",
      ),
      chunksIn: this.db
        .prepare(
          "SELECT min_t, max_t, count, data FROM chunks WHERE series_id = ? AND min_t >= ? AND min_t <= ? ORDER BY min_t",
        )
        .raw(),
      chunkMeta: this.db
        .prepare("SELECT min_t, max_t, count FROM chunks WHERE series_id = ? AND min_t < ? ORDER BY min_t")
        .raw(),
      lastChunk: this.db
        .prepare(
          "SELECT min_t, max_t, count, data FROM chunks WHERE series_id = ? ORDER BY min_t DESC LIMIT 1",
        )
        .raw(),
      deleteRange: this.db.prepare("DELETE FROM chunks WHERE series_id = ? AND min_t >= ? AND min_t <= ?"),
      deleteOlder: this.db.prepare("DELETE FROM chunks WHERE series_id = ? AND min_t < ? AND max_t < ?"),
      deleteOne: this.db.prepare("DELETE FROM chunks WHERE series_id = ? AND min_t = ?"),
      statsOf: this.db
        .prepare("SELECT COUNT(*), MIN(min_t), MAX(max_t) FROM chunks WHERE series_id = ?")
        .raw(),
      getMeta: this.db.prepare("SELECT value FROM meta WHERE key = ?").pluck(),
      setMeta: this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  allSeries(): { id: number; labels: Labels }[] {
    const rows = this.db.prepare("SELECT id, labels FROM series ORDER BY id").raw().all() as [
      number,
      string,
    ][];
    return rows.map(([id, text]) => ({ id, labels: parseLabels(text) }));
  }

  /** Per-series row count and first timestamp, from the index alone. */
  allStats(): SeriesStats[] {
    const rows = this.db
      .prepare("SELECT series_id, COUNT(*), MIN(min_t) FROM chunks GROUP BY series_id")
      .raw()
      .all() as [number, number, number][];
    return rows.map(([seriesId, rows, minT]) => ({ seriesId, rows, minT }));
  }

  /** The widest chunk (max_t − min_t), by a scan of the table; for stores without the `max_span` meta. */
  widestChunk(): number {
    return (
      (this.db.prepare("SELECT COALESCE(MAX(max_t - min_t), 0) FROM chunks").pluck().get() as number) ?? 0
    );
  }

  statsOf(seriesId: number): { rows: number; minT: number; maxT: number } {
    const [rows, minT, maxT] = this.statements.statsOf.get(seriesId) as [
      number,
      number | null,
      number | null,
    ];
    return { rows, minT: minT ?? Number.POSITIVE_INFINITY, maxT: maxT ?? Number.NEGATIVE_INFINITY };
  }

  putSeries(id: number, labels: Labels): void {
    this.statements.insertSeries.run(id, formatLabels(labels));
  }

  deleteSeries(id: number): void {
    this.forget(id);
    this.statements.deleteSeries.run(id);
  }

  putChunk(row: ChunkRow): void {
    this.forget(row.seriesId);
    this.statements.putChunk.run(row.seriesId, row.minT, row.maxT, row.count, row.data);
  }

  /** Chunks of a series whose first timestamp is in [fromMinT, toMinT], ascending. */
  chunksIn(seriesId: number, fromMinT: number, toMinT: number): RawChunk[] {
    const from = clampInt(fromMinT);
    const to = clampInt(toMinT);
    const cached = this.cache.get(seriesId);
    if (cached !== undefined && cached.from <= from && to <= cached.to) {
      this.cache.delete(seriesId);
      this.cache.set(seriesId, cached);
      if (cached.from === from && cached.to === to) return cached.rows;
      return cached.rows.filter((r) => r[0] >= from && r[0] <= to);
    }
    const rows = this.statements.chunksIn.all(seriesId, from, to) as RawChunk[];
    this.remember(seriesId, { from, to, rows, bytes: rows.reduce((n, r) => n + r[3].length + 64, 0) });
    return rows;
  }

  private remember(seriesId: number, entry: CachedRange): void {
    this.forget(seriesId);
    if (entry.bytes > CACHE_BYTES / 16) return;
    this.cache.set(seriesId, entry);
    this.cachedBytes += entry.bytes;
    for (const [id, old] of this.cache) {
      if (this.cachedBytes <= CACHE_BYTES) break;
      this.cache.delete(id);
      this.cachedBytes -= old.bytes;
    }
  }

  /** A write to a series makes what was read of it stale. */
  private forget(seriesId: number): void {
    const old = this.cache.get(seriesId);
    if (old === undefined) return;
    this.cache.delete(seriesId);
    this.cachedBytes -= old.bytes;
  }

  /** [min_t, max_t, count] of a series' chunks that start before `beforeMinT`. */
  chunkMeta(seriesId: number, beforeMinT: number): [number, number, number][] {
    return this.statements.chunkMeta.all(seriesId, clampInt(beforeMinT)) as [number, number, number][];
  }

  lastChunk(seriesId: number): RawChunk | undefined {
    return this.statements.lastChunk.get(seriesId) as RawChunk | undefined;
  }

  deleteRange(seriesId: number, fromMinT: number, toMinT: number): number {
    this.forget(seriesId);
    return this.statements.deleteRange.run(seriesId, fromMinT, toMinT).changes;
  }

  /** Deletes the chunks of a series that end before `cutoff`. */
  deleteOlder(seriesId: number, cutoff: number): number {
    this.forget(seriesId);
    return this.statements.deleteOlder.run(seriesId, clampInt(cutoff), clampInt(cutoff)).changes;
  }

  deleteChunk(seriesId: number, minT: number): number {
    this.forget(seriesId);
    return this.statements.deleteOne.run(seriesId, minT).changes;
  }

  /** The oldest chunks by end time: [series_id, min_t, max_t, bytes]. */
  oldestChunks(limit: number): [number, number, number, number][] {
    return this.db
      .prepare("SELECT series_id, min_t, max_t, length(data) FROM chunks ORDER BY max_t LIMIT ?")
      .raw()
      .all(limit) as [number, number, number, number][];
  }

  totalSamples(): number {
    return (this.db.prepare("SELECT COALESCE(SUM(count), 0) FROM chunks").pluck().get() as number) ?? 0;
  }

  getMeta(key: string): number | undefined {
    return this.statements.getMeta.get(key) as number | undefined;
  }

  setMeta(key: string, value: number): void {
    this.statements.setMeta.run(key, value);
  }

  /** Returns freed pages to the file system and empties SQLite's own log. */
  shrink(): void {
    this.db.pragma("incremental_vacuum");
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  /** Bytes of the database file and its log. */
  bytes(): number {
    return fileSize(this.path) + fileSize(`${this.path}-wal`);
  }

  close(): void {
    this.db.close();
  }
}

function clampInt(t: number): number {
  if (t < Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  if (t > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  return t;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function formatLabels(labels: Labels): string {
  const flat: string[] = [];
  for (const l of labels) flat.push(l.name, l.value);
  return JSON.stringify(flat);
}

function parseLabels(text: string): Labels {
  const flat = JSON.parse(text) as string[];
  const labels = [];
  for (let i = 0; i + 1 < flat.length; i += 2)
    labels.push({ name: flat[i] as string, value: flat[i + 1] as string });
  return labels;
}
