import { z } from "zod";
import { authorize } from "../../auth/index.js";
import type { Ctx } from "../../platform/context.js";
import { NinesError } from "../../platform/errors.js";
import {
  type AnyRoute,
  defineRawRoute,
  defineRoute,
  type RawRequest,
  type RawResponse,
  type RawRouteSpec,
} from "../../platform/route.js";
import type { AlertingRuntime, ListedSilence } from "../alerting-runtime.js";
import { type ApiMatcher, fromApiMatcher, toApiMatcher } from "../intake/silence-store.js";
import type { IncomingAlert } from "../alert-model.js";
import { type AlertStatus, type Matcher, parseMatchers, silenceState } from "../routing/index.js";
import { compileGoRegexp, matchesValue } from "../routing/matchers.js";

const JSON_TYPE = { "content-type": "application/json" };
const TAG = "alertmanager";
/** Alerts arrive in batches from Prometheus (up to max_alerts_per_request... times label size). */
const ALERTS_BODY_LIMIT = 16 * 1024 * 1024;

const iso = (ms: number) => new Date(ms).toISOString();
const json = (status: number, body: unknown): RawResponse => ({
  status,
  headers: JSON_TYPE,
  body: JSON.stringify(body),
});
/** Alertmanager's go-swagger errors for these endpoints: a JSON string. */
const textError = (status: number, message: string) => json(status, message);

/** labels.Matcher semantics of Alertmanager's API filters (api/v2/api.go matchFilterLabels). */
function matchFilter(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  for (const m of matchers) {
    const value = labels[m.name];
    const negative = m.type === "!=" || m.type === "!~";
    if (negative ? m.value === "" && value !== undefined : m.value === "" && value === undefined) continue;
    if (!matchesValue(m, value ?? "")) return false;
  }
  return true;
}

function bool(query: URLSearchParams, name: string): boolean | string {
  const v = query.get(name);
  if (v === null || v === "") return true;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return `${name} in query must be of type boolean: "${v}"`;
}

interface AlertQuery {
  filter: Matcher[];
  receiver?: RegExp;
  active: boolean;
  silenced: boolean;
  inhibited: boolean;
  unprocessed: boolean;
}

function alertQuery(query: URLSearchParams): AlertQuery | string {
  const filter: Matcher[] = [];
  for (const text of query.getAll("filter")) {
    try {
      filter.push(...parseMatchers(text));
    } catch (error) {
      return (error as Error).message;
    }
  }
  const flags: Record<string, boolean> = {};
  for (const name of ["active", "silenced", "inhibited", "unprocessed"]) {
    const v = bool(query, name);
    if (typeof v === "string") return v;
    flags[name] = v;
  }
  const out: AlertQuery = {
    filter,
    active: flags.active ?? true,
    silenced: flags.silenced ?? true,
    inhibited: flags.inhibited ?? true,
    unprocessed: flags.unprocessed ?? true,
  };
  const receiver = query.get("receiver");
  if (receiver !== null && receiver !== "") {
    try {
      out.receiver = compileGoRegexp(receiver);
    } catch (error) {
      return `failed to parse receiver param: ${(error as Error).message}`;
    }
  }
  return out;
}

function keepAlert(s: AlertStatus, state: string, q: AlertQuery): boolean {
  if (!q.active && state === "active") return false;
  if (!q.unprocessed && state === "unprocessed") return false;
  if (!q.silenced && s.silencedBy.length > 0) return false;
  if (!q.inhibited && s.inhibitedBy.length > 0) return false;
  const receiver = q.receiver;
  if (receiver !== undefined && !s.receivers.some((r) => receiver.test(r))) return false;
  return matchFilter(q.filter, s.alert.labels);
}

/** models.GettableAlert. */
export function gettableAlert(s: AlertStatus, routing: boolean) {
  const state = routing ? (s.state === "suppressed" ? "suppressed" : "active") : "unprocessed";
  const out: Record<string, unknown> = {
    annotations: s.alert.annotations,
    endsAt: iso(s.alert.endsAt),
    fingerprint: s.alert.fingerprint,
    receivers: s.receivers.map((name) => ({ name })),
    startsAt: iso(s.alert.startsAt),
    status: { inhibitedBy: s.inhibitedBy, silencedBy: s.silencedBy, state },
    updatedAt: iso(s.alert.updatedAt),
    labels: s.alert.labels,
  };
  if (s.alert.generatorURL !== undefined) out.generatorURL = s.alert.generatorURL;
  return out;
}

/** models.GettableSilence. */
export function gettableSilence(s: ListedSilence, now: number) {
  return {
    id: s.id,
    status: { state: silenceState(s, now) },
    updatedAt: iso(s.updatedAt),
    comment: s.comment,
    createdBy: s.createdBy,
    endsAt: iso(s.endsAt),
    matchers: s.matchers.map(toApiMatcher),
    startsAt: iso(s.startsAt),
  };
}

const STATE_ORDER = { active: 0, pending: 1, expired: 2 } as const;

/** api/v2 sortSilences: active by end, pending by start, expired by end (latest first). */
function sortSilences(list: ListedSilence[], now: number): ListedSilence[] {
  return list.sort((a, b) => {
    const sa = silenceState(a, now);
    const sb = silenceState(b, now);
    if (sa !== sb) return STATE_ORDER[sa] - STATE_ORDER[sb];
    if (sa === "active") return a.endsAt - b.endsAt;
    if (sa === "pending") return a.startsAt - b.startsAt;
    return b.endsAt - a.endsAt;
  });
}

function parseBody(request: RawRequest): { value: unknown } | { error: string } {
  const text = request.body?.toString("utf8") ?? "";
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `parsing body failed: ${(error as Error).message}` };
  }
}

const PostableMatcher = z.object({
  name: z.string(),
  value: z.string(),
  isRegex: z.boolean(),
  isEqual: z.boolean().optional(),
});
const PostableSilence = z.object({
  id: z.string().optional(),
  matchers: z.array(PostableMatcher).min(1),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
});

/**
 * Every error of these routes, the server's auth hook's 401 included, as Alertmanager's go-swagger answers
 * one: the message as a JSON string. Alertmanager answers a failed silence operation with 500, so a conflict
 * does too. Nines's stable code rides in a header, since amtool prints only the status for a 401 or 403.
 */
export function alertmanagerErrorResponse(error: NinesError, requestId: string): RawResponse {
  const status = error.code === "CONFLICT" ? 500 : error.httpStatus;
  return {
    status,
    headers: { ...JSON_TYPE, [ERROR_CODE_HEADER]: error.code, "x-request-id": requestId },
    body: JSON.stringify(error.message),
  };
}

/** Where an /api/v2 error carries Nines's error code (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND…). */
export const ERROR_CODE_HEADER = "x-nines-error-code";

const amRoute = (spec: RawRouteSpec): AnyRoute =>
  defineRawRoute({ ...spec, errorResponse: alertmanagerErrorResponse });

export interface AlertmanagerApiDeps {
  runtime: AlertingRuntime;
  /** Reported as versionInfo.version. */
  version: string;
}

/**
 * Alertmanager's HTTP API v2 (api/v2/openapi.yaml) over the alerting runtime, in Alertmanager's JSON, so that
 * Prometheus sends alerts to Nines unchanged and amtool lists alerts and manages silences. Posting alerts
 * needs "alert.write" (responder); silences need "silence.write" (responder); reads follow anonymous-read.
 */
export function alertmanagerApiRoutes(deps: AlertmanagerApiDeps): AnyRoute[] {
  const { runtime } = deps;
  const read = (ctx: Ctx) => authorize(ctx, "alert.read");
  return [
    amRoute({
      method: "POST",
      url: "/api/v2/alerts",
      summary:
        "Receive alerts (Alertmanager API v2): 200, or 400 with the reasons while the valid alerts are kept.",
      tag: TAG,
      bodyLimit: ALERTS_BODY_LIMIT,
      async raw({ ctx, request }) {
        authorize(ctx, "alert.write");
        const body = parseBody(request);
        if ("error" in body) return json(400, { code: 400, message: body.error });
        if (!Array.isArray(body.value))
          return json(400, { code: 400, message: "alerts in body must be of type array" });
        const result = await runtime.receive(body.value as IncomingAlert[], "api");
        if (result.rejected.length > 0)
          return textError(400, result.rejected.map((r) => r.reason).join("; "));
        return { status: 200 };
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/alerts",
      summary: "List alerts (Alertmanager API v2), filtered by matchers, state and receiver.",
      tag: TAG,
      async raw({ ctx, request }) {
        read(ctx);
        const q = alertQuery(request.query);
        if (typeof q === "string") return textError(400, q);
        const routing = runtime.isRouting();
        const out = runtime
          .alerts()
          .map((s) => ({ s, body: gettableAlert(s, routing) }))
          .filter(({ s, body }) => keepAlert(s, (body.status as { state: string }).state, q))
          .sort((a, b) => (a.s.alert.fingerprint < b.s.alert.fingerprint ? -1 : 1))
          .map(({ body }) => body);
        return json(200, out);
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/alerts/groups",
      summary: "List alert groups (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx, request }) {
        read(ctx);
        const q = alertQuery(request.query);
        if (typeof q === "string") return textError(400, q);
        const routing = runtime.isRouting();
        const byFp = new Map(runtime.alerts().map((s) => [s.alert.fingerprint, s]));
        const groups = runtime.groups().flatMap((g) => {
          if (q.receiver !== undefined && !q.receiver.test(g.receiver)) return [];
          const alerts = g.alerts
            .map((fp) => byFp.get(fp))
            .filter((s): s is AlertStatus => s !== undefined)
            .map((s) => ({ s, body: gettableAlert(s, routing) }))
            .filter(({ s, body }) =>
              keepAlert({ ...s, receivers: [g.receiver] }, (body.status as { state: string }).state, q),
            )
            .map(({ body }) => body);
          return alerts.length === 0 ? [] : [{ labels: g.labels, receiver: { name: g.receiver }, alerts }];
        });
        return json(200, groups);
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/silences",
      summary: "List silences (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx, request }) {
        const filter: Matcher[] = [];
        for (const text of request.query.getAll("filter")) {
          try {
            filter.push(...parseMatchers(text));
          } catch (error) {
            return textError(400, (error as Error).message);
          }
        }
        const now = ctx.clock.now();
        const list = (await runtime.silences(ctx)).filter((s) =>
          matchFilter(filter, Object.fromEntries(s.matchers.map((m) => [m.name, m.value]))),
        );
        return json(
          200,
          sortSilences(list, now).map((s) => gettableSilence(s, now)),
        );
      },
    }),
    amRoute({
      method: "POST",
      url: "/api/v2/silences",
      summary: "Create or update a silence (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx, request }) {
        authorize(ctx, "silence.write");
        const body = parseBody(request);
        if ("error" in body) return json(400, { code: 400, message: body.error });
        const parsed = PostableSilence.safeParse(body.value);
        if (!parsed.success)
          return json(422, {
            code: 602,
            message: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
          });
        const s = parsed.data;
        const result = await runtime.createSilence({
          ctx,
          input: {
            ...(s.id ? { id: s.id } : {}),
            matchers: s.matchers.map((m) =>
              fromApiMatcher({ ...m, isEqual: m.isEqual ?? true } as ApiMatcher),
            ),
            startsAt: s.startsAt,
            endsAt: s.endsAt,
            createdBy: s.createdBy,
            comment: s.comment,
          },
        });
        if ("problems" in result)
          return textError(400, `Failed to create silence: ${result.problems.join("; ")}`);
        return json(200, { silenceID: result.id });
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/silence/:silenceID",
      summary: "Get a silence (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx, request }) {
        const silence = await runtime.silence(ctx, request.params.silenceID ?? "");
        if (silence === undefined) return { status: 404 };
        return json(200, gettableSilence(silence, ctx.clock.now()));
      },
    }),
    amRoute({
      method: "DELETE",
      url: "/api/v2/silence/:silenceID",
      summary: "Expire a silence (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx, request }) {
        const found = await runtime.expireSilence({ ctx, id: request.params.silenceID ?? "" });
        return found ? { status: 200 } : { status: 404 };
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/status",
      summary:
        "Status (Alertmanager API v2): configuration as YAML, version, uptime; and whether Nines routes.",
      tag: TAG,
      async raw({ ctx }) {
        read(ctx);
        const status = runtime.status();
        const nines: Record<string, unknown> = { routing: status.routing };
        if (status.problem !== undefined) nines.problem = status.problem;
        if (status.configName !== undefined) nines.config = status.configName;
        return json(200, {
          cluster: { status: "disabled", peers: [] },
          config: { original: status.original },
          uptime: iso(status.startedAt),
          versionInfo: {
            branch: "",
            buildDate: "",
            buildUser: "",
            goVersion: "",
            revision: "",
            version: deps.version,
          },
          nines,
        });
      },
    }),
    amRoute({
      method: "GET",
      url: "/api/v2/receivers",
      summary: "List receivers (Alertmanager API v2).",
      tag: TAG,
      async raw({ ctx }) {
        read(ctx);
        return json(
          200,
          runtime.status().receivers.map((name) => ({ name })),
        );
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/alerts/:fingerprint/trace",
      summary:
        "The history of one alert: routes, groups, silences and inhibitions, and every notification with its delivery attempts.",
      tag: "alerting",
      params: z.object({ fingerprint: z.string() }),
      response: z.object({
        fingerprint: z.string(),
        alert: z.record(z.string(), z.unknown()).optional(),
        events: z.array(z.record(z.string(), z.unknown())),
        notifications: z.array(z.record(z.string(), z.unknown())),
      }),
      async handler({ ctx, params }) {
        const trace = await runtime.trace(ctx, params.fingerprint);
        if (trace === undefined)
          throw new NinesError(
            "NOT_FOUND",
            `No alert with fingerprint ${params.fingerprint}: list alerts with \`nines alerts list\`.`,
          );
        return trace as unknown as {
          fingerprint: string;
          events: Array<Record<string, unknown>>;
          notifications: Array<Record<string, unknown>>;
        };
      },
    }),
  ];
}
