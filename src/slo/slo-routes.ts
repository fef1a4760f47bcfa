import { z } from "zod";
import { authorize } from "../auth/index.js";
import { NinesError } from "../platform/errors.js";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import type { SloStatus } from "./slo-evaluator.js";
import type { SloRuntime } from "./slo-runtime.js";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const TierView = z.object({
  name: z.string(),
  severity: z.enum(["page", "ticket"]),
  factor: z.number(),
  longWindowSeconds: z.number(),
  shortWindowSeconds: z.number(),
  longBurnRate: z.number().nullable(),
  shortBurnRate: z.number().nullable(),
  eventsInLongWindow: z.number(),
  firing: z.boolean(),
  suppressed: z.boolean().describe("Burning, but a firing page tier of the same SLO holds this ticket back."),
});

const StatusView = z.object({
  at: z.string(),
  status: z.enum(["healthy", "warning", "exhausted", "insufficient_data"]),
  windowStart: z.string(),
  windowEnd: z.string(),
  sli: z.number().nullable(),
  goodEvents: z.number(),
  totalEvents: z.number(),
  budgetRemaining: z.number().nullable().describe("Share of the error budget left: 1 untouched, ≤ 0 spent."),
  budgetConsumed: z.number().nullable(),
  budgetSeconds: z.number().describe("The whole budget as time at the window's length."),
  budgetRemainingSeconds: z.number().nullable(),
  burnRateNow: z.number().nullable(),
  exhaustionAt: z.string().nullable().describe("When the budget runs out at the current burn rate."),
  tiers: z.array(TierView),
});

const SloView = z.object({
  name: z.string(),
  service: z.string(),
  objective: z.number(),
  window: z.union([z.string(), z.object({ calendar: z.string(), timezone: z.string() })]),
  groups: z.array(z.object({ labels: z.record(z.string(), z.string()), status: StatusView })),
});

function statusView(s: SloStatus): z.infer<typeof StatusView> {
  return {
    at: new Date(s.at).toISOString(),
    status: s.status,
    windowStart: new Date(s.window.start).toISOString(),
    windowEnd: new Date(s.window.end).toISOString(),
    sli: s.sli,
    goodEvents: s.good,
    totalEvents: s.total,
    budgetRemaining: s.errorBudget.remaining,
    budgetConsumed: s.errorBudget.consumed,
    budgetSeconds: s.errorBudget.totalMs / 1000,
    budgetRemainingSeconds: s.errorBudget.remainingMs === null ? null : s.errorBudget.remainingMs / 1000,
    burnRateNow: s.burnRateNow,
    exhaustionAt: iso(s.exhaustionAt),
    tiers: s.tiers.map((t) => ({
      name: t.name,
      severity: t.severity,
      factor: t.factor,
      longWindowSeconds: t.longWindowMs / 1000,
      shortWindowSeconds: t.shortWindowMs / 1000,
      longBurnRate: t.longBurnRate,
      shortBurnRate: t.shortBurnRate,
      eventsInLongWindow: t.eventsInLongWindow,
      firing: t.firing,
      suppressed: t.burning && !t.firing,
    })),
  };
}

/** The lowest remaining budget of an SLO's groups; SLOs without data sort last. */
function lowestRemaining(view: z.infer<typeof SloView>): number {
  const values = view.groups.map((g) => g.status.budgetRemaining).filter((v): v is number => v !== null);
  return values.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...values);
}

export function sloRoutes(runtime: SloRuntime): AnyRoute[] {
  const view = (name: string) => {
    const slo = runtime.get(name);
    if (!slo) throw new NinesError("NOT_FOUND", `No SLO is named "${name}"; \`nines slo list\` shows them.`);
    return { ...slo, groups: slo.groups.map((g) => ({ labels: g.labels, status: statusView(g.status) })) };
  };
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/slos",
      tag: "slos",
      summary: "SLOs with their budgets and firing tiers, least budget left first",
      query: z.object({ service: z.string().optional() }),
      response: z.object({ slos: z.array(SloView) }),
      async handler({ ctx, query }) {
        authorize(ctx, "slo.read");
        const slos = runtime
          .list()
          .filter((s) => query.service === undefined || s.service === query.service)
          .map((s) => view(s.name))
          .sort((a, b) => lowestRemaining(a) - lowestRemaining(b) || a.name.localeCompare(b.name));
        return { slos };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/slos/:name",
      tag: "slos",
      summary: "One SLO: budget, burn rates and tiers",
      params: z.object({ name: z.string() }),
      response: SloView,
      async handler({ ctx, params }) {
        authorize(ctx, "slo.read");
        return view(params.name);
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/slos/:name/history",
      tag: "slos",
      summary: "Budget left and burn rates over time, as series ready for charts",
      params: z.object({ name: z.string() }),
      query: z.object({
        from: z.iso.datetime({ offset: true }).optional().describe("Default: 24 hours ago."),
        to: z.iso.datetime({ offset: true }).optional().describe("Default: now."),
        step: z.coerce.number().int().min(60).default(300).describe("Seconds between points (at least 60)."),
      }),
      response: z.object({
        series: z.array(
          z.object({
            labels: z.record(z.string(), z.string()),
            timestamps: z.array(z.number()).describe("Unix seconds."),
            budgetRemaining: z.array(z.number().nullable()),
            burnRate: z
              .record(z.string(), z.array(z.number().nullable()))
              .describe("Long-window burn rate per tier."),
          }),
        ),
      }),
      async handler({ ctx, params, query }) {
        authorize(ctx, "slo.read");
        const to = query.to ? Date.parse(query.to) : ctx.clock.now();
        const from = query.from ? Date.parse(query.from) : to - 86_400_000;
        if (from > to) throw new NinesError("INVALID_INPUT", "from must not be after to");
        const history = runtime.history(params.name, from, to, query.step * 1000);
        if (!history) throw new NinesError("NOT_FOUND", `No SLO is named "${params.name}".`);
        return {
          series: history.map((h) => ({
            labels: h.labels,
            timestamps: h.points.map((p) => p.at / 1000),
            budgetRemaining: h.points.map((p) => p.errorBudget.remaining),
            burnRate: Object.fromEntries(
              (h.points[0]?.tiers ?? []).map((t, i) => [
                t.name,
                h.points.map((p) => p.tiers[i]?.longBurnRate ?? null),
              ]),
            ),
          })),
        };
      },
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/services/:name/gate",
      tag: "slos",
      summary: "Whether changes to a service may go ahead under its error-budget policy (for CI/CD)",
      params: z.object({ name: z.string() }),
      response: z.object({
        service: z.string(),
        allowed: z.boolean(),
        reasons: z.array(z.string()),
        slos: z.array(z.object({ name: z.string(), remaining: z.number().nullable(), status: z.string() })),
      }),
      async handler({ ctx, params }) {
        authorize(ctx, "slo.read");
        const known = await ctx.db
          .selectFrom("services")
          .select("name")
          .where("name", "=", params.name)
          .executeTakeFirst();
        if (!known)
          throw new NinesError(
            "NOT_FOUND",
            `No service is named "${params.name}"; \`nines services\` lists them.`,
          );
        return runtime.gate(params.name);
      },
    }),
  ];
}
