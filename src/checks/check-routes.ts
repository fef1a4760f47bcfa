import { z } from "zod";
import { authorize } from "../auth/index.js";
import { NinesError, notFound } from "../platform/errors.js";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import {
  CheckDetail,
  CheckEventView,
  CheckResultView,
  CHECKS_PAGE_DEFAULT,
  CheckSummary,
  getCheck,
  listCheckEvents,
  listCheckResults,
  listCheckRollups,
  listChecks,
  RollupView,
  type UptimeCache,
} from "./check-queries.js";
import type { ChecksRuntime } from "./checks-runtime.js";

const NameParam = z.object({ name: z.string().min(1) });
const Page = z.object({
  before: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("Continue from this time (the last item's `at`)."),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const RunResult = CheckResultView.omit({ id: true });

const pageInput = (name: string, query: z.infer<typeof Page>) => ({
  name,
  before: query.before ? Date.parse(query.before) : undefined,
  limit: query.limit,
});
const PingBody = z.union([z.string(), z.record(z.string(), z.unknown()), z.undefined()]);

export function checkRoutes(runtime: ChecksRuntime, uptime: UptimeCache): AnyRoute[] {
  const ping =
    (failed: boolean) =>
    async ({ params, body }: { params: { token: string }; body: unknown }) => {
      const message = typeof body === "string" ? body : undefined;
      const result = runtime.ping(params.token, failed, message);
      if (!result)
        throw new NinesError(
          "NOT_FOUND",
          "No heartbeat check has this ping URL; copy it from `nines check show NAME`.",
        );
      return { ok: true, check: result.check };
    };
  const pingRoutes = (["GET", "POST"] as const).flatMap((method) =>
    [false, true].map((failed) =>
      defineRoute({
        method,
        url: `/api/v1/heartbeats/:token${failed ? "/fail" : ""}`,
        tag: "checks",
        summary: failed ? "A heartbeat job reports that it failed" : "A heartbeat job reports that it ran",
        access: "public",
        params: z.object({ token: z.string().min(10).max(100) }),
        body: PingBody,
        response: z.object({ ok: z.boolean(), check: z.string() }),
        handler: ping(failed),
      }),
    ),
  );
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/checks",
      tag: "checks",
      summary: "Checks with their state and uptime over 24 h, 7 d and 30 d, in name order, a page at a time",
      query: z.object({
        service: z.string().optional(),
        after: z.string().optional().describe("The `next` of the previous page."),
        limit: z.coerce.number().int().min(1).max(1000).default(CHECKS_PAGE_DEFAULT),
      }),
      response: z.object({
        checks: z.array(CheckSummary),
        next: z.string().nullable().describe("Pass as `after` for the next page; null on the last page."),
      }),
      handler: async ({ ctx, query }) => listChecks({ ctx, uptime, input: query }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/checks/:name",
      tag: "checks",
      summary: "One check: configuration, state, uptime",
      params: NameParam,
      response: CheckDetail,
      handler: async ({ ctx, params }) => getCheck({ ctx, uptime, input: params }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/checks/:name/results",
      tag: "checks",
      summary: "A check's runs, newest first, with the conditions and phase timings of each",
      params: NameParam,
      query: Page,
      response: z.object({ results: z.array(CheckResultView) }),
      handler: async ({ ctx, params, query }) => ({
        results: await listCheckResults({ ctx, input: pageInput(params.name, query) }),
      }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/checks/:name/events",
      tag: "checks",
      summary: "A check's state changes (up, down, degraded), newest first, with the reason",
      params: NameParam,
      query: Page,
      response: z.object({ events: z.array(CheckEventView) }),
      handler: async ({ ctx, params, query }) => ({
        events: await listCheckEvents({ ctx, input: pageInput(params.name, query) }),
      }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/checks/:name/rollups",
      tag: "checks",
      summary:
        "Per-minute, per-hour or per-day counts and latency of a check, oldest first (e.g. 90 daily bars)",
      params: NameParam,
      query: z.object({
        resolution: z.enum(["1m", "1h", "1d"]).default("1d"),
        from: z.iso.datetime({ offset: true }).optional().describe("Default: 90 buckets before `to`."),
        to: z.iso.datetime({ offset: true }).optional().describe("Default: now."),
      }),
      response: z.object({ rollups: z.array(RollupView) }),
      handler: async ({ ctx, params, query }) => {
        const to = query.to ? Date.parse(query.to) : ctx.clock.now() + 1;
        const size = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 }[query.resolution];
        const from = query.from ? Date.parse(query.from) : to - 90 * size;
        return {
          rollups: await listCheckRollups({
            ctx,
            input: { name: params.name, resolution: query.resolution, from, to },
          }),
        };
      },
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/checks/:name/run",
      tag: "checks",
      summary: "Run a check now and answer with the result, its conditions and phase timings",
      params: NameParam,
      response: RunResult,
      handler: async ({ ctx, params }) => {
        authorize(ctx, "check.run");
        if (!runtime.isKnown(params.name)) throw notFound("Check", params.name);
        const outcome = await runtime.runNow(params.name);
        if (!outcome)
          throw new NinesError(
            "INVALID_INPUT",
            `Check "${params.name}" is a heartbeat: it runs when its job pings it.`,
          );
        return {
          at: new Date(outcome.at).toISOString(),
          ok: outcome.ok,
          degraded: outcome.degraded,
          durationMs: outcome.durationMs,
          attempts: outcome.attempts,
          statusCode: outcome.statusCode,
          reason: outcome.reason,
          conditions: outcome.conditions,
          timings: outcome.timings,
        };
      },
    }),
    ...pingRoutes,
  ];
}
