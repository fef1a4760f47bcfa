import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock } from "../../platform/clock.js";
import { type Labels, labelsFrom } from "../../promql/index.js";
import { openEmbeddedTsdb } from "./embedded-tsdb.js";

/**
 * A by-hand benchmark of the embedded TSDB, in process: `node dist/tsdb/embedded/bench-embedded-tsdb.js
 * [series] [hours]`. Writes series × hours at 15 s in time order in batches of 2,000 samples (remote_write's
 * default batch), then times a select of every series over the whole range and prints bytes per sample.
 */
async function main(): Promise<void> {
  const seriesCount = Number(process.argv[2] ?? 10_000);
  const hours = Number(process.argv[3] ?? 6);
  const steps = (hours * 3600) / 15;
  const t0 = Date.UTC(2026, 0, 1);
  const clock = new ManualClock(t0);
  const dir = mkdtempSync(join(tmpdir(), "nines-tsdb-bench-"));
  const db = await openEmbeddedTsdb({ dir, clock, retentionIntervalMs: 0, compactionIntervalMs: 0 });
  let seed = 1;
  const rand = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const series: { labels: Labels; counter: boolean; value: number }[] = [];
  for (let i = 0; i < seriesCount; i++) {
    const counter = i % 2 === 0;
    series.push({
      labels: labelsFrom({
        __name__: counter ? "http_requests_total" : "process_resident_memory_ratio",
        instance: `host-${Math.floor(i / 100)}:9100`,
        job: "node",
        handler: `/api/v${i % 100}`,
      }),
      counter,
      value: counter ? Math.floor(rand() * 1e6) : Math.round(rand() * 1000) / 1000,
    });
  }
  let written = 0;
  const started = performance.now();
  let app = db.appender();
  let inBatch = 0;
  for (let step = 0; step < steps; step++) {
    const t = t0 + step * 15_000;
    clock.set(t);
    for (const s of series) {
      if (s.counter) s.value += Math.floor(rand() * 20);
      else s.value = Math.min(1, Math.max(0, Math.round((s.value + (rand() - 0.5) / 50) * 1000) / 1000));
      app.add(s.labels, t, s.value);
      if (++inBatch === 2000) {
        written += await app.commit();
        app = db.appender();
        inBatch = 0;
      }
    }
  }
  written += await app.commit();
  const ingestMs = performance.now() - started;
  const live = db.stats();
  const maxT = t0 + (steps - 1) * 15_000;
  const times: number[] = [];
  let samplesRead = 0;
  for (let i = 0; i < 3; i++) {
    const q = performance.now();
    const result = db.select({ matchers: [{ name: "job", op: "=", value: "node" }], minT: t0, maxT });
    times.push(performance.now() - q);
    samplesRead = result.reduce((n, s) => n + s.timestamps.length, 0);
  }
  const lastHour = performance.now();
  db.select({
    matchers: [{ name: "__name__", op: "=", value: "http_requests_total" }],
    minT: maxT - 3_600_000,
    maxT,
  });
  const lastHourMs = performance.now() - lastHour;
  await db.flush();
  const flushed = db.stats();
  await db.compact();
  const compacted = db.stats();
  console.log(
    JSON.stringify(
      {
        series: seriesCount,
        samples: written,
        ingestSamplesPerSecond: Math.round(written / (ingestMs / 1000)),
        selectAllMs: times.map(Math.round),
        samplesRead,
        selectLastHourHalfSeriesMs: Math.round(lastHourMs),
        bytesPerSampleLive: +(live.bytesOnDisk / written).toFixed(3),
        bytesPerSampleFlushed: +(flushed.bytesOnDisk / written).toFixed(3),
        bytesPerSampleCompacted: +(compacted.bytesOnDisk / written).toFixed(3),
        live,
      },
      null,
      2,
    ),
  );
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
