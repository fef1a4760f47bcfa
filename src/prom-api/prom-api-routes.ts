import { authorize } from "../auth/index.js";
import type { Ctx } from "../platform/context.js";
import { isNinesError } from "../platform/errors.js";
import { type AnyRoute, defineRawRoute, type RawRequest, type RawResponse } from "../platform/route.js";
import { type EngineOptions, isPromqlError } from "../promql/index.js";
import type { MetricsBackend } from "../tsdb/index.js";
import { ApiParams } from "./query-api/api-params.js";
import { errorJson, successJson } from "./query-api/prom-json.js";
import {
  instantQueryJson,
  labelNamesJson,
  labelValuesJson,
  type QueryEnv,
  type QueryLimits,
  rangeQueryJson,
  seriesJson,
} from "./query-api/query-handlers.js";
import { REMOTE_WRITE_BODY_LIMIT, receiveRemoteWrite } from "./remote-write/receive-write.js";

export interface PromApiDeps {
  /** A getter: the backend may be swapped while the server runs. */
  backend(): MetricsBackend;
  limits: QueryLimits;
  /** Nines's version, reported by /api/v1/status/buildinfo. */
  version: string;
}

/**
 * The Prometheus version /api/v1/status/buildinfo reports in `version`. Grafana reads it to choose which
 * API features to use; Nines evaluates PromQL with Prometheus 3 semantics and serves the 2.x endpoints.
 */
export const PROMETHEUS_COMPATIBLE_VERSION = "3.0.0";

/** The engine options that enforce the limits: pass them to `localBackend(store, …)`. */
export function queryEngineOptions(limits: QueryLimits): EngineOptions {
  return { maxSamples: limits.maxSamples, timeoutMs: limits.timeoutMs };
}

const JSON_TYPE = { "content-type": "application/json" };
const TAG = "prometheus";

/**
 * The Prometheus HTTP API (query, query_range, series, labels, label values, buildinfo, metadata) and the
 * remote_write receiver, in Prometheus's own request and response formats, so that Grafana's Prometheus
 * data source and Prometheus senders work against Nines. Queries accept GET and form-encoded POST and count
 * as reads; remote_write needs a token allowed "metrics.write".
 */
export function promApiRoutes(deps: PromApiDeps): AnyRoute[] {
  const env = (ctx: Ctx): QueryEnv => ({
    backend: deps.backend(),
    limits: deps.limits,
    now: ctx.clock.now(),
  });
  const reader =
    (answer: (params: ApiParams, env: QueryEnv, request: RawRequest) => Promise<string>) =>
    async ({ ctx, request }: { ctx: Ctx; request: RawRequest }): Promise<RawResponse> => {
      authorize(ctx, "metrics.read");
      const params = ApiParams.from(request.query, header(request, "content-type"), request.body);
      try {
        return { status: 200, headers: JSON_TYPE, body: await answer(params, env(ctx), request) };
      } catch (error) {
        if (isNinesError(error)) throw error;
        if (isPromqlError(error)) {
          const e = errorJson(error.type, error.message);
          return { status: e.status, headers: JSON_TYPE, body: e.body };
        }
        ctx.log.error({ err: error }, "Prometheus API request failed");
        const e = errorJson("internal", error instanceof Error ? error.message : String(error));
        return { status: e.status, headers: JSON_TYPE, body: e.body };
      }
    };

  const both = (
    url: string,
    summary: string,
    answer: (params: ApiParams, env: QueryEnv, request: RawRequest) => Promise<string>,
  ): AnyRoute[] =>
    (["GET", "POST"] as const).map((method) =>
      defineRawRoute({ method, url, summary, tag: TAG, readOnly: true, raw: reader(answer) }),
    );

  return [
    ...both("/api/v1/query", "Evaluates a PromQL expression at one time (Prometheus API).", instantQueryJson),
    ...both(
      "/api/v1/query_range",
      "Evaluates a PromQL expression over a range (Prometheus API).",
      rangeQueryJson,
    ),
    ...both("/api/v1/series", "Series matching selectors (Prometheus API).", seriesJson),
    ...both("/api/v1/labels", "Label names (Prometheus API).", labelNamesJson),
    defineRawRoute({
      method: "GET",
      url: "/api/v1/label/:name/values",
      summary: "Values of one label (Prometheus API).",
      tag: TAG,
      raw: reader((params, e, request) => labelValuesJson(request.params.name ?? "", params, e)),
    }),
    ...both("/api/v1/query_exemplars", "Exemplars: Nines stores none, so always an empty list.", async () =>
      successJson("[]"),
    ),
    defineRawRoute({
      method: "GET",
      url: "/api/v1/metadata",
      summary: "Metric metadata: Nines keeps none yet, so always empty.",
      tag: TAG,
      raw: reader(async () => successJson("{}")),
    }),
    defineRawRoute({
      method: "GET",
      url: "/api/v1/status/buildinfo",
      summary: "Build information in Prometheus's fields; `version` is the Prometheus version Nines matches.",
      tag: TAG,
      raw: reader(async () =>
        successJson(
          JSON.stringify({
            version: PROMETHEUS_COMPATIBLE_VERSION,
            revision: `nines-${deps.version}`,
            branch: "nines",
            buildUser: "nines",
            buildDate: "",
            goVersion: `node ${process.version}`,
            ninesVersion: deps.version,
          }),
        ),
      ),
    }),
    defineRawRoute({
      method: "POST",
      url: "/api/v1/write",
      summary: "Prometheus remote_write receiver (protocol 1.0: protobuf, snappy).",
      tag: TAG,
      bodyLimit: REMOTE_WRITE_BODY_LIMIT,
      raw: async ({ ctx, request }) => {
        authorize(ctx, "metrics.write");
        const backend = deps.backend();
        const outcome = await receiveRemoteWrite({
          headers: request.headers,
          body: request.body,
          now: ctx.clock.now(),
          appender: () => backend.appender(),
        });
        if (outcome.status === 204) return { status: 204 };
        if (outcome.status === 500)
          ctx.log.error({ err: outcome.cause }, "remote_write: storing samples failed");
        else
          ctx.log.warn({ status: outcome.status, reason: outcome.message }, "remote_write request refused");
        return {
          status: outcome.status,
          headers: { "content-type": "text/plain; charset=utf-8" },
          body: `${outcome.message}\n`,
        };
      },
    }),
  ];
}

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
