import { describe, expect, it } from "vitest";
import { labelsFrom, STALE_NAN } from "../promql/index.js";
import { AppendError, localBackend, MemoryMetricsStore } from "./index.js";

const up = labelsFrom({ __name__: "up", job: "api" });

describe("MemoryMetricsStore", () => {
  it("makes committed samples queryable through the local backend", async () => {
    const store = new MemoryMetricsStore();
    const app = store.appender();
    app.add(up, 1000, 1);
    app.add(up, 16_000, 0);
    expect(await app.commit()).toBe(2);
    const backend = localBackend(store);
    const result = await backend.instantQuery({ query: "up", time: 20_000 });
    expect(result.value).toEqual({ type: "vector", samples: [{ labels: up, t: 20_000, f: 0 }] });
    expect(await backend.labelValues("job", { matcherSets: [], minT: 0, maxT: 20_000 })).toEqual(["api"]);
  });

  it("refuses out-of-order and duplicate samples and keeps nothing of a rolled-back batch", async () => {
    const store = new MemoryMetricsStore();
    const first = store.appender();
    first.add(up, 5000, 1);
    await first.commit();
    const second = store.appender();
    expect(() => second.add(up, 4000, 1)).toThrow(AppendError);
    expect(() => second.add(up, 5000, 2)).toThrow(/duplicate/);
    second.add(up, 5000, 1);
    second.add(up, 6000, STALE_NAN);
    second.rollback();
    const series = store.select({ matchers: [], minT: 0, maxT: 10_000 });
    expect(Array.from(series[0]?.timestamps ?? [])).toEqual([5000]);
  });
});
