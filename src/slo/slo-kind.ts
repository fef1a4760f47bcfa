import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { Duration, durationMs } from "../checks/index.js";
import { type ConfigObject, defineKind, ObjectName, type Reference } from "../config/index.js";
import { type BurnRateTier, scaleTiers, tierWarnings, WORKBOOK_TIERS } from "./burn-rate.js";
import { groupingProblem, parseSliQuery } from "./sli-query.js";
import type { Budgeting, Exclusion, SloTarget } from "./slo-evaluator.js";
import { isKnownTimeZone, nominalWindowMs, type SloWindow } from "./slo-window.js";

const HOUR = 3_600_000;
const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name: letters, digits and _");
const Url = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
const WindowDuration = z
  .string()
  .regex(/^(?:\d+(?:ms|s|m|h|d|w))+$/, 'a duration such as "30d", "28d" or "12w"');

const RatioSli = z
  .strictObject({
    good: z
      .string()
      .optional()
      .describe(
        'PromQL for good events per second, e.g. sum(rate(http_requests_total{code!~"5.."}[{{.window}}])).',
      ),
    bad: z.string().optional().describe("Or PromQL for bad events per second."),
    total: z.string().describe("PromQL for all events per second, with the same {{.window}} placeholder."),
  })
  .describe("Good (or bad) and total events from PromQL, in Sloth's form: rates over [{{.window}}].");

const LatencySli = z
  .strictObject({
    check: z
      .strictObject({
        name: ObjectName.describe("The Check whose response time counts."),
        threshold: Duration.describe("A run at or under this is good, e.g. 300ms."),
      })
      .optional(),
    histogram: z
      .strictObject({
        metric: z
          .string()
          .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
          .describe("The histogram's name, without _bucket."),
        le: z.string().describe('The bucket that counts as good, as written in its le label, e.g. "0.3".'),
        selector: z.string().default("").describe('Matchers for its series, e.g. {job="api"}.'),
      })
      .optional(),
  })
  .describe("Requests (or check runs) faster than a threshold are good.");

const Sli = z
  .strictObject({
    ratio: RatioSli.optional(),
    latency: LatencySli.optional(),
    checkAvailability: z
      .strictObject({
        check: ObjectName.describe("The Check whose runs count: a successful run is good."),
        degradedIsBad: z.boolean().default(false).describe("Count degraded runs as bad."),
      })
      .optional(),
  })
  .describe("Exactly one of ratio, latency or checkAvailability.");

const Tier = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
  severity: z.enum(["page", "ticket"]),
  factor: z.number().positive().describe("Burn rate at which it fires, e.g. 14.4."),
  longWindow: Duration,
  shortWindow: Duration,
});

export const SloSpec = z
  .strictObject({
    service: ObjectName.describe("The Service this objective is about."),
    description: z.string().max(2000).optional(),
    sli: Sli.optional(),
    composite: z
      .strictObject({
        components: z
          .array(z.strictObject({ slo: ObjectName, weight: z.number().positive().default(1) }))
          .min(1),
      })
      .optional()
      .describe("Instead of an SLI: the weighted objectives of other SLOs."),
    objective: z.number().describe("Target good share in percent, e.g. 99.9; between 0 and 100."),
    window: z
      .union([
        WindowDuration,
        z.strictObject({
          calendar: z.enum(["month", "quarter"]),
          timezone: z.string().default("UTC"),
        }),
      ])
      .default("30d")
      .describe(
        'A rolling window ("30d", "28d", "12w"; at least 1h) or {calendar: month|quarter, timezone}.',
      ),
    budgeting: z
      .strictObject({
        method: z.enum(["occurrences", "timeslices"]).default("occurrences"),
        slice: Duration.default("1m").describe("Time-slice length (timeslices only)."),
        sliceTarget: z.number().default(95).describe("Percent of good events that make a slice good."),
      })
      .default({ method: "occurrences", slice: "1m", sliceTarget: 95 }),
    groupBy: z.array(LabelName).default([]).describe("One objective per value of these labels."),
    exclusions: z
      .array(
        z.strictObject({
          start: z.iso.datetime({ offset: true }).optional(),
          end: z.iso.datetime({ offset: true }).optional(),
          schedule: z
            .string()
            .optional()
            .describe('A cron schedule for a recurring exclusion, e.g. "0 2 * * 0".'),
          duration: Duration.optional(),
          timezone: z.string().default("UTC"),
          reason: z.string().max(500).optional(),
        }),
      )
      .default([])
      .describe("Periods left out of the budget: start/end once, or schedule + duration."),
    alerting: z
      .strictObject({
        tiers: z
          .array(Tier)
          .optional()
          .describe("Burn-rate tiers; the SRE workbook's four, scaled to the window, unless set."),
        minEvents: z
          .int()
          .min(0)
          .default(0)
          .describe("Events a tier's long window must hold before it fires."),
        expectedEventsPerHour: z
          .number()
          .positive()
          .optional()
          .describe("For config warnings on low traffic."),
        runbook: Url.optional().describe("Linked from alerts; the service's runbook unless set."),
        labels: z.record(LabelName, z.string()).default({}),
      })
      .default({ minEvents: 0, labels: {} }),
    policy: z
      .strictObject({
        freezeChanges: z
          .boolean()
          .default(true)
          .describe("Freeze changes to the service while the budget is spent."),
        freezeBelow: z
          .number()
          .min(0)
          .max(100)
          .default(0)
          .describe("Freeze below this percent of budget left."),
      })
      .default({ freezeChanges: true, freezeBelow: 0 }),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: Array<string | number>, message: string) =>
      ctx.addIssue({ code: "custom", path, message });
    if (!(spec.objective > 0 && spec.objective < 100))
      issue(
        ["objective"],
        `objective must be between 0 and 100 (exclusive), e.g. 99.9; got ${spec.objective}`,
      );
    if (typeof spec.window === "string") {
      const ms = windowMs(spec.window);
      if (ms < HOUR) issue(["window"], `window must be at least 1h; got ${spec.window}`);
    } else if (!isKnownTimeZone(spec.window.timezone)) {
      issue(
        ["window", "timezone"],
        `unknown time zone "${spec.window.timezone}"; use an IANA name such as Europe/Berlin`,
      );
    }
    if ((spec.sli === undefined) === (spec.composite === undefined))
      issue([], "an SLO needs exactly one of sli or composite");
    const sli = spec.sli;
    if (sli) {
      const kinds = [sli.ratio, sli.latency, sli.checkAvailability].filter((x) => x !== undefined).length;
      if (kinds !== 1) issue(["sli"], "sli needs exactly one of ratio, latency or checkAvailability");
      if (sli.ratio) {
        if ((sli.ratio.good === undefined) === (sli.ratio.bad === undefined))
          issue(["sli", "ratio"], "ratio needs exactly one of good or bad, beside total");
        for (const field of ["good", "bad", "total"] as const) {
          const query = sli.ratio[field];
          if (query === undefined) continue;
          try {
            const problem = groupingProblem(parseSliQuery(query), spec.groupBy);
            if (problem) issue(["sli", "ratio", field], problem);
          } catch (error) {
            issue(["sli", "ratio", field], `not valid PromQL: ${(error as Error).message}`);
          }
        }
      }
      if (sli.latency && (sli.latency.check === undefined) === (sli.latency.histogram === undefined))
        issue(["sli", "latency"], "latency needs exactly one of check or histogram");
      if ((sli.checkAvailability || sli.latency?.check) && spec.groupBy.length > 0)
        issue(["groupBy"], "a check's runs have no labels to group by; remove groupBy");
      if (sli.latency?.histogram) {
        try {
          parseSliQuery(`${sli.latency.histogram.metric}_bucket${sli.latency.histogram.selector}`);
        } catch (error) {
          issue(
            ["sli", "latency", "histogram", "selector"],
            `not a valid selector: ${(error as Error).message}`,
          );
        }
      }
    }
    if (spec.budgeting.method === "timeslices") {
      if (durationMs(spec.budgeting.slice) < 60_000 || durationMs(spec.budgeting.slice) % 60_000 !== 0)
        issue(["budgeting", "slice"], "slice must be a whole number of minutes, at least 1m");
      if (!(spec.budgeting.sliceTarget > 0 && spec.budgeting.sliceTarget <= 100))
        issue(["budgeting", "sliceTarget"], "sliceTarget must be above 0 and at most 100");
    }
    spec.exclusions.forEach((e, i) => {
      const once = e.start !== undefined || e.end !== undefined;
      const recurring = e.schedule !== undefined || e.duration !== undefined;
      if (
        once === recurring ||
        (once && (!e.start || !e.end)) ||
        (recurring && (!e.schedule || !e.duration))
      ) {
        issue(["exclusions", i], "an exclusion needs either start and end, or schedule and duration");
        return;
      }
      if (e.start && e.end && Date.parse(e.end) <= Date.parse(e.start))
        issue(["exclusions", i, "end"], "end must be after start");
      if (e.schedule) {
        try {
          CronExpressionParser.parse(e.schedule, { tz: e.timezone });
        } catch (error) {
          issue(
            ["exclusions", i, "schedule"],
            `not a cron schedule (or unknown time zone): ${(error as Error).message}`,
          );
        }
      }
    });
    spec.alerting.tiers?.forEach((tier, i) => {
      if (durationMs(tier.shortWindow) >= durationMs(tier.longWindow))
        issue(["alerting", "tiers", i, "shortWindow"], "shortWindow must be shorter than longWindow");
    });
  });
export type SloSpec = z.infer<typeof SloSpec>;

function windowMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g))
    total += Number(n) * (units[unit as string] ?? 0);
  return total;
}

export function sloWindow(spec: SloSpec): SloWindow {
  return typeof spec.window === "string"
    ? { kind: "rolling", ms: windowMs(spec.window) }
    : { kind: "calendar", unit: spec.window.calendar, timezone: spec.window.timezone };
}

export function sloTiers(spec: SloSpec): BurnRateTier[] {
  if (spec.alerting.tiers) {
    return spec.alerting.tiers.map((t) => ({
      name: t.name,
      severity: t.severity,
      factor: t.factor,
      longWindowMs: durationMs(t.longWindow),
      shortWindowMs: durationMs(t.shortWindow),
    }));
  }
  return scaleTiers(WORKBOOK_TIERS, nominalWindowMs(sloWindow(spec)));
}

/** The evaluator's view of an SLO spec, in milliseconds. */
export function sloTarget(spec: SloSpec): SloTarget {
  const budgeting: Budgeting =
    spec.budgeting.method === "timeslices"
      ? {
          method: "timeslices",
          sliceMs: durationMs(spec.budgeting.slice),
          sliceTargetPercent: spec.budgeting.sliceTarget,
        }
      : { method: "occurrences" };
  const exclusions: Exclusion[] = spec.exclusions.map((e) =>
    e.schedule !== undefined
      ? {
          kind: "recurring",
          schedule: e.schedule,
          timezone: e.timezone,
          durationMs: durationMs(e.duration ?? "0s"),
        }
      : { kind: "once", start: Date.parse(e.start ?? ""), end: Date.parse(e.end ?? "") },
  );
  return {
    objectivePercent: spec.objective,
    window: sloWindow(spec),
    budgeting,
    tiers: sloTiers(spec),
    minEvents: spec.alerting.minEvents,
    exclusions,
  };
}

/** The Check an SLO's SLI reads, if any. */
export function sliCheck(spec: SloSpec): string | null {
  return spec.sli?.checkAvailability?.check ?? spec.sli?.latency?.check?.name ?? null;
}

export const sloKind = defineKind<SloSpec>({
  apiVersion: "nines/v1",
  kind: "SLO",
  description:
    "A service level objective: an SLI, an objective over a window, its error budget and burn-rate alerts.",
  spec: SloSpec,
  order: 40,
  references: (spec) => {
    const refs: Reference[] = [{ kind: "Service", name: spec.service, path: ["service"] }];
    if (spec.sli?.checkAvailability)
      refs.push({
        kind: "Check",
        name: spec.sli.checkAvailability.check,
        path: ["sli", "checkAvailability", "check"],
      });
    if (spec.sli?.latency?.check)
      refs.push({
        kind: "Check",
        name: spec.sli.latency.check.name,
        path: ["sli", "latency", "check", "name"],
      });
    spec.composite?.components.forEach((c, i) => {
      refs.push({ kind: "SLO", name: c.slo, path: ["composite", "components", i, "slo"], acyclic: true });
    });
    return refs;
  },
  lint: (object: ConfigObject<SloSpec>, lookup) => {
    const spec = object.spec;
    let eventsPerHour = spec.alerting.expectedEventsPerHour;
    const check = sliCheck(spec);
    if (eventsPerHour === undefined && check !== null) {
      const interval = (lookup("Check", check)?.spec as { interval?: string } | undefined)?.interval;
      if (interval) eventsPerHour = HOUR / durationMs(interval);
    }
    return tierWarnings(sloTiers(spec), spec.objective, {
      ...(eventsPerHour === undefined ? {} : { eventsPerHour }),
      minEvents: spec.alerting.minEvents,
    }).map((message) => ({ path: ["alerting"], message, severity: "warning" as const }));
  },
  store: {
    // The configuration itself is the SLO's record (config_objects); the runtime reads it from there.
    async upsert() {},
    async remove() {},
  },
});
