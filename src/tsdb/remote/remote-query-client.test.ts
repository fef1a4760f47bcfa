import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsFrom, PromqlError } from "../../promql/index.js";
import { type RemoteBackend, remoteBackend } from "./remote-backend.js";
import { formatSelector, parseValue } from "./remote-query-client.js";

interface Seen {
  method: string;
  path: string;
  params: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

/** A Prometheus HTTP API stand-in: answers with whatever `reply` says, records each request. */
let server: Server;
let base: string;
const seen: Seen[] = [];
let reply: { status: number; body: string; hang?: boolean } = { status: 200, body: "{}" };
let backend: RemoteBackend;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const url = new URL(req.url ?? "/", "http://x");
    const params = req.method === "GET" ? url.searchParams : new URLSearchParams(body);
    seen.push({ method: req.method ?? "", path: url.pathname, params, headers: req.headers });
    if (reply.hang === true) return;
    res.statusCode = reply.status;
    res.setHeader("Content-Type", "application/json");
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prometheus`;
  backend = remoteBackend({
    writeUrl: `${base}/api/v1/write`,
    queryUrl: base,
    headers: { "X-Scope-OrgID": "team-a" },
    queryTimeoutMs: 30_000,
  });
});

afterAll(async () => {
  await backend.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const success = (data: unknown, extra: object = {}) => ({
  status: 200,
  body: JSON.stringify({ status: "success", data, ...extra }),
});

describe("remote query API client", () => {
  it("POSTs an instant query as a form with time and timeout in seconds, under the base URL's path", async () => {
    reply = success(
      {
        resultType: "vector",
        result: [
          { metric: { __name__: "up", job: "b", instance: "x" }, value: [1700000000.5, "1"] },
          { metric: { job: "a" }, value: [1700000000.5, "NaN"] },
          { metric: { job: "c" }, value: [1700000000.5, "+Inf"] },
          { metric: { job: "d" }, value: [1700000000.5, "-Inf"] },
        ],
      },
      { warnings: ["PromQL warning: something"], infos: ["PromQL info: else"] },
    );
    const result = await backend.instantQuery({
      query: "up",
      time: 1_700_000_000_500,
      lookbackDeltaMs: 60_000,
    });
    const request = seen.at(-1);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/prometheus/api/v1/query");
    expect(Object.fromEntries(request?.params ?? [])).toEqual({
      query: "up",
      time: "1700000000.500",
      timeout: "30",
      lookback_delta: "60",
    });
    expect(request?.headers["x-scope-orgid"]).toBe("team-a");
    expect(result.value).toEqual({
      type: "vector",
      samples: [
        { labels: labelsFrom({ __name__: "up", instance: "x", job: "b" }), t: 1_700_000_000_500, f: 1 },
        { labels: labelsFrom({ job: "a" }), t: 1_700_000_000_500, f: Number.NaN },
        { labels: labelsFrom({ job: "c" }), t: 1_700_000_000_500, f: Number.POSITIVE_INFINITY },
        { labels: labelsFrom({ job: "d" }), t: 1_700_000_000_500, f: Number.NEGATIVE_INFINITY },
      ],
    });
    expect(result.warnings).toEqual(["PromQL warning: something"]);
    expect(result.infos).toEqual(["PromQL info: else"]);
  });

  it("reads range queries as matrices and scalars and strings as such", async () => {
    reply = success({
      resultType: "matrix",
      result: [
        {
          metric: { job: "a" },
          values: [
            [10, "1.5"],
            [25, "1e+21"],
          ],
        },
      ],
    });
    const range = await backend.rangeQuery({ query: "x", start: 10_000, end: 25_000, step: 15_000 });
    expect(Object.fromEntries(seen.at(-1)?.params ?? [])).toMatchObject({
      start: "10",
      end: "25",
      step: "15",
    });
    expect(range.value).toEqual({
      type: "matrix",
      series: [
        {
          labels: labelsFrom({ job: "a" }),
          points: [
            { t: 10_000, f: 1.5 },
            { t: 25_000, f: 1e21 },
          ],
        },
      ],
    });
    reply = success({ resultType: "scalar", result: [12.345, "-0.25"] });
    expect((await backend.instantQuery({ query: "-0.25", time: 12_345 })).value).toEqual({
      type: "scalar",
      t: 12_345,
      f: -0.25,
    });
    reply = success({ resultType: "string", result: [1, "hello"] });
    expect((await backend.instantQuery({ query: '"hello"', time: 1000 })).value).toEqual({
      type: "string",
      t: 1000,
      value: "hello",
    });
  });

  it("leaves native histogram samples out with a warning rather than failing", async () => {
    reply = success({
      resultType: "vector",
      result: [
        { metric: { job: "a" }, value: [1, "2"] },
        { metric: { job: "h" }, histogram: [1, { count: "1", sum: "1", buckets: [] }] },
      ],
    });
    const result = await backend.instantQuery({ query: "x", time: 1000 });
    expect(result.value).toEqual({
      type: "vector",
      samples: [{ labels: labelsFrom({ job: "a" }), t: 1000, f: 2 }],
    });
    expect(result.warnings[0]).toMatch(/native histogram/);
  });

  it("turns Prometheus's error envelope into a PromqlError of the same type and message", async () => {
    reply = {
      status: 400,
      body: JSON.stringify({
        status: "error",
        errorType: "bad_data",
        error: '1:5: parse error: unexpected "}"',
      }),
    };
    await expect(backend.instantQuery({ query: "up}", time: 0 })).rejects.toEqual(
      new PromqlError("bad_data", '1:5: parse error: unexpected "}"'),
    );
    reply = {
      status: 422,
      body: JSON.stringify({ status: "error", errorType: "execution", error: "many-to-many matching" }),
    };
    await expect(backend.rangeQuery({ query: "a + b", start: 0, end: 1, step: 1 })).rejects.toMatchObject({
      type: "execution",
      message: "many-to-many matching",
    });
  });

  it("reports a 5xx without Prometheus's body, or no server at all, as unavailable (type timeout)", async () => {
    reply = { status: 502, body: "<html>Bad Gateway</html>" };
    await expect(backend.instantQuery({ query: "up", time: 0 })).rejects.toMatchObject({
      name: "PromqlError",
      type: "timeout",
      message: expect.stringMatching(/unavailable: HTTP 502 .*Bad Gateway/),
    });
    const nowhere = remoteBackend({ writeUrl: "http://127.0.0.1:1/w", queryUrl: "http://127.0.0.1:1" });
    await expect(nowhere.instantQuery({ query: "up", time: 0 })).rejects.toMatchObject({
      type: "timeout",
      message: expect.stringMatching(/127\.0\.0\.1:1.*unavailable/),
    });
    await nowhere.close();
  });

  it("points at the query URL when the answer is not Prometheus's JSON", async () => {
    reply = { status: 200, body: "<html>Grafana</html>" };
    await expect(backend.instantQuery({ query: "up", time: 0 })).rejects.toMatchObject({
      type: "execution",
      message: expect.stringMatching(/without Prometheus's JSON .*query URL must be the API's base/),
    });
  });

  it("reports a 401 from a proxy as a refused request, not as bad PromQL", async () => {
    reply = { status: 401, body: "unauthorized" };
    await expect(backend.labelNames({ matcherSets: [], minT: 0, maxT: 1 })).rejects.toMatchObject({
      type: "execution",
      message: expect.stringMatching(/refused the request \(HTTP 401/),
    });
  });

  it("stops waiting when the caller's signal aborts", async () => {
    reply = { status: 200, body: "", hang: true };
    const controller = new AbortController();
    const pending = backend.instantQuery({ query: "up", time: 0, signal: controller.signal });
    const before = seen.length;
    while (seen.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    await expect(pending).rejects.toEqual(new PromqlError("canceled", "query was canceled"));
  });

  it("asks for series, label names and values with match[] selectors, start, end and limit", async () => {
    reply = success([
      { __name__: "up", job: "b" },
      { __name__: "up", job: "a" },
    ]);
    const series = await backend.series({
      matcherSets: [
        [
          { name: "__name__", op: "=", value: "up" },
          { name: "path", op: "=~", value: '/a\\.b"c\n' },
        ],
        [{ name: "job", op: "!~", value: "x|y" }],
      ],
      minT: 1_000,
      maxT: 61_500,
      limit: 1,
    });
    const request = seen.at(-1);
    expect(request?.path).toBe("/prometheus/api/v1/series");
    expect(request?.params.getAll("match[]")).toEqual([
      '{__name__="up",path=~"/a\\\\.b\\"c\\n"}',
      '{job!~"x|y"}',
    ]);
    expect(request?.params.get("start")).toBe("1");
    expect(request?.params.get("end")).toBe("61.500");
    expect(request?.params.get("limit")).toBe("1");
    expect(series).toEqual([labelsFrom({ __name__: "up", job: "a" })]);

    await backend.series({ matcherSets: [], minT: Number.NEGATIVE_INFINITY, maxT: Number.POSITIVE_INFINITY });
    expect(seen.at(-1)?.params.getAll("match[]")).toEqual(['{__name__=~".+"}']);
    expect(seen.at(-1)?.params.has("start")).toBe(false);

    reply = success(["job", "__name__", "instance"]);
    expect(await backend.labelNames({ matcherSets: [], minT: 0, maxT: 1000 })).toEqual([
      "__name__",
      "instance",
      "job",
    ]);
    expect(seen.at(-1)?.params.getAll("match[]")).toEqual([]);

    reply = success(["b", "a"]);
    const values = await backend.labelValues("job", {
      matcherSets: [[{ name: "__name__", op: "=", value: "up" }]],
      minT: 0,
      maxT: 1000,
    });
    expect(values).toEqual(["a", "b"]);
    expect(seen.at(-1)?.method).toBe("GET");
    expect(seen.at(-1)?.path).toBe("/prometheus/api/v1/label/job/values");
    expect(seen.at(-1)?.params.getAll("match[]")).toEqual(['{__name__="up"}']);
  });
});

describe("selector and value text", () => {
  it("quotes label names outside the classic charset", () => {
    expect(formatSelector([{ name: "service.name", op: "!=", value: "" }])).toBe('{"service.name"!=""}');
  });

  it("reads Go's float formatting", () => {
    expect([parseValue("0"), parseValue("-1.5e-7"), parseValue("123456789012")]).toEqual([
      0, -1.5e-7, 123456789012,
    ]);
    expect(() => parseValue("abc")).toThrow(PromqlError);
  });
});
