import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openEmbeddedTsdb } from "./index.js";

// The global setup compiles src to dist before the tests; the child process runs the compiled store.
const MODULE = resolve(import.meta.dirname, "../../../dist/tsdb/embedded/index.js");
const FIXED_SERIES = 50;

/** Commits batch after batch (50 known series plus one new series each) and prints each committed number. */
const CHILD = `
const { openEmbeddedTsdb } = await import(process.env.TSDB_MODULE);
const base = Number(process.env.TSDB_BASE);
const db = await openEmbeddedTsdb({
  dir: process.env.TSDB_DIR, retentionIntervalMs: 0, compactionIntervalMs: 0,
  walCheckpointBytes: 48 * 1024, flushChunks: 20, checkpointSliceSeries: 7,
});
for (let b = Number(process.env.TSDB_FIRST); ; b++) {
  const app = db.appender();
  for (let i = 0; i < ${FIXED_SERIES}; i++) {
    app.add([{ name: "__name__", value: "fixed" }, { name: "i", value: String(i) }], base + b * 1000, b * 1000 + i);
  }
  app.add([{ name: "__name__", value: "per_batch" }, { name: "batch", value: String(b) }], base + b * 1000, b);
  await app.commit();
  process.stdout.write(b + "\\n");
}
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts the writer, kills it with SIGKILL once it has printed `atLeast` batches; returns the last printed. */
function writeUntilKilled(dir: string, base: number, first: number, atLeast: number): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
      env: {
        ...process.env,
        TSDB_MODULE: pathToFileURL(MODULE).href,
        TSDB_DIR: dir,
        TSDB_BASE: String(base),
        TSDB_FIRST: String(first),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let lastSeen = 0;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      const lines = out.split("\n");
      out = lines.pop() ?? "";
      for (const line of lines) lastSeen = Math.max(lastSeen, Number(line));
      if (lastSeen >= atLeast && child.exitCode === null && !child.killed) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") done(lastSeen);
      else fail(new Error(`the writer exited by itself: ${err}`));
    });
  });
}

describe("EmbeddedTsdb durability", () => {
  it("keeps every batch a killed writer saw committed, and no half batch", { timeout: 60_000 }, async () => {
    expect(existsSync(MODULE), "run the build (the test setup does) before this test").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "nines-tsdb-kill-"));
    dirs.push(dir);
    const base = Date.now();
    let lastSeen = await writeUntilKilled(dir, base, 1, 400);

    // A write torn by a crash leaves garbage after the last record: it must be skipped, not fail the start.
    const walDir = join(dir, "wal");
    const segments = readdirSync(walDir).sort();
    const newest = segments[segments.length - 1];
    if (newest !== undefined) appendFileSync(join(walDir, newest), Buffer.from([200, 0, 0, 0, 1, 2, 3]));

    for (let round = 0; round < 2; round++) {
      const db = await openEmbeddedTsdb({ dir, retentionIntervalMs: 0, compactionIntervalMs: 0 });
      const fixed = db.select({
        matchers: [{ name: "__name__", op: "=", value: "fixed" }],
        minT: base,
        maxT: base + 10_000_000,
      });
      expect(fixed).toHaveLength(FIXED_SERIES);
      const batches = (fixed[0]?.timestamps.length ?? 0) as number;
      expect(batches).toBeGreaterThanOrEqual(lastSeen);
      for (const s of fixed) {
        const i = Number(s.labels.find((l) => l.name === "i")?.value);
        // Every fixed series has every batch from 1 to the last one, with the value written.
        expect(Array.from(s.timestamps)).toEqual(
          Array.from({ length: batches }, (_, k) => base + (k + 1) * 1000),
        );
        expect(Array.from(s.values)).toEqual(Array.from({ length: batches }, (_, k) => (k + 1) * 1000 + i));
      }
      const perBatch = await db.series({
        matcherSets: [[{ name: "__name__", op: "=", value: "per_batch" }]],
        minT: base,
        maxT: base + 10_000_000,
      });
      expect(perBatch).toHaveLength(batches);
      await db.close();
      // A second writer continues the numbering on the reopened directory and is killed in turn.
      if (round === 0) lastSeen = await writeUntilKilled(dir, base, batches + 1, batches + 150);
    }
  });
});
