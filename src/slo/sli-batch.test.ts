import { describe, expect, it } from "vitest";
import { parseExpr } from "../promql/index.js";
import { sliBatches } from "./sli-batch.js";

const batchesOf = (queries: string[], minMembers = 2) =>
  sliBatches(new Map(queries.map((q) => [q, parseExpr(q)])), minMembers);

describe("sliBatches", () => {
  it("groups queries that differ only in one label's value into one query by that label", () => {
    const queries = ["a", "b", "c"].map(
      (v) => `sum(rate(http_requests_total{job="api", slo="${v}", code=~"5.."}[1m] offset 30s))`,
    );
    const [batch, ...rest] = batchesOf(queries);
    expect(rest).toEqual([]);
    expect(batch?.label).toBe("slo");
    expect(batch?.query).toBe(
      'sum by (slo) (rate({__name__="http_requests_total", code=~"5..", job="api"}[1m] offset 30s))',
    );
    expect(() => parseExpr(batch?.query ?? "")).not.toThrow();
    expect([...(batch?.members ?? [])]).toEqual([
      ["a", [queries[0]]],
      ["b", [queries[1]]],
      ["c", [queries[2]]],
    ]);
  });

  it("picks the label whose values differ when a selector names several", () => {
    const queries = ["a", "b", "c"].map((v) => `sum(increase(req_total{job="api", slo="${v}"}[1m]))`);
    expect(batchesOf(queries).map((b) => b.label)).toEqual(["slo"]);
  });

  it("leaves out queries of other forms and shapes with too few queries", () => {
    expect(
      batchesOf([
        'sum by (route) (rate(req_total{slo="a"}[1m]))',
        'sum(rate(req_total{slo="b"}[1m])) * 1',
        'sum(rate(req_total{slo="c"}[1m] @ 1700000000))',
        'sum(rate({slo="d"}[1m]))',
        'sum(rate(req_total{slo=~"e"}[1m]))',
        'count(rate(req_total{slo="f"}[1m]))',
      ]),
    ).toEqual([]);
    expect(batchesOf(['sum(rate(req_total{slo="a"}[1m]))', 'sum(rate(req_total{slo="b"}[1m]))'], 3)).toEqual(
      [],
    );
  });
});
