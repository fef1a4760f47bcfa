import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.js";
import {
  isStaleNaN,
  type LabelMatcher,
  type Labels,
  labelsFrom,
  type Series,
  STALE_NAN,
} from "../../promql/index.js";
import { AppendError, MemoryMetricsStore } from "../index.js";
import { type EmbeddedTsdb, type EmbeddedTsdbOptions, openEmbeddedTsdb } from "./index.js";

const T0 = Date.UTC(2026, 0, 1);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nines-tsdb-"));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(
  dir: string,
  clock: ManualClock,
  extra: Partial<EmbeddedTsdbOptions> = {},
): Promise<EmbeddedTsdb> {
  return openEmbeddedTsdb({
    dir,
    clock,
    retentionIntervalMs: 0,
    compactionIntervalMs: 0,
    ...extra,
  });
}

/** A deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function valueKey(v: number): string {
  if (isStaleNaN(v)) return "stale";
  return Object.is(v, -0) ? "-0" : String(v);
}

function summarize(series: readonly Series[]): unknown[] {
  return series.map((s) => ({
    labels: s.labels,
    samples: Array.from(s.timestamps, (t, i) => `${t}=${valueKey(s.values[i] as number)}`).join(" "),
  }));
}

const NAMES = ["__name__", "job", "instance", "zone", "missing"];
const VALUES = ["", "a", "b", "api", "web", "x-1", "x-2"];

function randomLabels(rand: () => number): Labels {
  const obj: Record<string, string> = { __name__: rand() < 0.5 ? "http_requests_total" : "cpu" };
  for (const name of ["job", "instance", "zone"]) {
    const value = VALUES[Math.floor(rand() * VALUES.length)] as string;
    if (value !== "") obj[name] = value;
  }
  return labelsFrom(obj);
}

function randomMatchers(rand: () => number): LabelMatcher[] {
  const out: LabelMatcher[] = [];
  const n = Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) {
    const name = NAMES[Math.floor(rand() * NAMES.length)] as string;
    const ops = ["=", "!=", "=~", "!~"] as const;
    const op = ops[Math.floor(rand() * ops.length)] as LabelMatcher["op"];
    const regexes = ["a|b", ".*", ".+", "x-.*", "", "api|", "w.b"];
    const value =
      op === "=~" || op === "!~"
        ? (regexes[Math.floor(rand() * regexes.length)] as string)
        : (VALUES[Math.floor(rand() * VALUES.length)] as string);
    out.push({ name, op, value });
  }
  return out;
}

/** Writes the same random batches to both stores. */
async function writeRandom(
  rand: () => number,
  stores: { add: (l: Labels, t: number, v: number) => void; commit: () => Promise<unknown> }[],
  series: { labels: Labels; t: number; counter: number }[],
  batches: number,
): Promise<void> {
  const v = new Float64Array(1);
  for (let b = 0; b < batches; b++) {
    for (const s of series) {
      if (rand() < 0.2) continue;
      const samples = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < samples; i++) {
        s.t += 1 + Math.floor(rand() * (rand() < 0.05 ? 600_000 : 20_000));
        const r = rand();
        s.counter += Math.floor(rand() * 5);
        if (r < 0.05) v[0] = STALE_NAN;
        else if (r < 0.5) v[0] = s.counter;
        else if (r < 0.9) v[0] = Math.round(rand() * 1000) / 100;
        else v[0] = (rand() - 0.5) * 1e300;
        for (const store of stores) store.add(s.labels, s.t, v[0]);
      }
    }
    for (const store of stores) await store.commit();
  }
}

async function expectSameAnswers(
  rand: () => number,
  db: EmbeddedTsdb,
  reference: MemoryMetricsStore,
  maxT: number,
): Promise<void> {
  const scratch = new Float64Array(1 << 16);
  for (let q = 0; q < 60; q++) {
    const matchers = randomMatchers(rand);
    const a = T0 + Math.floor(rand() * (maxT - T0));
    const b = T0 + Math.floor(rand() * (maxT - T0));
    const range = q % 5 === 0 ? { minT: 0, maxT: maxT + 1 } : { minT: Math.min(a, b), maxT: Math.max(a, b) };
    const request = { matchers, ...range };
    const expected = summarize(await reference.select(request));
    expect(summarize(await db.select(request)), JSON.stringify(request)).toEqual(expected);
    // The engine hands the store memory that earlier queries used: every sample returned must be written.
    scratch.fill(-1);
    let used = 0;
    const allocate = (n: number): Float64Array => {
      if (used + n > scratch.length) return new Float64Array(n).fill(-1);
      used += n;
      return scratch.subarray(used - n, used);
    };
    expect(summarize(await db.select({ ...request, allocate })), JSON.stringify(request)).toEqual(expected);
    const seriesRequest = { matcherSets: matchers.length > 0 ? [matchers] : [], minT: 0, maxT: maxT + 1 };
    expect(await db.series(seriesRequest)).toEqual(await reference.series(seriesRequest));
    expect(await db.labelValues("job", seriesRequest)).toEqual(
      await reference.labelValues("job", seriesRequest),
    );
    expect(await db.labelNames(seriesRequest)).toEqual(await reference.labelNames(seriesRequest));
  }
}

describe("EmbeddedTsdb", () => {
  it("answers like the in-memory store across head, persisted chunks, compaction and a reopen", async () => {
    const dir = tempDir();
    const clock = new ManualClock(T0);
    const options = {
      appendWindowMs: 365 * 86_400_000,
      flushChunks: 10,
      walCheckpointBytes: 64 * 1024,
      // Checkpoints run in slices of 3 series, interleaved with the writes.
      checkpointSliceSeries: 3,
    };
    let db = await open(dir, clock, options);
    const reference = new MemoryMetricsStore();
    const rand = random(42);
    const series = Array.from({ length: 40 }, () => ({ labels: randomLabels(rand), t: T0, counter: 0 }));
    const unique = [...new Map(series.map((s) => [JSON.stringify(s.labels), s])).values()];
    const appenders = () => [db.appender(), reference.appender()];
    let apps = appenders();
    const proxies = [0, 1].map((i) => ({
      add: (l: Labels, t: number, v: number) => apps[i]?.add(l, t, v),
      commit: async () => {
        await apps[i]?.commit();
        if (i === 1) apps = appenders();
      },
    }));
    await writeRandom(rand, proxies, unique, 60);
    const maxT = () => Math.max(...unique.map((s) => s.t));
    expect(db.stats().persistedChunks).toBeGreaterThan(0);
    await expectSameAnswers(rand, db, reference, maxT());

    await db.close();
    db = await open(dir, clock, options);
    await expectSameAnswers(rand, db, reference, maxT());

    apps = appenders();
    await writeRandom(rand, proxies, unique, 200);
    await expectSameAnswers(rand, db, reference, maxT());
    const before = db.stats();
    const compaction = await db.compact();
    expect(compaction.chunksAfter).toBeLessThan(compaction.chunksBefore);
    expect(db.stats().persistedChunks).toBeLessThan(before.persistedChunks);
    await expectSameAnswers(rand, db, reference, maxT());
    await db.close();
    db = await open(dir, clock, options);
    await expectSameAnswers(rand, db, reference, maxT());
    await db.close();
  });

  it("checkpoints in slices between writes, keeps the old WAL until the last slice, and loses nothing on close", async () => {
    const dir = tempDir();
    const clock = new ManualClock(T0);
    const options = { walCheckpointBytes: 16 * 1024, checkpointSliceSeries: 4 };
    let db = await open(dir, clock, options);
    const labels = Array.from({ length: 40 }, (_, i) => labelsFrom({ __name__: "m", i: String(i) }));
    const segments = () => readdirSync(join(dir, "wal")).length;
    const write = async (batch: number) => {
      const app = db.appender();
      for (const l of labels) app.add(l, T0 + batch * 1000, batch);
      await app.commit();
    };
    let batch = 0;
    // Write until a commit starts a checkpoint: a new segment opens and the old one stays for now.
    while (segments() < 2 && batch < 1000) await write(batch++);
    expect(segments()).toBe(2);
    // Ten slices of 4 series, one event-loop turn each, then the old segment goes.
    for (let turn = 0; turn < 20 && segments() > 1; turn++) await new Promise((r) => setImmediate(r));
    expect(segments()).toBe(1);

    // Start another checkpoint and close part-way: close finishes it.
    const first = batch;
    while (segments() < 2 && batch < first + 1000) await write(batch++);
    expect(segments()).toBe(2);
    await new Promise((r) => setImmediate(r));
    await db.close();
    db = await open(dir, clock, options);
    const stored = db.select({
      matchers: [{ name: "__name__", op: "=", value: "m" }],
      minT: T0,
      maxT: T0 + batch * 1000,
    });
    expect(stored).toHaveLength(40);
    for (const s of stored) expect(Array.from(s.values)).toEqual(Array.from({ length: batch }, (_, k) => k));
    await db.close();
  });

  it("refuses out-of-order, duplicate and out-of-bounds samples and keeps nothing of a rolled-back batch", async () => {
    const clock = new ManualClock(T0);
    const db = await open(tempDir(), clock);
    const up = labelsFrom({ __name__: "up", job: "api" });
    const first = db.appender();
    first.add(up, T0 + 5000, 1);
    first.add(up, T0 + 6000, STALE_NAN);
    expect(await first.commit()).toBe(2);

    const second = db.appender();
    const reasonOf = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof AppendError ? err.reason : String(err);
      }
      return undefined;
    };
    expect(reasonOf(() => second.add(up, T0 + 4000, 1))).toBe("out_of_order");
    expect(reasonOf(() => second.add(up, T0 + 6000, Number.NaN))).toBe("duplicate_sample");
    expect(reasonOf(() => second.add(up, T0 + 6000, STALE_NAN))).toBeUndefined();
    second.add(up, T0 + 7000, 3);
    expect(reasonOf(() => second.add(up, T0 + 7000, 4))).toBe("duplicate_sample");
    expect(reasonOf(() => second.add(up, T0 + 6500, 4))).toBe("out_of_order");
    const other = labelsFrom({ __name__: "up", job: "web" });
    second.add(other, T0 + 7000, 1);
    // Older than the head's newest sample minus an hour (Prometheus's appendable window).
    expect(reasonOf(() => second.add(other, T0 + 6000 - 3_600_001, 1))).toBe("out_of_bounds");
    second.rollback();

    expect(
      db.select({ matchers: [], minT: 0, maxT: T0 + 10_000 }).map((s) => Array.from(s.timestamps)),
    ).toEqual([[T0 + 5000, T0 + 6000]]);
    expect(await db.series({ matcherSets: [], minT: 0, maxT: T0 + 10_000 })).toEqual([up]);
    const [series] = db.select({ matchers: [], minT: 0, maxT: T0 + 10_000 });
    expect(isStaleNaN(series?.values[1] as number)).toBe(true);

    const third = db.appender();
    clock.advance(20 * 86_400_000);
    expect(reasonOf(() => third.add(other, T0 + 8000, 1))).toBeUndefined();
    const late = db.appender();
    expect(reasonOf(() => late.add(other, T0 + 8000, 1))).toBe("out_of_bounds");
    await db.close();
  });

  it("drops at commit the samples a concurrent batch made out of order, and counts only what it wrote", async () => {
    const db = await open(tempDir(), new ManualClock(T0));
    const up = labelsFrom({ __name__: "up", job: "api" });
    const a = db.appender();
    const b = db.appender();
    a.add(up, T0 + 10_000, 1);
    b.add(up, T0 + 5000, 2);
    b.add(up, T0 + 20_000, 3);
    expect(await a.commit()).toBe(1);
    expect(await b.commit()).toBe(1);
    const [series] = db.select({ matchers: [], minT: 0, maxT: T0 + 60_000 });
    expect(Array.from(series?.timestamps ?? [])).toEqual([T0 + 10_000, T0 + 20_000]);
    expect(Array.from(series?.values ?? [])).toEqual([1, 3]);
    await db.close();
  });

  it("refuses a second opening of the same directory until the first is closed", async () => {
    const dir = tempDir();
    const db = await open(dir, new ManualClock(T0));
    await expect(open(dir, new ManualClock(T0))).rejects.toThrow(/open in another Nines process/);
    await db.close();
    const again = await open(dir, new ManualClock(T0));
    await again.close();
  });

  it("deletes samples older than the retention and drops series left empty", async () => {
    const clock = new ManualClock(T0);
    const db = await open(tempDir(), clock, { retentionMs: 6 * 3_600_000 });
    const old = labelsFrom({ __name__: "old" });
    const live = labelsFrom({ __name__: "live" });
    for (let step = 0; step < 24 * 60; step++) {
      const t = T0 + step * 60_000;
      clock.set(t);
      const app = db.appender();
      if (step < 120) app.add(old, t, step);
      app.add(live, t, step);
      await app.commit();
    }
    await db.flush();
    const now = clock.now();
    const result = db.applyRetention();
    expect(result.deletedChunks).toBeGreaterThan(0);
    expect(result.deletedSeries).toBe(1);
    const [series, ...rest] = db.select({ matchers: [], minT: 0, maxT: now });
    expect(rest).toEqual([]);
    expect(series?.labels).toEqual(live);
    const first = series?.timestamps[0] as number;
    // Whole chunks go: what is left starts at most one chunk (120 samples) before the cutoff.
    expect(first).toBeGreaterThanOrEqual(now - 6 * 3_600_000 - 120 * 60_000);
    expect(first).toBeLessThanOrEqual(now - 6 * 3_600_000 + 60_000);
    expect(series?.timestamps[(series?.timestamps.length ?? 0) - 1]).toBe(now);
    expect(await db.labelValues("__name__", { matcherSets: [], minT: 0, maxT: now })).toEqual(["live"]);
    await db.close();
  });

  it("keeps the files under the size limit by deleting the oldest chunks first", async () => {
    const clock = new ManualClock(T0);
    const dir = tempDir();
    const writeDays = async (db: EmbeddedTsdb) => {
      const rand = random(3);
      for (let step = 0; step < 2000; step++) {
        const t = T0 + step * 15_000;
        clock.set(t);
        const app = db.appender();
        for (let i = 0; i < 50; i++) app.add(labelsFrom({ __name__: "g", i: String(i) }), t, rand());
        await app.commit();
      }
      await db.flush();
    };
    const unlimited = await open(dir, clock);
    await writeDays(unlimited);
    const full = unlimited.stats().bytesOnDisk;
    await unlimited.close();
    rmSync(dir, { recursive: true });

    const limit = Math.floor(full / 2);
    const db = await open(dir, clock, { retentionBytes: limit });
    await writeDays(db);
    expect(db.stats().bytesOnDisk).toBeGreaterThan(limit);
    const result = db.applyRetention();
    expect(result.deletedChunks).toBeGreaterThan(0);
    expect(db.stats().bytesOnDisk).toBeLessThanOrEqual(limit);
    const selected = db.select({ matchers: [], minT: 0, maxT: clock.now() });
    expect(selected).toHaveLength(50);
    for (const s of selected) {
      expect(s.timestamps[s.timestamps.length - 1]).toBe(clock.now());
      expect(s.timestamps[0]).toBeGreaterThan(T0);
    }
    await db.close();
  });

  it("stores realistic counters and gauges in under 2 bytes per sample", async () => {
    const clock = new ManualClock(T0);
    const dir = tempDir();
    const db = await open(dir, clock);
    const rand = random(11);
    const series = Array.from({ length: 1000 }, (_, i) => ({
      labels: labelsFrom({
        __name__: i % 2 === 0 ? "http_requests_total" : "memory_usage_ratio",
        instance: `host-${Math.floor(i / 10)}:9100`,
        job: "node",
        path: `/api/v${i % 10}`,
      }),
      counter: i % 2 === 0,
      value: i % 2 === 0 ? Math.floor(rand() * 1e6) : Math.round(rand() * 1000) / 1000,
    }));
    for (let step = 0; step < 1440; step++) {
      const t = T0 + step * 15_000;
      clock.set(t);
      const app = db.appender();
      for (const s of series) {
        if (s.counter) s.value += Math.floor(rand() * 20);
        else s.value = Math.min(1, Math.max(0, Math.round((s.value + (rand() - 0.5) / 50) * 1000) / 1000));
        app.add(s.labels, t, s.value);
      }
      await app.commit();
    }
    await db.flush();
    const flushed = db.stats();
    await db.compact();
    const compacted = db.stats();
    const samples = 1000 * 1440;
    const perSample = (bytes: number) => bytes / samples;
    console.log(
      `bytes per sample: ${perSample(flushed.bytesOnDisk).toFixed(3)} after flush ` +
        `(${flushed.persistedChunks} chunks), ${perSample(compacted.bytesOnDisk).toFixed(3)} after compaction ` +
        `(${compacted.persistedChunks} chunks)`,
      JSON.stringify({ flushed, compacted }),
    );
    expect(compacted.persistedSamples + compacted.headSamples).toBe(samples);
    expect(perSample(compacted.bytesOnDisk)).toBeLessThan(2);
    const [one] = db.select({
      matchers: [{ name: "path", op: "=", value: "/api/v3" }],
      minT: T0,
      maxT: T0 + 1440 * 15_000,
    });
    expect(one?.timestamps.length).toBe(1440);
    await db.close();
  });
});
