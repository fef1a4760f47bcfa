import { describe, expect, it } from "vitest";
import { labelsFrom } from "../../promql/index.js";
import { errorJson, formatTimestamp, formatValue, queryResultJson } from "./prom-json.js";

describe("Prometheus JSON rendering", () => {
  it("writes values as Go's FormatFloat(f, 'f', -1, 64), as Prometheus 2.42 answers", () => {
    // Each expected text is what Prometheus 2.42 answered for the same scalar query.
    const cases: Array<[number, string]> = [
      [1, "1"],
      [0.1, "0.1"],
      [-2.5, "-2.5"],
      [0, "0"],
      [-0, "-0"],
      [1e-7, "0.0000001"],
      [1.5e-10, "0.00000000015"],
      [1e21, "1000000000000000000000"],
      [1.5e22, "15000000000000000000000"],
      [-1.25e-8, "-0.0000000125"],
      [1 / 3, "0.3333333333333333"],
      [123456789.125, "123456789.125"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "+Inf"],
      [Number.NEGATIVE_INFINITY, "-Inf"],
    ];
    for (const [f, text] of cases) expect(formatValue(f), String(f)).toBe(text);
    expect(formatValue(1.5e300)).toBe(`15${"0".repeat(299)}`);
  });

  it("writes timestamps as seconds with their milliseconds", () => {
    expect(formatTimestamp(1435781451781)).toBe("1435781451.781");
    expect(formatTimestamp(1435781451050)).toBe("1435781451.050");
    expect(formatTimestamp(1435781451007)).toBe("1435781451.007");
    expect(formatTimestamp(1435781451000)).toBe("1435781451");
    expect(formatTimestamp(-1500)).toBe("-1.500");
    expect(formatTimestamp(0)).toBe("0");
  });

  it("renders each result type in Prometheus's shape", () => {
    const labels = labelsFrom({ __name__: "up", job: 'a"b' });
    expect(queryResultJson({ value: { type: "scalar", t: 1000, f: 2 }, warnings: [], infos: [] })).toBe(
      '{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}',
    );
    expect(queryResultJson({ value: { type: "string", t: 1500, value: "x" }, warnings: [], infos: [] })).toBe(
      '{"status":"success","data":{"resultType":"string","result":[1.500,"x"]}}',
    );
    expect(
      JSON.parse(
        queryResultJson({
          value: { type: "vector", samples: [{ labels, t: 2000, f: Number.NaN }] },
          warnings: ["PromQL warning: w"],
          infos: ["PromQL info: i"],
        }),
      ),
    ).toEqual({
      status: "success",
      data: { resultType: "vector", result: [{ metric: { __name__: "up", job: 'a"b' }, value: [2, "NaN"] }] },
      warnings: ["PromQL warning: w"],
      infos: ["PromQL info: i"],
    });
    expect(
      JSON.parse(
        queryResultJson({
          value: {
            type: "matrix",
            series: [
              {
                labels: [],
                points: [
                  { t: 1, f: 1 },
                  { t: 2, f: -1 },
                ],
              },
            ],
          },
          warnings: [],
          infos: [],
        }),
      ),
    ).toEqual({
      status: "success",
      data: {
        resultType: "matrix",
        result: [
          {
            metric: {},
            values: [
              [0.001, "1"],
              [0.002, "-1"],
            ],
          },
        ],
      },
    });
  });

  it("maps error types to Prometheus's statuses; too many samples is an execution error", () => {
    expect(errorJson("bad_data", "m")).toEqual({
      status: 400,
      body: '{"status":"error","errorType":"bad_data","error":"m"}',
    });
    expect(errorJson("execution", "m").status).toBe(422);
    expect(errorJson("too_many_samples", "m")).toEqual({
      status: 422,
      body: '{"status":"error","errorType":"execution","error":"m"}',
    });
    expect(errorJson("timeout", "m").status).toBe(503);
    expect(errorJson("canceled", "m").status).toBe(503);
    expect(errorJson("internal", "m").status).toBe(500);
  });
});
