import { describe, expect, it } from "vitest";
import { labelsFrom } from "../labels.js";
import { MemoryStorage } from "../memory-storage.js";
import { PromqlError } from "../promql-error.js";
import { isStaleNaN, STALE_NAN } from "../storage.js";
import { Engine, type QueryValue } from "./engine.js";

const MIN = 60_000;

function storageWith(series: Record<string, Array<[number, number]>>): MemoryStorage {
  const storage = new MemoryStorage();
  for (const [spec, points] of Object.entries(series)) {
    const [name, rest = ""] = spec.split("{");
    const pairs: Array<[string, string]> = [["__name__", name ?? ""]];
    for (const m of rest.replace(/}$/, "").matchAll(/(\w+)="([^"]*)"/g)) pairs.push([m[1] ?? "", m[2] ?? ""]);
    for (const [t, v] of points) storage.append(labelsFrom(pairs), t, v);
  }
  return storage;
}

function vectorOf(v: QueryValue): Array<[string, number]> {
  if (v.type !== "vector") throw new Error(`expected vector, got ${v.type}`);
  return v.samples.map((s) => [s.labels.map((l) => `${l.name}=${l.value}`).join(","), s.f]);
}

async function failure(p: Promise<unknown>): Promise<PromqlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof PromqlError) return err;
    throw err;
  }
  throw new Error("expected the query to fail");
}

describe("staleness", () => {
  it("keeps the staleness marker's bit pattern through the in-memory store", () => {
    expect(isStaleNaN(STALE_NAN)).toBe(true);
    expect(isStaleNaN(Number.NaN)).toBe(false);
    // Not through an array literal: V8 may canonicalise NaN payloads held in plain double arrays.
    const storage = new MemoryStorage();
    storage.append(labelsFrom({ __name__: "m" }), 0, STALE_NAN);
    const [s] = storage.select({ matchers: [{ name: "__name__", op: "=", value: "m" }], minT: 0, maxT: 1 });
    expect(isStaleNaN(s?.values[0] ?? 0)).toBe(true);
  });

  it("hides a series from the stale marker on, and after the lookback without one", async () => {
    const storage = storageWith({
      m: [
        [0, 1],
        [2 * MIN, 3],
      ],
    });
    storage.append(labelsFrom({ __name__: "m" }), MIN, STALE_NAN);
    const engine = new Engine(storage);
    expect(vectorOf((await engine.instantQuery({ query: "m", time: 30_000 })).value)).toEqual([
      ["__name__=m", 1],
    ]);
    expect(vectorOf((await engine.instantQuery({ query: "m", time: 90_000 })).value)).toEqual([]);
    expect(vectorOf((await engine.instantQuery({ query: "m", time: 2 * MIN })).value)).toEqual([
      ["__name__=m", 3],
    ]);
    expect(vectorOf((await engine.instantQuery({ query: "m", time: 7 * MIN })).value)).toEqual([]);
  });

  it("uses the configured lookback delta", async () => {
    const engine = new Engine(storageWith({ m: [[0, 1]] }), { lookbackDeltaMs: MIN });
    expect(vectorOf((await engine.instantQuery({ query: "m", time: 59_000 })).value)).toHaveLength(1);
    expect(vectorOf((await engine.instantQuery({ query: "m", time: MIN })).value)).toHaveLength(0);
  });
});

describe("limits", () => {
  it("stops a query that would hold more samples than allowed", async () => {
    const points: Array<[number, number]> = Array.from({ length: 100 }, (_, i) => [i * 1000, i]);
    const engine = new Engine(storageWith({ a: points, b: points }), { maxSamples: 50 });
    const err = await failure(engine.rangeQuery({ query: "a + b", start: 0, end: 99_000, step: 1000 }));
    expect(err.type).toBe("too_many_samples");
    expect(err.message).toBe("query processing would load too many samples into memory in query execution");
  });

  it("stops on an aborted signal and on the timeout", async () => {
    const engine = new Engine(storageWith({ a: [[0, 1]] }));
    const ctl = new AbortController();
    ctl.abort();
    expect((await failure(engine.instantQuery({ query: "a", time: 0, signal: ctl.signal }))).type).toBe(
      "canceled",
    );
    const slow = new Engine(storageWith({ a: [[0, 1]] }), { timeoutMs: -1 });
    const err = await failure(slow.rangeQuery({ query: "a", start: 0, end: 1000, step: 1 }));
    expect(err.type).toBe("timeout");
  });

  it("rejects range vectors as the result of a range query", async () => {
    const engine = new Engine(storageWith({ a: [[0, 1]] }));
    const err = await failure(engine.rangeQuery({ query: "a[5m]", start: 0, end: MIN, step: MIN }));
    expect(err.message).toBe(
      'invalid expression type "range vector" for range query, must be Scalar or instant Vector',
    );
  });
});

describe("evaluation", () => {
  it("fetches no sample at the open end of a range or look-back", async () => {
    const storage = storageWith({ x: [0, 1, 2, 3, 4].map((i): [number, number] => [i * MIN, i]) });
    const asked: number[] = [];
    const engine = new Engine({
      ...storage,
      select: (request) => {
        asked.push(request.minT);
        return storage.select(request);
      },
    });
    // (2m, 4m] holds the samples at 3m and 4m: the one at 2m is not read.
    const range = await engine.instantQuery({ query: "count_over_time(x[2m])", time: 4 * MIN });
    expect(vectorOf(range.value)).toEqual([["", 2]]);
    // The 5-minute look-back from 9m, (4m, 9m], no longer finds the sample at 4m.
    const instant = await engine.rangeQuery({ query: "x", start: 6 * MIN, end: 9 * MIN, step: MIN });
    expect(instant.value.type === "matrix" ? instant.value.series[0]?.points.map((p) => p.t) : []).toEqual([
      6 * MIN,
      7 * MIN,
      8 * MIN,
    ]);
    expect(asked).toEqual([2 * MIN + 1, 6 * MIN - 5 * MIN + 1]);
  });

  it("evaluates a long range query over many series quickly", async () => {
    const storage = new MemoryStorage();
    for (let s = 0; s < 50; s++) {
      const labels = labelsFrom({ __name__: "req_total", pod: `p${s}` });
      for (let t = 0; t <= 24 * 60; t++) storage.append(labels, t * 15_000, t * s);
    }
    const engine = new Engine(storage);
    const started = performance.now();
    const res = await engine.rangeQuery({
      query: "sum(rate(req_total[5m]))",
      start: 0,
      end: 6 * 3600_000,
      step: 15_000,
    });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(res.value.type === "matrix" ? res.value.series[0]?.points.length : 0).toBe(1440);
  });

  it("evaluates subqueries on steps aligned to the subquery step", async () => {
    const points: Array<[number, number]> = Array.from({ length: 31 }, (_, i) => [i * MIN, i]);
    const engine = new Engine(storageWith({ x: points }));
    const res = await engine.instantQuery({ query: "count_over_time(x[10m:2m])", time: 20 * MIN + 30_000 });
    expect(vectorOf(res.value)).toEqual([["", 5]]);
  });

  it("resolves @ start() and @ end() against the whole range query", async () => {
    const points: Array<[number, number]> = Array.from({ length: 11 }, (_, i) => [i * MIN, i]);
    const engine = new Engine(storageWith({ x: points }));
    const res = await engine.rangeQuery({
      query: "x @ end() - x @ start()",
      start: 2 * MIN,
      end: 5 * MIN,
      step: MIN,
    });
    expect(res.value.type === "matrix" ? res.value.series[0]?.points.map((p) => p.f) : []).toEqual([
      3, 3, 3, 3,
    ]);
  });

  it("removes the metric name only at the end, so label_replace can still read it", async () => {
    const engine = new Engine(
      storageWith({
        'x_total{a="1"}': [
          [0, 0],
          [MIN, 60],
        ],
      }),
    );
    const res = await engine.instantQuery({
      query: 'label_replace(rate(x_total[5m]), "source", "$1", "__name__", "(.+)")',
      time: MIN,
    });
    // Two samples 1m apart in a 5m window: extrapolated back to the counter's zero only.
    expect(vectorOf(res.value)).toEqual([["a=1,source=x_total", 0.2]]);
  });

  it("computes classic histogram quantiles from le buckets", async () => {
    const engine = new Engine(
      storageWith({
        'h_bucket{le="0.1"}': [[0, 10]],
        'h_bucket{le="0.5"}': [[0, 30]],
        'h_bucket{le="+Inf"}': [[0, 40]],
      }),
    );
    const res = await engine.instantQuery({ query: "histogram_quantile(0.5, h_bucket)", time: 0 });
    const [[labels, value] = ["", 0]] = vectorOf(res.value);
    expect(labels).toBe("");
    expect(value).toBeCloseTo(0.3, 12);
  });

  it("matches regular expressions with Go syntax, anchored", async () => {
    const engine = new Engine(storageWith({ 'm{a="Foo"}': [[0, 1]], 'm{a="xfoo"}': [[0, 2]] }));
    const res = await engine.instantQuery({ query: 'm{a=~"(?i:f)oo"}', time: 0 });
    expect(vectorOf(res.value)).toEqual([["__name__=m,a=Foo", 1]]);
  });

  it("refuses many-to-many matching with Prometheus's message", async () => {
    const engine = new Engine(
      storageWith({ 'a{x="1",y="1"}': [[0, 1]], 'a{x="1",y="2"}': [[0, 1]], 'b{x="1"}': [[0, 1]] }),
    );
    const err = await failure(engine.instantQuery({ query: "b + on(x) a", time: 0 }));
    expect(err.message).toMatch(
      /^found duplicate series for the match group \{x="1"\} on the right hand-side/,
    );
    expect(err.message).toMatch(
      /many-to-many matching not allowed: matching labels must be unique on one side$/,
    );
  });
});

describe("topk and bottomk", () => {
  // Prometheus keeps the first k samples in a heap and replaces its least wanted one only with a strictly
  // better sample; the heap's own moves decide which of several equal values survive.
  function series(values: Record<string, number>): MemoryStorage {
    return storageWith(Object.fromEntries(Object.entries(values).map(([s, v]) => [`m{s="${s}"}`, [[0, v]]])));
  }

  function kept(v: QueryValue): string[] {
    if (v.type !== "matrix") throw new Error(`expected matrix, got ${v.type}`);
    return v.series.map((s) => s.labels.map((l) => `${l.name}=${l.value}`).join(",")).sort();
  }

  it("keeps the same one of equal values at the cut as Prometheus's heap does", async () => {
    const engine = new Engine(series({ a: 1, b: 1, c: 1, d: 2 }));
    const res = await engine.rangeQuery({ query: "topk(2, m)", start: 0, end: MIN, step: MIN });
    expect(kept(res.value)).toEqual(["__name__=m,s=b", "__name__=m,s=d"]);
  });

  it("keeps the same one of equal values at the cut for bottomk", async () => {
    const engine = new Engine(series({ a: 2, b: 2, c: 2, d: 1 }));
    const res = await engine.rangeQuery({ query: "bottomk(2, m)", start: 0, end: MIN, step: MIN });
    expect(kept(res.value)).toEqual(["__name__=m,s=b", "__name__=m,s=d"]);
  });

  it("lists an instant query's topk from the largest value, NaN last", async () => {
    const engine = new Engine(series({ a: Number.NaN, b: 3, c: 1, d: 2 }));
    const res = await engine.instantQuery({ query: "topk(3, m)", time: 0 });
    expect(vectorOf(res.value)).toEqual([
      ["__name__=m,s=b", 3],
      ["__name__=m,s=d", 2],
      ["__name__=m,s=c", 1],
    ]);
  });
});

describe("aggregations over a range function at one step", () => {
  /** Counters (one with a reset), a gauge with NaN, ±Inf and a staleness marker, lone samples, two names. */
  function mixedStorage(): MemoryStorage {
    const storage = new MemoryStorage();
    const add = (pairs: Record<string, string>, values: number[], every = 15_000, from = 0) => {
      const labels = labelsFrom(pairs);
      for (let i = 0; i < values.length; i++) storage.append(labels, from + i * every, values[i] as number);
    };
    for (let i = 0; i < 12; i++) {
      const job = i % 3 === 0 ? "api" : "web";
      add({ __name__: "req_total", job, pod: `p${i}`, code: i % 4 === 0 ? "500" : "200" }, [
        0,
        3 * i,
        7 * i,
        i % 5 === 0 ? 2 : 9 * i,
        11 * i,
        13 * i + 1,
      ]);
    }
    add({ __name__: "temperature", job: "api", pod: "g1" }, [1, Number.NaN, 3, 4, 5, 6]);
    add({ __name__: "temperature", job: "api", pod: "g2" }, [1, 2, Number.POSITIVE_INFINITY, 4, 5, -1]);
    add({ __name__: "temperature", job: "web", pod: "g3" }, [2, 2, 2]);
    // Not through an array literal, which may lose the marker's bit pattern (see above).
    storage.append(labelsFrom({ __name__: "temperature", job: "web", pod: "g3" }), 45_000, STALE_NAN);
    add({ __name__: "temperature", job: "web", pod: "g3" }, [2, 2], 15_000, 60_000);
    add({ __name__: "temperature", job: "web", pod: "g4" }, [5], 15_000, 75_000);
    add({ __name__: "temperature", job: "db", pod: "g5" }, [5, -1e308, -1e308, 1e308, 1e308, 7]);
    return storage;
  }

  const QUERIES = [
    "sum by (job) (rate(req_total[1m]))",
    "sum by (job, code) (increase(req_total[45s]))",
    "sum without (pod) (rate(req_total[1m]))",
    "sum(irate(req_total[1m] offset 15s))",
    "avg by (job) (delta(temperature[1m]))",
    "avg by (job) (avg_over_time(temperature[1m]))",
    'count by (job) (rate({__name__=~"req_total|temperature"}[1m]))',
    "group by (code) (changes(req_total[1m]))",
    "min by (job) (min_over_time(temperature[1m]))",
    "max by (job) (max_over_time(temperature[1m]))",
    "stddev by (job) (sum_over_time(temperature[1m]))",
    "stdvar without (pod) (resets(req_total[90s]))",
    'sum by (__name__) (last_over_time({job="api"}[1m]))',
    'sum by (__name__) (rate({job="api"}[1m]))',
    "max by (job) (quantile_over_time(0.9, temperature[1m]))",
    "sum by (job) (predict_linear(req_total[1m], 60))",
    "sum by (job) ((rate(req_total[1m] @ 60)))",
    "sum(rate(temperature[1m]))",
  ];

  it("answers as the same aggregation over the function's series does, with the same warnings", async () => {
    const engine = new Engine(mixedStorage());
    for (const query of QUERIES) {
      // A unary plus leaves the values alone and takes the query off the one-step path.
      const alone = query.replace(/\((\(?)(\w+)\(/, "($1+$2(");
      expect(alone, query).not.toBe(query);
      for (const time of [60_000, 75_000, 90_000]) {
        const outcome = (q: string) =>
          engine.instantQuery({ query: q, time }).catch((err: PromqlError) => `${err.type}: ${err.message}`);
        expect(await outcome(query), `${query} at ${time}`).toEqual(await outcome(alone));
      }
    }
  });

  it("counts the samples it holds as the same aggregation over the function's series does", async () => {
    const query = "sum by (job) (rate(req_total[1m]))";
    for (let maxSamples = 1; maxSamples <= 60; maxSamples++) {
      const engine = new Engine(mixedStorage(), { maxSamples });
      const outcome = (q: string) =>
        engine.instantQuery({ query: q, time: 75_000 }).then(
          (r) => r.value,
          (err: PromqlError) => err.type,
        );
      expect(await outcome(query), `maxSamples ${maxSamples}`).toEqual(
        await outcome("sum by (job) (+rate(req_total[1m]))"),
      );
    }
  });
});
