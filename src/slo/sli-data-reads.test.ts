import { describe, expect, it } from "vitest";
import { parseExpr } from "../promql/index.js";
import { presenceQuery, sliDataReads } from "./sli-data-reads.js";

const reads = (query: string) => sliDataReads(parseExpr(query));

describe("sliDataReads", () => {
  it("finds the range selector a ratio query reads, with its range and offset", () => {
    expect(reads('sum by (route) (rate(http_requests_total{code=~"5.."}[1m] offset 5m))')).toEqual([
      {
        matchers: [
          { name: "__name__", op: "=", value: "http_requests_total" },
          { name: "code", op: "=~", value: "5.." },
        ],
        rangeMs: 60_000,
        offsetMs: 300_000,
      },
    ]);
  });

  it("follows functions, scalar arithmetic and the side of a binary operation that must have samples", () => {
    const a = { matchers: [{ name: "__name__", op: "=", value: "a" }], rangeMs: 60_000, offsetMs: 0 };
    const b = { matchers: [{ name: "__name__", op: "=", value: "b" }], rangeMs: 60_000, offsetMs: 0 };
    expect(reads("1 - sum(rate(a[1m]))")).toEqual([a]);
    expect(reads("histogram_quantile(0.9, sum by (le) (rate(a[1m])))")).toEqual([a]);
    expect(reads("sum(rate(a[1m])) / sum(rate(b[1m]))")).toEqual([a]);
    expect(reads("sum(rate(a[1m])) unless sum(rate(b[1m]))")).toEqual([a]);
    expect(reads("sum(rate(a[1m])) or sum(rate(b[1m]))")).toEqual([a, b]);
  });

  it("gives up on queries that can answer without samples or read in ways it does not follow", () => {
    expect(reads("sum(rate(a[1m])) or vector(0)")).toBeNull();
    expect(reads("absent_over_time(a[1m])")).toBeNull();
    expect(reads("scalar(sum(rate(a[1m]))) * 2")).toBeNull();
    expect(reads("sum(a)")).toBeNull();
    expect(reads("sum(rate(a[1m] @ 1700000000))")).toBeNull();
    expect(reads("sum(max_over_time(rate(a[1m])[5m:1m]))")).toBeNull();
  });
});

describe("presenceQuery", () => {
  it("counts the read's samples per block as a query that parses", () => {
    const [read] = reads('sum(rate(x{path="/a\\"b", code!~"2.."}[1m] offset 1h))') ?? [];
    expect(read).toBeDefined();
    const query = read ? presenceQuery(read, 3_600_000) : null;
    expect(query).toBe('sum(count_over_time({__name__="x", path="/a\\"b", code!~"2.."}[3600s]))');
    expect(() => parseExpr(query ?? "")).not.toThrow();
  });
});
