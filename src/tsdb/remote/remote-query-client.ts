import { z } from "zod";
import {
  compareLabels,
  formatMatchers,
  type InstantSample,
  type LabelMatcher,
  type Labels,
  labelsFrom,
  labelsKey,
  PromqlError,
  type PromqlErrorType,
  type QueryResult,
  type QueryValue,
  type RangeSeriesResult,
} from "../../promql/index.js";
import { compareStrings } from "../../promql/index.js";
import type { InstantQueryText, RangeQueryText } from "../metrics-backend.js";
import type { SeriesRequest } from "../metrics-store.js";
import { describeFetchError, type RemoteEndpoint } from "./remote-write-queue.js";

// Prometheus's JSON envelope (web/api/v1/api.go): `status`, then `data` or `errorType` and `error`.
const Envelope = z.object({
  status: z.enum(["success", "error"]),
  data: z.unknown().optional(),
  errorType: z.string().optional(),
  error: z.string().optional(),
  warnings: z.array(z.string()).optional(),
  infos: z.array(z.string()).optional(),
});

const Metric = z.record(z.string(), z.string());
const Point = z.tuple([z.number(), z.string()]);
const QueryData = z.discriminatedUnion("resultType", [
  z.object({ resultType: z.literal("scalar"), result: Point }),
  z.object({ resultType: z.literal("string"), result: Point }),
  z.object({
    resultType: z.literal("vector"),
    result: z.array(z.object({ metric: Metric, value: Point.optional() })),
  }),
  z.object({
    resultType: z.literal("matrix"),
    result: z.array(z.object({ metric: Metric, values: z.array(Point).optional() })),
  }),
]);
const Strings = z.array(z.string());
const SeriesData = z.array(Metric);

const ERROR_TYPES: Record<string, PromqlErrorType> = {
  bad_data: "bad_data",
  execution: "execution",
  timeout: "timeout",
  canceled: "canceled",
  too_many_samples: "too_many_samples",
  // Prometheus answers these with 503 / 500: the remote cannot answer now, which Nines calls a timeout.
  unavailable: "timeout",
  internal: "execution",
  not_found: "bad_data",
  not_acceptable: "bad_data",
};

/** Skipped native-histogram samples are reported rather than silently missing. */
const HISTOGRAM_WARNING =
  "PromQL warning: the remote returned native histogram samples, which Nines does not read; they are left out";

/** Every series has a name, so this selects them all where an API insists on a `match[]`. */
const ALL_SERIES = '{__name__=~".+"}';

/**
 * The remote's Prometheus HTTP API (`/api/v1/query`, `query_range`, `series`, `labels`, `label/…/values`),
 * answering with the same values and `PromqlError`s as the embedded engine. Queries are POSTed as forms, as
 * Grafana does, so long queries do not hit URL length limits.
 */
export class RemoteQueryClient {
  constructor(
    private readonly endpoint: RemoteEndpoint,
    /** The remote's own evaluation timeout, sent as `timeout`; the HTTP request gets a little longer. */
    private readonly queryTimeoutMs: number,
  ) {}

  async instantQuery(q: InstantQueryText): Promise<QueryResult> {
    const form = new URLSearchParams({ query: q.query, time: seconds(q.time) });
    this.addCommon(form, q.lookbackDeltaMs);
    const body = await this.call("POST", "/api/v1/query", form, q.signal);
    return toQueryResult(body);
  }

  async rangeQuery(q: RangeQueryText): Promise<QueryResult> {
    const form = new URLSearchParams({
      query: q.query,
      start: seconds(q.start),
      end: seconds(q.end),
      step: seconds(q.step),
    });
    this.addCommon(form, q.lookbackDeltaMs);
    const body = await this.call("POST", "/api/v1/query_range", form, q.signal);
    return toQueryResult(body);
  }

  async series(request: SeriesRequest): Promise<Labels[]> {
    const form = metadataForm(request, true);
    const body = await this.call("POST", "/api/v1/series", form, request.signal);
    const seen = new Set<string>();
    const out: Labels[] = [];
    for (const metric of parseData(SeriesData, body.data)) {
      const labels = labelsFrom(metric);
      const key = labelsKey(labels);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(labels);
    }
    out.sort(compareLabels);
    return request.limit === undefined ? out : out.slice(0, request.limit);
  }

  async labelNames(request: SeriesRequest): Promise<string[]> {
    const body = await this.call("POST", "/api/v1/labels", metadataForm(request, false), request.signal);
    return sortedStrings(parseData(Strings, body.data), request.limit);
  }

  async labelValues(name: string, request: SeriesRequest): Promise<string[]> {
    // Prometheus takes label values by GET only.
    const path = `/api/v1/label/${encodeURIComponent(name)}/values`;
    const body = await this.call("GET", path, metadataForm(request, false), request.signal);
    return sortedStrings(parseData(Strings, body.data), request.limit);
  }

  private addCommon(form: URLSearchParams, lookbackDeltaMs: number | undefined): void {
    form.set("timeout", seconds(this.queryTimeoutMs));
    if (lookbackDeltaMs !== undefined) form.set("lookback_delta", seconds(lookbackDeltaMs));
  }

  private async call(
    method: "GET" | "POST",
    path: string,
    form: URLSearchParams,
    signal: AbortSignal | undefined,
  ): Promise<{ data: unknown; warnings: string[]; infos: string[] }> {
    if (isAborted(signal)) throw canceled();
    const url = new URL(path.replace(/^\//, ""), this.endpoint.url);
    if (method === "GET") url.search = form.toString();
    const timeout = AbortSignal.timeout(this.endpoint.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.endpoint.fetch(url, {
        method,
        headers: { ...this.endpoint.headers, Accept: "application/json" },
        body: method === "POST" ? form : undefined,
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      });
      text = await response.text();
    } catch (err) {
      if (isAborted(signal)) throw canceled();
      if (timeout.aborted) {
        throw new PromqlError(
          "timeout",
          `the remote query API at ${this.endpoint.displayUrl} did not answer within ${this.endpoint.timeoutMs} ms`,
        );
      }
      throw unavailable(this.endpoint.displayUrl, describeFetchError(err));
    }
    const envelope = parseEnvelope(text);
    if (envelope?.status === "error") {
      const type = ERROR_TYPES[envelope.errorType ?? ""] ?? "execution";
      throw new PromqlError(type, envelope.error ?? `HTTP ${response.status}`);
    }
    if (envelope === undefined || !response.ok) {
      const detail = `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 200).trim()}`;
      if (response.status >= 500) throw unavailable(this.endpoint.displayUrl, detail);
      if (response.ok) {
        throw new PromqlError(
          "execution",
          `the remote query API at ${this.endpoint.displayUrl} answered without Prometheus's JSON (${detail}); the query URL must be the API's base, without /api/v1`,
        );
      }
      throw new PromqlError(
        "execution",
        `the remote query API at ${this.endpoint.displayUrl} refused the request (${detail})`,
      );
    }
    return { data: envelope.data, warnings: envelope.warnings ?? [], infos: envelope.infos ?? [] };
  }
}

/** Renders a matcher set back to selector text, `{a="b",c=~"d"}`, quoting as PromQL reads it. */
export function formatSelector(matchers: readonly LabelMatcher[]): string {
  return `{${formatMatchers(matchers, ",")}}`;
}

function metadataForm(request: SeriesRequest, requireMatch: boolean): URLSearchParams {
  const form = new URLSearchParams();
  for (const set of request.matcherSets) form.append("match[]", formatSelector(set));
  if (requireMatch && request.matcherSets.length === 0) form.append("match[]", ALL_SERIES);
  const start = boundSeconds(request.minT);
  const end = boundSeconds(request.maxT);
  if (start !== undefined) form.set("start", start);
  if (end !== undefined) form.set("end", end);
  // Servers that do not know `limit` (Prometheus before 2.52) ignore it; results are cut here too.
  if (request.limit !== undefined) form.set("limit", String(request.limit));
  return form;
}

/** Years 1 to 9999, what every Prometheus-compatible API parses; beyond that "unbounded" is meant. */
const MIN_BOUND_MS = -62_135_596_800_000;
const MAX_BOUND_MS = 253_402_300_799_000;

function boundSeconds(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms <= MIN_BOUND_MS || ms >= MAX_BOUND_MS) return undefined;
  return seconds(ms);
}

/** Milliseconds as the API's float seconds, exactly (no exponent, no rounding beyond the millisecond). */
function seconds(ms: number): string {
  const whole = Math.trunc(ms);
  const sign = whole < 0 ? "-" : "";
  const abs = Math.abs(whole);
  const frac = abs % 1000;
  return `${sign}${Math.floor(abs / 1000)}${frac === 0 ? "" : `.${String(frac).padStart(3, "0")}`}`;
}

function parseEnvelope(text: string): z.infer<typeof Envelope> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = Envelope.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

function parseData<T>(schema: z.ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new PromqlError(
      "execution",
      `the remote returned a result Nines cannot read: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

function toQueryResult(body: { data: unknown; warnings: string[]; infos: string[] }): QueryResult {
  const { value, histogramsSkipped } = toQueryValue(body.data);
  const warnings = histogramsSkipped ? [...body.warnings, HISTOGRAM_WARNING] : body.warnings;
  return { value, warnings, infos: body.infos };
}

function toQueryValue(data: unknown): { value: QueryValue; histogramsSkipped: boolean } {
  const parsed = parseData(QueryData, data);
  switch (parsed.resultType) {
    case "scalar":
      return {
        value: { type: "scalar", t: millis(parsed.result[0]), f: parseValue(parsed.result[1]) },
        histogramsSkipped: false,
      };
    case "string":
      return {
        value: { type: "string", t: millis(parsed.result[0]), value: parsed.result[1] },
        histogramsSkipped: false,
      };
    case "vector": {
      const samples: InstantSample[] = [];
      for (const s of parsed.result) {
        if (s.value === undefined) continue;
        samples.push({ labels: labelsFrom(s.metric), t: millis(s.value[0]), f: parseValue(s.value[1]) });
      }
      return { value: { type: "vector", samples }, histogramsSkipped: samples.length < parsed.result.length };
    }
    case "matrix": {
      const series: RangeSeriesResult[] = [];
      for (const s of parsed.result) {
        if (s.values === undefined) continue;
        const points = s.values.map(([t, v]) => ({ t: millis(t), f: parseValue(v) }));
        series.push({ labels: labelsFrom(s.metric), points });
      }
      return { value: { type: "matrix", series }, histogramsSkipped: series.length < parsed.result.length };
    }
  }
}

/** Float seconds from the JSON back to integer milliseconds. */
function millis(secondsValue: number): number {
  return Math.round(secondsValue * 1000);
}

/** Prometheus writes sample values as strings: Go's `strconv.FormatFloat(v, 'f', -1, 64)`, or NaN / ±Inf. */
export function parseValue(text: string): number {
  switch (text) {
    case "NaN":
      return Number.NaN;
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
  }
  const n = Number(text);
  if (Number.isNaN(n) || text.trim() === "") {
    throw new PromqlError("execution", `the remote returned a sample value Nines cannot read: ${text}`);
  }
  return n;
}

function sortedStrings(values: string[], limit: number | undefined): string[] {
  const out = [...new Set(values)].sort(compareStrings);
  return limit === undefined ? out : out.slice(0, limit);
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function canceled(): PromqlError {
  return new PromqlError("canceled", "query was canceled");
}

/**
 * The remote did not answer or answered without Prometheus's envelope. `PromqlErrorType` has no
 * "unavailable"; "timeout" is the closest (Prometheus answers both with 503).
 */
function unavailable(displayUrl: string, detail: string): PromqlError {
  return new PromqlError("timeout", `the remote query API at ${displayUrl} is unavailable: ${detail}`);
}
