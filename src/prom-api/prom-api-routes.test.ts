import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labelsFrom } from "../promql/index.js";
import { type PromApiTestServer, startPromApiTestServer } from "./prom-api-test-server.js";
import {
  type EncodableSeries,
  encodeWriteRequest,
  snappyCompress,
} from "./remote-write/write-request-encoder.js";

const T0 = 1_700_000_000_000;

const RW_HEADERS = {
  "content-type": "application/x-protobuf",
  "content-encoding": "snappy",
  "x-prometheus-remote-write-version": "0.1.0",
};

function writeBody(series: readonly EncodableSeries[]): Buffer {
  return Buffer.from(snappyCompress(encodeWriteRequest(series)));
}

describe("remote_write receiver", () => {
  let t: PromApiTestServer;
  const write = (payload: Buffer, headers: Record<string, string> = {}, token?: string) =>
    t.server.inject({
      method: "POST",
      url: "/api/v1/write",
      headers: {
        ...RW_HEADERS,
        authorization: `Bearer ${token ?? t.tokens.responder}`,
        ...headers,
      },
      payload,
    });
  const seriesCount = async () => (await t.store.series({ matcherSets: [], minT: 0, maxT: T0 * 2 })).length;

  beforeAll(async () => {
    t = await startPromApiTestServer();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("stores a good request and answers 204; the samples can be queried", async () => {
    const res = await write(
      writeBody([
        {
          labels: labelsFrom({ __name__: "rw_up", job: "api" }),
          samples: [
            { t: T0, v: 1 },
            { t: T0 + 15_000, v: 0.5 },
          ],
        },
      ]),
    );
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe("");
    const q = await t.server.inject({
      url: `/api/v1/query?query=rw_up&time=${(T0 + 20_000) / 1000}`,
      headers: { authorization: `Bearer ${t.tokens.viewer}` },
    });
    expect(q.statusCode).toBe(200);
    expect(q.body).toBe(
      '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"rw_up","job":"api"},"value":[1700000020,"0.5"]}]}}',
    );
  });

  it("needs a token allowed to write metrics: 401 without one, 403 for a viewer", async () => {
    const body = writeBody([{ labels: labelsFrom({ __name__: "rw_auth" }), samples: [{ t: T0, v: 1 }] }]);
    const anonymous = await t.server.inject({
      method: "POST",
      url: "/api/v1/write",
      headers: RW_HEADERS,
      payload: body,
    });
    expect(anonymous.statusCode).toBe(401);
    expect((await write(body, {}, t.tokens.viewer)).statusCode).toBe(403);
    expect(
      await t.store.series({
        matcherSets: [[{ name: "__name__", op: "=", value: "rw_auth" }]],
        minT: 0,
        maxT: T0 * 2,
      }),
    ).toEqual([]);
  });

  it("answers 415 for a content type, encoding or protocol version it does not speak", async () => {
    const body = writeBody([{ labels: labelsFrom({ __name__: "rw_415" }), samples: [{ t: T0, v: 1 }] }]);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ "content-type": "application/json" }, /expected application\/x-protobuf/],
      [{ "content-type": "application/x-protobuf;proto=io.prometheus.write.v2.Request" }, /not accepted/],
      [{ "content-encoding": "gzip" }, /gzip encoding/],
      [{ "x-prometheus-remote-write-version": "2.0.0" }, /version 2.0.0/],
    ];
    for (const [headers, message] of cases) {
      const res = await write(body, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(415);
      expect(res.body).toMatch(message);
    }
    const before = await seriesCount();
    // Without Content-Type and Content-Encoding, the body is taken to be 1.0 with snappy, as Prometheus does.
    const bare = await t.server.inject({
      method: "POST",
      url: "/api/v1/write",
      headers: { authorization: `Bearer ${t.tokens.responder}` },
      payload: writeBody([{ labels: labelsFrom({ __name__: "rw_bare" }), samples: [{ t: T0, v: 1 }] }]),
    });
    expect(bare.statusCode, bare.body).toBe(204);
    // The explicit v1 message name is fine.
    const ok = await write(body, { "content-type": "application/x-protobuf; proto=prometheus.WriteRequest" });
    expect(ok.statusCode).toBe(204);
    expect(await seriesCount()).toBe(before + 2);
  });

  it("answers 400 for a corrupt body and stores nothing of it", async () => {
    const before = await seriesCount();
    const good = writeBody([{ labels: labelsFrom({ __name__: "rw_corrupt" }), samples: [{ t: T0, v: 1 }] }]);
    const bodies: Array<[string, Buffer]> = [
      ["not snappy", Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
      ["empty", Buffer.alloc(0)],
      ["truncated snappy", good.subarray(0, good.length - 3)],
      ["snappy of garbage", Buffer.from(snappyCompress(Uint8Array.from([0x0a, 0x40, 0x01])))],
    ];
    for (const [what, payload] of bodies) {
      const res = await write(payload);
      expect(res.statusCode, what).toBe(400);
      expect(res.headers["content-type"]).toContain("text/plain");
    }
    expect(await seriesCount()).toBe(before);
  });

  it("refuses invalid, unsorted and duplicate label names, empty values and missing metric names (400)", async () => {
    const before = await seriesCount();
    const cases: Array<[string, Array<{ name: string; value: string }>, RegExp]> = [
      [
        "invalid name",
        [
          { name: "__name__", value: "x" },
          { name: "bad-name", value: "1" },
        ],
        /invalid label name "bad-name"/,
      ],
      [
        "unsorted",
        [
          { name: "job", value: "a" },
          { name: "__name__", value: "x" },
        ],
        /not sorted/,
      ],
      [
        "duplicate",
        [
          { name: "__name__", value: "x" },
          { name: "a", value: "1" },
          { name: "a", value: "2" },
        ],
        /duplicate label name "a"/,
      ],
      [
        "empty value",
        [
          { name: "__name__", value: "x" },
          { name: "a", value: "" },
        ],
        /empty value/,
      ],
      ["no metric name", [{ name: "job", value: "a" }], /no metric name/],
      ["bad metric name", [{ name: "__name__", value: "1x" }], /invalid metric name "1x"/],
    ];
    for (const [what, labels, message] of cases) {
      // A good series first: it must not be stored either.
      const body = writeBody([
        { labels: labelsFrom({ __name__: "rw_good_neighbour" }), samples: [{ t: T0, v: 1 }] },
        { labels, samples: [{ t: T0, v: 1 }] },
      ]);
      const res = await write(body);
      expect(res.statusCode, what).toBe(400);
      expect(res.body, what).toMatch(message);
    }
    expect(await seriesCount()).toBe(before);
  });

  it("refuses native histograms and samples far in the future with a clear message", async () => {
    const histogram = await write(
      writeBody([{ labels: labelsFrom({ __name__: "rw_h" }), samples: [], histograms: 1 }]),
    );
    expect(histogram.statusCode).toBe(400);
    expect(histogram.body).toMatch(/native histogram samples, which Nines does not store/);
    const future = await write(
      writeBody([
        { labels: labelsFrom({ __name__: "rw_future" }), samples: [{ t: Date.now() + 3_600_000, v: 1 }] },
      ]),
    );
    expect(future.statusCode).toBe(400);
    expect(future.body).toMatch(/out of bounds/);
  });

  it("answers 400 for an out-of-order sample and rolls the whole request back", async () => {
    const first = await write(
      writeBody([{ labels: labelsFrom({ __name__: "rw_ooo" }), samples: [{ t: T0 + 60_000, v: 1 }] }]),
    );
    expect(first.statusCode).toBe(204);
    const before = await seriesCount();
    const res = await write(
      writeBody([
        { labels: labelsFrom({ __name__: "rw_ooo_new" }), samples: [{ t: T0, v: 1 }] },
        { labels: labelsFrom({ __name__: "rw_ooo" }), samples: [{ t: T0, v: 2 }] },
      ]),
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/out of order sample/);
    expect(await seriesCount()).toBe(before);
    const duplicate = await write(
      writeBody([{ labels: labelsFrom({ __name__: "rw_ooo" }), samples: [{ t: T0 + 60_000, v: 3 }] }]),
    );
    expect(duplicate.statusCode).toBe(400);
    expect(duplicate.body).toMatch(/duplicate sample/);
  });
});

describe("Prometheus query API", () => {
  let t: PromApiTestServer;
  let open: PromApiTestServer;
  const get = (url: string, server = t) =>
    server.server.inject({ url, headers: { authorization: `Bearer ${t.tokens.viewer}` } });
  const form = (url: string, body: string, headers: Record<string, string> = {}, server = t) =>
    server.server.inject({
      method: "POST",
      url,
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      payload: body,
    } satisfies InjectOptions);

  beforeAll(async () => {
    t = await startPromApiTestServer({ limits: { maxSamples: 2_000 } });
    open = await startPromApiTestServer({ anonymousRead: true });
    for (const store of [t.store, open.store]) {
      const app = store.appender();
      for (let i = 0; i < 240; i++) {
        const ts = T0 + i * 15_000;
        app.add(labelsFrom({ __name__: "http_requests_total", job: "api", code: "200" }), ts, i * 10);
        app.add(labelsFrom({ __name__: "http_requests_total", job: "api", code: "500" }), ts, i);
        app.add(labelsFrom({ __name__: "temperature", room: "a" }), ts, 20 + (i % 7) / 4);
      }
      await app.commit();
    }
  });
  afterAll(async () => {
    await t?.close();
    await open?.close();
  });

  it("answers an instant query in Prometheus's format, by GET and by form POST", async () => {
    const url = `/api/v1/query?query=sum(http_requests_total)&time=${(T0 + 600_000) / 1000 + 0.5}`;
    const viaGet = await get(url);
    expect(viaGet.statusCode).toBe(200);
    expect(viaGet.headers["content-type"]).toContain("application/json");
    expect(viaGet.json()).toEqual({
      status: "success",
      data: { resultType: "vector", result: [{ metric: {}, value: [1700000600.5, "440"] }] },
    });
    const viaPost = await form(
      "/api/v1/query",
      `query=${encodeURIComponent("sum(http_requests_total)")}&time=${(T0 + 600_000) / 1000 + 0.5}`,
      { authorization: `Bearer ${t.tokens.viewer}` },
    );
    expect(viaPost.body).toBe(viaGet.body);
  });

  it("answers a range query with values as strings and timestamps in seconds", async () => {
    const start = (T0 + 60_000) / 1000;
    const res = await get(
      `/api/v1/query_range?query=${encodeURIComponent('http_requests_total{code="500"}')}&start=${start}&end=${start + 30}&step=15s`,
    );
    expect(res.json()).toEqual({
      status: "success",
      data: {
        resultType: "matrix",
        result: [
          {
            metric: { __name__: "http_requests_total", code: "500", job: "api" },
            values: [
              [start, "4"],
              [start + 15, "5"],
              [start + 30, "6"],
            ],
          },
        ],
      },
    });
  });

  it("lets anonymous callers query by form POST when reads are open, and only then", async () => {
    const body = `query=${encodeURIComponent("count(temperature)")}&time=${(T0 + 60_000) / 1000}`;
    const allowed = await form("/api/v1/query", body, {}, open);
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json().data.result[0].value[1]).toBe("1");
    const refused = await form("/api/v1/query", body);
    expect(refused.statusCode).toBe(401);
  });

  it("reports invalid PromQL as bad_data with the position of the mistake", async () => {
    const res = await get(`/api/v1/query?query=${encodeURIComponent("sum(rate(x[5m])")}`);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ status: "error", errorType: "bad_data" });
    expect(body.error).toMatch(/^invalid parameter "query": 1:\d+: parse error: /);
    expect(Object.keys(body).sort()).toEqual(["error", "errorType", "status"]);
    // Parsed queries are kept for the next request; a query that does not parse is refused every time.
    expect((await get(`/api/v1/query?query=${encodeURIComponent("sum(rate(x[5m])")}`)).body).toBe(res.body);
  });

  it("checks parameters as Prometheus does", async () => {
    const cases: Array<[string, number, string]> = [
      [
        "/api/v1/query?query=up&time=abc",
        400,
        `invalid parameter "time": Invalid time value for 'time': cannot parse "abc" to a valid timestamp`,
      ],
      [
        "/api/v1/query?query=up&timeout=abc",
        400,
        `invalid parameter "timeout": cannot parse "abc" to a valid duration`,
      ],
      [
        "/api/v1/query_range?query=up&start=0&end=1000000&step=1",
        400,
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
      ],
      [
        "/api/v1/query_range?query=up&start=0&end=100&step=0",
        400,
        `invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer`,
      ],
      [
        "/api/v1/query_range?query=up&start=100&end=0&step=1",
        400,
        "end timestamp must not be before start time",
      ],
      [
        "/api/v1/query_range?query=up&end=100&step=1",
        400,
        `invalid parameter "start": cannot parse "" to a valid timestamp`,
      ],
      ["/api/v1/series", 400, "no match[] parameter provided"],
      [
        `/api/v1/series?match[]=${encodeURIComponent('{a=""}')}`,
        400,
        `invalid parameter "match[]": match[] must contain at least one non-empty matcher`,
      ],
      ["/api/v1/label/a-b/values", 400, `invalid label name: "a-b"`],
      // Go's %q writes a control character as \x01 (JSON would write \u0001).
      ["/api/v1/label/a%01b/values", 400, `invalid label name: "a\\x01b"`],
      [
        "/api/v1/labels?limit=1%01",
        400,
        `invalid parameter "limit": strconv.Atoi: parsing "1\\x01": invalid syntax`,
      ],
      ["/api/v1/labels?limit=-1", 400, `invalid parameter "limit": limit must be non-negative`],
    ];
    for (const [url, status, error] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(status);
      expect(res.json(), url).toEqual({ status: "error", errorType: "bad_data", error });
    }
  });

  it("answers series, label names and label values, with repeated match[] and limit", async () => {
    const range = `start=${T0 / 1000}&end=${(T0 + 3_600_000) / 1000}`;
    const series = await form(
      "/api/v1/series",
      `match[]=temperature&match[]=${encodeURIComponent('http_requests_total{code="500"}')}&${range}`,
      { authorization: `Bearer ${t.tokens.viewer}` },
    );
    expect(series.json()).toEqual({
      status: "success",
      data: [
        { __name__: "http_requests_total", code: "500", job: "api" },
        { __name__: "temperature", room: "a" },
      ],
    });
    expect((await get("/api/v1/labels")).json()).toEqual({
      status: "success",
      data: ["__name__", "code", "job", "room"],
    });
    expect((await get("/api/v1/labels?match[]=temperature")).json().data).toEqual(["__name__", "room"]);
    expect((await get("/api/v1/label/__name__/values")).json().data).toEqual([
      "http_requests_total",
      "temperature",
    ]);
    expect((await get("/api/v1/label/code/values?limit=1")).json()).toEqual({
      status: "success",
      data: ["200"],
      warnings: ["results truncated due to limit"],
    });
  });

  it("stops a query that would load too many samples with Prometheus's error, and stays healthy", async () => {
    const res = await get(
      `/api/v1/query_range?query=${encodeURIComponent("http_requests_total")}&start=${T0 / 1000}&end=${(T0 + 3_600_000) / 1000}&step=1`,
    );
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({
      status: "error",
      errorType: "execution",
      error: "query processing would load too many samples into memory in query execution",
    });
    expect((await t.server.inject({ url: "/healthz" })).statusCode).toBe(200);
    const next = await get(`/api/v1/query?query=count(temperature)&time=${(T0 + 60_000) / 1000}`);
    expect(next.statusCode).toBe(200);
    expect(next.json().data.result[0].value[1]).toBe("1");
  });

  it("stops a query that runs past its timeout with a timeout error (503)", async () => {
    const res = await get(
      `/api/v1/query_range?query=${encodeURIComponent("sum(temperature)")}&start=${T0 / 1000}&end=${(T0 + 3_600_000) / 1000}&step=15&timeout=0.000001`,
    );
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: "error",
      errorType: "timeout",
      error: "query timed out in expression evaluation",
    });
  });

  it("reports build information with a Prometheus version Grafana understands", async () => {
    const res = await get("/api/v1/status/buildinfo");
    expect(res.json()).toMatchObject({
      status: "success",
      data: { version: "3.0.0", revision: "nines-0.0.0-test", ninesVersion: "0.0.0-test" },
    });
    expect((await get("/api/v1/metadata")).json()).toEqual({ status: "success", data: {} });
  });
});
