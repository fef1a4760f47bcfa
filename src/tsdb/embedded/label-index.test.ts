import { describe, expect, it } from "vitest";
import { type LabelMatcher, type Labels, matcherTest } from "../../promql/index.js";
import { LabelIndex } from "./label-index.js";

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("LabelIndex.select", () => {
  it("selects exactly the series every matcher accepts, whatever their order and selectivity", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const next = random(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const index = new LabelIndex();
      const series: Labels[] = [];
      // Job is common, instance rare, and env missing on some series (a missing label reads as "").
      for (let id = 0; id < 2_000; id++) {
        const labels: Array<{ name: string; value: string }> = [
          { name: "__name__", value: pick(["up", "requests", "errors"]) },
          { name: "instance", value: `host-${Math.floor(next() * 400)}` },
          { name: "job", value: pick(["api", "db"]) },
        ];
        if (next() < 0.7) labels.push({ name: "env", value: pick(["prod", "dev"]) });
        series.push(labels);
        index.add(id, labels);
      }
      const candidates: LabelMatcher[] = [
        { name: "__name__", op: "=", value: "requests" },
        { name: "instance", op: "=", value: `host-${Math.floor(next() * 400)}` },
        { name: "instance", op: "=~", value: "host-1.*" },
        { name: "job", op: "!=", value: "db" },
        { name: "env", op: "=", value: "" },
        { name: "env", op: "!~", value: "prod" },
        { name: "env", op: "=~", value: "prod|" },
        { name: "missing", op: "=", value: "x" },
      ];
      for (let q = 0; q < 30; q++) {
        const matchers = candidates.filter(() => next() < 0.35);
        const tests = matchers.map(matcherTest);
        const expected = series.flatMap((labels, id) => (tests.every((t) => t(labels)) ? [id] : []));
        expect(index.select(matchers), `seed ${seed}: ${JSON.stringify(matchers)}`).toEqual(expected);
      }
    }
  });

  it("returns a copy: changing the answer does not change the index", () => {
    const index = new LabelIndex();
    index.add(0, [{ name: "job", value: "api" }]);
    index.add(1, [{ name: "job", value: "api" }]);
    const first = index.select([{ name: "job", op: "=", value: "api" }]);
    first.push(99);
    expect(index.select([{ name: "job", op: "=", value: "api" }])).toEqual([0, 1]);
  });
});
