import { describe, expect, it } from "vitest";
import { labelsFrom } from "../../promql/index.js";
import { ExpositionError } from "./exposition.js";
import { parseOpenMetrics } from "./openmetrics-parser.js";
import { parseExposition } from "./parse-exposition.js";
import { parseGoFloat, parsePrometheusText } from "./prometheus-text-parser.js";

const reject = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ExpositionError);
    return (error as ExpositionError).message;
  }
  throw new Error("expected the page to be rejected");
};

describe("the Prometheus text format", () => {
  it("reads HELP and TYPE, skips other comments and blank lines, and keeps label escapes", () => {
    const page = parsePrometheusText(
      [
        "# HELP http_requests_total Requests\\nby code, with \\\\ backslash.",
        "# TYPE http_requests_total counter",
        "# a free comment that Prometheus ignores",
        "",
        'http_requests_total{code="200",path="/a\\"b\\\\c\\nd"} 1027 1395066363000',
        'http_requests_total{code="400",} 3',
        "   ",
        "plain\t42",
      ].join("\n"),
    );
    expect(page.metadata).toEqual([
      {
        name: "http_requests_total",
        type: "counter",
        help: "Requests\nby code, with \\ backslash.",
        unit: "",
      },
    ]);
    expect(page.samples).toEqual([
      {
        labels: labelsFrom({
          __name__: "http_requests_total",
          code: "200",
          path: 'a"b\\c\nd'.replace(/^/, "/"),
        }),
        value: 1027,
        timestampMs: 1395066363000,
      },
      { labels: labelsFrom({ __name__: "http_requests_total", code: "400" }), value: 3 },
      { labels: labelsFrom({ __name__: "plain" }), value: 42 },
    ]);
  });

  it("reads +Inf, -Inf, NaN, exponents and Go hex floats", () => {
    const page = parsePrometheusText("a +Inf\nb -Inf\nc NaN\nd 1.5e-3\ne 0x1p-3\nf Inf\n");
    expect(page.samples.map((s) => s.value)).toEqual([
      Infinity,
      -Infinity,
      Number.NaN,
      0.0015,
      0.125,
      Infinity,
    ]);
    expect(parseGoFloat("0x1")).toBeNull();
    expect(parseGoFloat("1_000")).toBeNull();
  });

  it("gives histograms and summaries as their plain series, with empty label values dropped", () => {
    const page = parsePrometheusText(
      [
        "# TYPE rpc_seconds summary",
        'rpc_seconds{quantile="0.5"} 0.2',
        "rpc_seconds_sum 17",
        "rpc_seconds_count 100",
        "# TYPE req_seconds histogram",
        'req_seconds_bucket{le="0.1",path=""} 5',
        'req_seconds_bucket{le="+Inf"} 9',
        "req_seconds_sum 3.5",
        "req_seconds_count 9",
      ].join("\n"),
    );
    expect(page.samples.map((s) => s.labels.map((l) => `${l.name}=${l.value}`).join(","))).toEqual([
      "__name__=rpc_seconds,quantile=0.5",
      "__name__=rpc_seconds_sum",
      "__name__=rpc_seconds_count",
      "__name__=req_seconds_bucket,le=0.1",
      "__name__=req_seconds_bucket,le=+Inf",
      "__name__=req_seconds_sum",
      "__name__=req_seconds_count",
    ]);
    expect(page.metadata.map((m) => m.type)).toEqual(["summary", "histogram"]);
  });

  it("rejects garbage, bad names, duplicate label names, bad timestamps and unknown types with a line", () => {
    expect(reject(() => parsePrometheusText("<html><body>oops</body></html>"))).toMatch(/^line 1: /);
    expect(reject(() => parsePrometheusText("ok 1\nfoo-bar 1"))).toMatch(/^line 2: /);
    expect(reject(() => parsePrometheusText('a{x="1",x="2"} 1'))).toMatch(/duplicate label name x/);
    expect(reject(() => parsePrometheusText("a 1 1.5"))).toMatch(/invalid timestamp/);
    expect(reject(() => parsePrometheusText("a 1 2 3"))).toMatch(/value and an optional timestamp/);
    expect(reject(() => parsePrometheusText("a one"))).toMatch(/invalid value/);
    expect(reject(() => parsePrometheusText("# TYPE a gaugehistogram"))).toMatch(/unknown metric type/);
    expect(reject(() => parsePrometheusText('a{x="1} 1'))).toMatch(/not closed/);
  });
});

describe("OpenMetrics", () => {
  it("turns timestamps in seconds into milliseconds and drops exemplars", () => {
    const page = parseOpenMetrics(
      '# TYPE a counter\n# UNIT a \na_total 3 1700000000.123 # {trace_id="abc"} 1 1700000000\n# EOF\n',
    );
    expect(page.samples).toEqual([
      { labels: labelsFrom({ __name__: "a_total" }), value: 3, timestampMs: 1700000000123 },
    ]);
    expect(page.metadata).toEqual([{ name: "a", type: "counter", help: "", unit: "" }]);
  });

  it("needs # EOF and counters' _total suffix", () => {
    expect(reject(() => parseOpenMetrics("a 1\n"))).toMatch(/missing # EOF/);
    expect(reject(() => parseOpenMetrics("# TYPE a counter\na 1\n# EOF\n"))).toMatch(/clashes/);
  });
});

describe("choosing the parser by Content-Type", () => {
  it("uses OpenMetrics for application/openmetrics-text and the text format otherwise", () => {
    const om = "a_total 1\n# EOF\n";
    expect(parseExposition(om, "application/openmetrics-text; version=1.0.0; charset=utf-8").format).toBe(
      "openmetrics",
    );
    expect(parseExposition("a 1\n", "text/plain; version=0.0.4").format).toBe("prometheus-text");
    expect(parseExposition("a 1\n", undefined).format).toBe("prometheus-text");
    expect(() => parseExposition("a 1\n", "application/openmetrics-text")).toThrow(/missing # EOF/);
  });
});
