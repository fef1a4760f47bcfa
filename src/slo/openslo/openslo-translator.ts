import { z } from "zod";
import {
  type ConfigProblem,
  type DocPath,
  type DocumentTranslator,
  type Origin,
  parseWithPositions,
  type RawDocument,
  type RawLookup,
  translatedDocument,
} from "../../config/index.js";
import { type Expr, parseExpr, type VectorSelector } from "../../promql/index.js";
import { formatNinesDuration } from "../sloth/durations.js";

const API = "openslo/v1";
/** The annotation on an OpenSLO Service that names the Nines team owning it. */
export const OWNER_TEAM_ANNOTATION = "nines.dev/owner-team";
const MINUTE = 60_000;
const HAS_WINDOW = /\{\{\s*\.window\s*\}\}/;

const Metadata = z.strictObject({
  name: z.string(),
  displayName: z.string().optional(),
  labels: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
type Metadata = z.infer<typeof Metadata>;
const Envelope = z.strictObject({
  apiVersion: z.literal(API),
  kind: z.string(),
  metadata: Metadata,
  spec: z.record(z.string(), z.unknown()),
});
/** An object inlined in another: the envelope without apiVersion. */
const Inline = z.strictObject({
  kind: z.string().optional(),
  metadata: Metadata,
  spec: z.record(z.string(), z.unknown()),
});

const Metric = z.strictObject({
  metricSource: z.strictObject({
    metricSourceRef: z.string().optional(),
    type: z.string().optional(),
    spec: z.record(z.string(), z.unknown()),
  }),
});
type Metric = z.infer<typeof Metric>;
const SliSpec = z.strictObject({
  description: z.string().optional(),
  thresholdMetric: z.unknown().optional(),
  ratioMetric: z
    .strictObject({
      counter: z.boolean().optional(),
      good: Metric.optional(),
      bad: Metric.optional(),
      total: Metric.optional(),
      rawType: z.unknown().optional(),
      raw: z.unknown().optional(),
    })
    .optional(),
});
const SloSpec = z.strictObject({
  description: z.string().optional(),
  service: z.string(),
  indicator: z.unknown().optional(),
  indicatorRef: z.string().optional(),
  timeWindow: z
    .array(
      z.strictObject({
        duration: z.string(),
        isRolling: z.boolean().optional(),
        calendar: z.strictObject({ startTime: z.string(), timeZone: z.string() }).optional(),
      }),
    )
    .length(1, "timeWindow holds exactly one window")
    .optional(),
  budgetingMethod: z.enum(["Occurrences", "Timeslices", "RatioTimeslices"]),
  objectives: z
    .array(
      z.strictObject({
        displayName: z.string().optional(),
        op: z.unknown().optional(),
        value: z.unknown().optional(),
        target: z.number().optional(),
        targetPercent: z.number().optional(),
        timeSliceTarget: z.number().optional(),
        timeSliceWindow: z.union([z.number(), z.string()]).optional(),
      }),
    )
    .min(1),
  alertPolicies: z.array(z.record(z.string(), z.unknown())).optional(),
});
const PolicySpec = z.strictObject({
  description: z.string().optional(),
  alertWhenNoData: z.boolean().optional(),
  alertWhenResolved: z.boolean().optional(),
  alertWhenBreaching: z.boolean().optional(),
  conditions: z.array(z.record(z.string(), z.unknown())).min(1),
  notificationTargets: z.array(z.unknown()).optional(),
});
const ConditionSpec = z.strictObject({
  description: z.string().optional(),
  severity: z.string(),
  condition: z.strictObject({
    kind: z.string().default("burnrate"),
    op: z.enum(["lt", "lte", "gt", "gte"]).optional(),
    threshold: z.number(),
    lookbackWindow: z.string(),
    alertAfter: z.string().optional(),
  }),
});
const ServiceSpec = z.strictObject({ description: z.string().optional() });

/** Problems of one translation, positioned in the document they are about. */
class Findings {
  readonly list: ConfigProblem[] = [];
  error(raw: RawDocument, path: DocPath, message: string): void {
    this.list.push({ ...raw.locate(path), severity: "error", message });
  }
  /** At a field's key, for a whole section that cannot be mapped. */
  errorAtKey(raw: RawDocument, path: DocPath, key: string, message: string): void {
    this.list.push({ ...raw.locateKey(path, key), severity: "error", message });
  }
  warning(raw: RawDocument, path: DocPath, message: string): void {
    this.list.push({ ...raw.locate(path), severity: "warning", message });
  }
  parse<T>(schema: z.ZodType<T>, value: unknown, path: DocPath, raw: RawDocument): T | undefined {
    return parseWithPositions(schema, value, path, raw, this.list);
  }
  get failed(): boolean {
    return this.list.some((p) => p.severity === "error");
  }
}

/**
 * Follows a reference to another OpenSLO document (`indicatorRef`, `alertPolicyRef`, `conditionRef`) and maps
 * it. The referenced document's own problems are reported once, at that document; the referring field only
 * says that it is missing or cannot be mapped.
 */
function mapReferenced<T>(
  f: Findings,
  raw: RawDocument,
  path: DocPath,
  field: string,
  kind: string,
  name: string,
  lookup: RawLookup,
  map: (target: RawDocument, envelope: z.infer<typeof Envelope>, quiet: Findings) => T | undefined,
): T | undefined {
  const target = lookup(API, kind, name);
  if (!target) {
    f.error(raw, path, `${field}: there is no OpenSLO ${kind} "${name}" in this configuration`);
    return undefined;
  }
  const quiet = new Findings();
  const envelope = quiet.parse(Envelope, target.value, [], target);
  const mapped = envelope && map(target, envelope, quiet);
  if (!mapped || quiet.failed) {
    f.error(raw, path, `${field}: OpenSLO ${kind} "${name}" cannot be mapped; see its errors`);
    return undefined;
  }
  return mapped;
}

/** A part of a translated document and where each of its fields was written. */
interface Mapped<T> {
  value: T;
  origins: Origin[];
}

const under = (prefix: DocPath, origins: readonly Origin[]): Origin[] =>
  origins.map((o) => ({ ...o, to: [...prefix, ...o.to] }));

/**
 * OpenSLO v1 documents as configuration: an SLO (with its SLI, inline or by indicatorRef, and its alert
 * policies) becomes a nines/v1 SLO; a Service becomes a nines/v1 Service when it names its owner team. What
 * has no Nines equivalent is an error that says what to write instead.
 */
export const openSloTranslator: DocumentTranslator = {
  name: "OpenSLO v1",
  matches: (value) =>
    value !== null && typeof value === "object" && (value as { apiVersion?: unknown }).apiVersion === API,
  translate(raw, lookup) {
    const f = new Findings();
    const doc = f.parse(Envelope, raw.value, [], raw);
    if (!doc) return { documents: [], problems: f.list };
    const documents: RawDocument[] = [];
    switch (doc.kind) {
      case "SLO": {
        const slo = translateSlo(raw, doc.metadata, doc.spec, lookup, f);
        if (slo) documents.push(slo);
        break;
      }
      case "Service": {
        const service = translateService(raw, doc.metadata, doc.spec, lookup, f);
        if (service) documents.push(service);
        break;
      }
      // SLIs, policies and conditions become part of the SLOs that use them; alone they are only checked.
      case "SLI":
        mapSli(raw, [], doc.spec, lookup, f);
        break;
      case "AlertPolicy":
        mapPolicy(raw, [], doc.metadata, doc.spec, lookup, f);
        break;
      case "AlertCondition":
        mapCondition(raw, [], doc.metadata, doc.spec, f);
        break;
      case "DataSource":
        f.warning(
          raw,
          ["kind"],
          `OpenSLO DataSource "${doc.metadata.name}" is accepted and not used: Nines reads SLIs from its own metrics backend, so only its type (Prometheus) matters`,
        );
        break;
      case "AlertNotificationTarget":
        f.warning(
          raw,
          ["kind"],
          `OpenSLO AlertNotificationTarget "${doc.metadata.name}" is accepted and not used: Nines routes SLO alerts by their labels (slo, service, severity) through its alert routing`,
        );
        break;
      default:
        f.error(
          raw,
          ["kind"],
          `OpenSLO kind "${doc.kind}" cannot be mapped; Nines reads SLO, SLI, AlertPolicy, AlertCondition, Service, DataSource and AlertNotificationTarget`,
        );
    }
    return { documents, problems: f.list };
  },
};

function ninesMetadata(metadata: Metadata): Record<string, unknown> {
  const labels = metadata.labels
    ? Object.fromEntries(
        Object.entries(metadata.labels).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : v]),
      )
    : undefined;
  return {
    name: metadata.name,
    ...(labels ? { labels } : {}),
    ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
  };
}

function describe(displayName: string | undefined, description: string | undefined): string | undefined {
  if (displayName && description) return `${displayName}: ${description}`;
  return description ?? displayName;
}

function translateService(
  raw: RawDocument,
  metadata: Metadata,
  specValue: unknown,
  lookup: RawLookup,
  f: Findings,
): RawDocument | undefined {
  const spec = f.parse(ServiceSpec, specValue, ["spec"], raw);
  if (!spec) return undefined;
  const owner = metadata.annotations?.[OWNER_TEAM_ANNOTATION];
  if (owner === undefined) {
    if (lookup("nines/v1", "Service", metadata.name)) return undefined;
    f.error(
      raw,
      ["metadata", "name"],
      `OpenSLO Service "${metadata.name}" cannot be mapped on its own: a Nines service needs an owner team. Add the annotation ${OWNER_TEAM_ANNOTATION}: <team>, or define a nines/v1 Service "${metadata.name}" (this document then only names it)`,
    );
    return undefined;
  }
  const description = describe(metadata.displayName, spec.description);
  return translatedDocument(
    {
      apiVersion: "nines/v1",
      kind: "Service",
      metadata: ninesMetadata(metadata),
      spec: { ownerTeam: owner, ...(description ? { description } : {}) },
    },
    raw,
    [
      { to: ["metadata"], raw, from: ["metadata"] },
      { to: ["spec"], raw, from: ["spec"] },
      { to: ["spec", "ownerTeam"], raw, from: ["metadata", "annotations", OWNER_TEAM_ANNOTATION] },
    ],
  );
}

function translateSlo(
  raw: RawDocument,
  metadata: Metadata,
  specValue: unknown,
  lookup: RawLookup,
  f: Findings,
): RawDocument | undefined {
  const spec = f.parse(SloSpec, specValue, ["spec"], raw);
  if (!spec) return undefined;
  const origins: Origin[] = [
    { to: ["metadata"], raw, from: ["metadata"] },
    { to: ["spec"], raw, from: ["spec"] },
    { to: ["spec", "service"], raw, from: ["spec", "service"] },
  ];
  const out: Record<string, unknown> = { service: spec.service };
  const description = describe(metadata.displayName, spec.description);
  if (description) {
    out.description = description;
    origins.push({ to: ["spec", "description"], raw, from: ["spec", "description"] });
  }

  // The indicator: inline, or another document's.
  if ((spec.indicator === undefined) === (spec.indicatorRef === undefined)) {
    f.error(raw, ["spec"], "an OpenSLO SLO needs exactly one of indicator or indicatorRef");
  } else if (spec.indicator !== undefined) {
    const inline = f.parse(Inline, spec.indicator, ["spec", "indicator"], raw);
    const sli = inline && mapSli(raw, ["spec", "indicator"], inline.spec, lookup, f);
    if (sli) {
      out.sli = { ratio: sli.value };
      origins.push(...under(["spec", "sli", "ratio"], sli.origins));
    }
  } else if (spec.indicatorRef !== undefined) {
    const path = ["spec", "indicatorRef"];
    const sli = mapReferenced(
      f,
      raw,
      path,
      "indicatorRef",
      "SLI",
      spec.indicatorRef,
      lookup,
      (target, envelope, quiet) => mapSli(target, [], envelope.spec, lookup, quiet),
    );
    if (sli) {
      out.sli = { ratio: sli.value };
      origins.push({ to: ["spec", "sli"], raw, from: path }, ...under(["spec", "sli", "ratio"], sli.origins));
    }
  }

  // One objective: Nines SLOs have a single target.
  const objectivePath = ["spec", "objectives", 0];
  const objective = spec.objectives[0];
  if (spec.objectives.length > 1) {
    f.error(
      raw,
      ["spec", "objectives", 1],
      "a Nines SLO has one objective; write one OpenSLO SLO (or nines/v1 SLO) per objective",
    );
  }
  if (objective) {
    if (objective.op !== undefined || objective.value !== undefined) {
      f.error(
        raw,
        objectivePath,
        "objectives[].op and value (thresholds for a thresholdMetric) cannot be mapped: Nines SLIs are ratios of events; give target or targetPercent only",
      );
    }
    if ((objective.target === undefined) === (objective.targetPercent === undefined)) {
      f.error(
        raw,
        objectivePath,
        "an objective needs exactly one of target (0..1) or targetPercent (0..100)",
      );
    } else if (objective.target !== undefined) {
      out.objective = round(objective.target * 100);
      origins.push({ to: ["spec", "objective"], raw, from: [...objectivePath, "target"] });
    } else {
      out.objective = objective.targetPercent;
      origins.push({ to: ["spec", "objective"], raw, from: [...objectivePath, "targetPercent"] });
    }
  }

  const window = spec.timeWindow?.[0];
  if (window) {
    const mapped = mapWindow(raw, ["spec", "timeWindow", 0], window, f);
    if (mapped) {
      out.window = mapped.value;
      origins.push(...mapped.origins);
    }
  }

  const budgetingPath = ["spec", "budgetingMethod"];
  if (spec.budgetingMethod === "RatioTimeslices") {
    f.error(
      raw,
      budgetingPath,
      "budgetingMethod RatioTimeslices (the average of per-slice ratios) cannot be mapped: Nines budgets by Occurrences or Timeslices",
    );
  } else if (spec.budgetingMethod === "Timeslices" && objective) {
    const budgeting: Record<string, unknown> = { method: "timeslices" };
    origins.push({ to: ["spec", "budgeting"], raw, from: budgetingPath });
    if (objective.timeSliceTarget === undefined || objective.timeSliceWindow === undefined) {
      f.error(raw, objectivePath, "budgetingMethod Timeslices needs timeSliceTarget and timeSliceWindow");
    } else {
      budgeting.sliceTarget = round(objective.timeSliceTarget * 100);
      const slice = objective.timeSliceWindow;
      const ms = typeof slice === "number" ? slice * MINUTE : shorthandMs(slice);
      if (ms === undefined) {
        f.error(
          raw,
          [...objectivePath, "timeSliceWindow"],
          `timeSliceWindow "${slice}" is not a duration Nines can use; write minutes, e.g. 1m or 5m`,
        );
      } else budgeting.slice = formatNinesDuration(ms);
      origins.push(
        { to: ["spec", "budgeting", "slice"], raw, from: [...objectivePath, "timeSliceWindow"] },
        { to: ["spec", "budgeting", "sliceTarget"], raw, from: [...objectivePath, "timeSliceTarget"] },
      );
    }
    out.budgeting = budgeting;
  }

  if (spec.alertPolicies !== undefined) {
    const tiers: unknown[] = [];
    spec.alertPolicies.forEach((item, i) => {
      const path = ["spec", "alertPolicies", i];
      let mapped: Array<Mapped<unknown>> | undefined;
      if ("alertPolicyRef" in item) {
        const ref = f.parse(z.strictObject({ alertPolicyRef: z.string() }), item, path, raw);
        if (!ref) return;
        mapped = mapReferenced(
          f,
          raw,
          [...path, "alertPolicyRef"],
          "alertPolicyRef",
          "AlertPolicy",
          ref.alertPolicyRef,
          lookup,
          (target, envelope, quiet) => mapPolicy(target, [], envelope.metadata, envelope.spec, lookup, quiet),
        );
      } else {
        const inline = f.parse(Inline, item, path, raw);
        mapped = inline && mapPolicy(raw, path, inline.metadata, inline.spec, lookup, f);
      }
      for (const tier of mapped ?? []) {
        origins.push(...under(["spec", "alerting", "tiers", tiers.length], tier.origins));
        tiers.push(tier.value);
      }
    });
    // An explicit empty list means no alerts; without alertPolicies the workbook's tiers apply.
    out.alerting = { tiers };
    origins.push({ to: ["spec", "alerting"], raw, from: ["spec", "alertPolicies"] });
  }

  if (f.failed) return undefined;
  return translatedDocument(
    { apiVersion: "nines/v1", kind: "SLO", metadata: ninesMetadata(metadata), spec: out },
    raw,
    origins,
  );
}

/** An OpenSLO SLI's ratioMetric as a Nines sli.ratio, with PromQL in Sloth's [{{.window}}] form. */
function mapSli(
  raw: RawDocument,
  base: DocPath,
  specValue: unknown,
  lookup: RawLookup,
  f: Findings,
): Mapped<Record<string, string>> | undefined {
  const spec = f.parse(SliSpec, specValue, [...base, "spec"], raw);
  if (!spec) return undefined;
  const at = (...path: Array<string | number>) => [...base, "spec", ...path];
  if (spec.thresholdMetric !== undefined) {
    f.errorAtKey(
      raw,
      at(),
      "thresholdMetric",
      "thresholdMetric cannot be mapped: Nines SLIs are ratios of events. Use ratioMetric with Prometheus queries, or write a nines/v1 SLO with sli.latency (a histogram or a check) or sli.checkAvailability",
    );
    return undefined;
  }
  const ratio = spec.ratioMetric;
  if (!ratio) {
    f.error(raw, at(), "an OpenSLO SLI needs ratioMetric (thresholdMetric cannot be mapped)");
    return undefined;
  }
  if (ratio.raw !== undefined || ratio.rawType !== undefined) {
    f.errorAtKey(
      raw,
      at("ratioMetric"),
      ratio.raw !== undefined ? "raw" : "rawType",
      "ratioMetric.raw (a precomputed ratio) cannot be mapped: Nines counts good and total events; give good or bad, and total",
    );
    return undefined;
  }
  if ((ratio.good === undefined) === (ratio.bad === undefined) || ratio.total === undefined) {
    f.error(raw, at("ratioMetric"), "ratioMetric needs total and exactly one of good or bad");
    return undefined;
  }
  const value: Record<string, string> = {};
  const origins: Origin[] = [];
  for (const field of ["good", "bad", "total"] as const) {
    const metric = ratio[field];
    if (!metric) continue;
    const path = at("ratioMetric", field, "metricSource");
    const query = metricQuery(raw, path, metric, ratio.counter, lookup, f);
    if (query === undefined) continue;
    value[field] = query;
    origins.push({ to: [field], raw, from: [...path, "spec", "query"] });
  }
  return f.failed ? undefined : { value, origins };
}

function metricQuery(
  raw: RawDocument,
  path: DocPath,
  metric: Metric,
  counter: boolean | undefined,
  lookup: RawLookup,
  f: Findings,
): string | undefined {
  const source = metric.metricSource;
  let type = source.type;
  if (type === undefined && source.metricSourceRef !== undefined) {
    const ds = lookup(API, "DataSource", source.metricSourceRef)?.value as
      | { spec?: { type?: unknown } }
      | undefined;
    if (!ds) {
      f.error(
        raw,
        [...path, "metricSourceRef"],
        `there is no OpenSLO DataSource "${source.metricSourceRef}" in this configuration; define it or set type: Prometheus`,
      );
      return undefined;
    }
    type = typeof ds.spec?.type === "string" ? ds.spec.type : undefined;
  }
  if (type?.toLowerCase() !== "prometheus") {
    f.error(
      raw,
      [...path, "type"],
      `metric source type ${type === undefined ? "(none)" : `"${type}"`} cannot be mapped: Nines evaluates PromQL against its own metrics, so the type must be Prometheus`,
    );
    return undefined;
  }
  const query = source.spec.query;
  for (const key of Object.keys(source.spec)) {
    if (key !== "query")
      f.error(
        raw,
        [...path, "spec", key],
        `metricSource.spec.${key} cannot be mapped: Nines reads only query`,
      );
  }
  if (typeof query !== "string") {
    f.error(raw, [...path, "spec"], "metricSource.spec.query is required: the PromQL query");
    return undefined;
  }
  const queryPath = [...path, "spec", "query"];
  if (HAS_WINDOW.test(query)) return query;
  const advice =
    "write it as events per second over Sloth's window placeholder, e.g. sum(rate(http_requests_total[{{.window}}]))";
  if (counter !== true) {
    f.error(
      raw,
      queryPath,
      `without counter: true Nines cannot tell how to turn this query into events per second; ${advice}`,
    );
    return undefined;
  }
  let expr: Expr;
  try {
    expr = parseExpr(query);
  } catch (error) {
    f.error(raw, queryPath, `not valid PromQL: ${(error as Error).message}`);
    return undefined;
  }
  const wrapped = counterRate(expr, query);
  if (wrapped === undefined) {
    f.error(
      raw,
      queryPath,
      `a counter query is mapped only when it is a selector or a sum of one, e.g. sum by (route) (http_requests_total{code="200"}); for this one ${advice}`,
    );
  }
  return wrapped;
}

/**
 * A counter selector, or a sum of one, as the per-second rate of its events over the SLO's windows: summing
 * rates instead of counters is what keeps the result right across counter resets.
 */
function counterRate(expr: Expr, text: string): string | undefined {
  const strip = (e: Expr): Expr => (e.kind === "Paren" ? strip(e.expr) : e);
  const selector = (e: Expr): VectorSelector | undefined => {
    const s = strip(e);
    return s.kind === "VectorSelector" && s.offsetMs === 0 && s.at === undefined ? s : undefined;
  };
  const top = strip(expr);
  const direct = selector(top);
  if (direct) return `sum(rate(${text.slice(direct.pos.start, direct.pos.end)}[{{.window}}]))`;
  if (top.kind === "Aggregate" && top.op === "sum") {
    const inner = selector(top.expr);
    if (!inner) return undefined;
    const grouping =
      top.grouping.length > 0 ? ` ${top.without ? "without" : "by"} (${top.grouping.join(", ")}) ` : "";
    return `sum${grouping}(rate(${text.slice(inner.pos.start, inner.pos.end)}[{{.window}}]))`;
  }
  return undefined;
}

const SHORTHAND = /^(\d+)(s|m|h|d|w|M|Q|Y)$/;
const SHORTHAND_MS: Record<string, number> = {
  s: 1000,
  m: MINUTE,
  h: 60 * MINUTE,
  d: 1440 * MINUTE,
  w: 10080 * MINUTE,
};

/** An OpenSLO duration-shorthand in milliseconds; months, quarters and years have no fixed length. */
function shorthandMs(text: string): number | undefined {
  const match = SHORTHAND.exec(text);
  const size = match ? SHORTHAND_MS[match[2] ?? ""] : undefined;
  return match && size !== undefined ? Number(match[1]) * size : undefined;
}

function mapWindow(
  raw: RawDocument,
  path: DocPath,
  window: {
    duration: string;
    isRolling?: boolean | undefined;
    calendar?: { startTime: string; timeZone: string } | undefined;
  },
  f: Findings,
): Mapped<unknown> | undefined {
  const rolling = window.isRolling ?? window.calendar === undefined;
  if (rolling) {
    if (window.calendar !== undefined) {
      f.error(raw, [...path, "calendar"], "a rolling window (isRolling: true) has no calendar");
      return undefined;
    }
    const ms = shorthandMs(window.duration);
    if (ms === undefined) {
      f.error(
        raw,
        [...path, "duration"],
        `rolling window "${window.duration}" cannot be mapped: Nines rolling windows are days, weeks or hours (e.g. 28d, 4w); for months or quarters use a calendar window`,
      );
      return undefined;
    }
    return {
      value: formatNinesDuration(ms),
      origins: [{ to: ["spec", "window"], raw, from: [...path, "duration"] }],
    };
  }
  if (!window.calendar) {
    f.error(raw, path, "a calendar window (isRolling: false) needs calendar.startTime and calendar.timeZone");
    return undefined;
  }
  const unit = window.duration === "1M" ? "month" : window.duration === "1Q" ? "quarter" : undefined;
  if (!unit) {
    f.error(
      raw,
      [...path, "duration"],
      `calendar window "${window.duration}" cannot be mapped: Nines calendar windows are one month (1M) or one quarter (1Q)`,
    );
    return undefined;
  }
  const start = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(window.calendar.startTime);
  const month = Number(start?.[2]);
  const aligned =
    start !== null &&
    start[3] === "01" &&
    `${start[4]}${start[5]}${start[6]}` === "000000" &&
    (unit === "month" || [1, 4, 7, 10].includes(month));
  if (!aligned) {
    f.error(
      raw,
      [...path, "calendar", "startTime"],
      `calendar.startTime "${window.calendar.startTime}" cannot be mapped: Nines calendar windows start at midnight on the first day of the ${unit} in their time zone; write e.g. 2024-01-01 00:00:00`,
    );
    return undefined;
  }
  return {
    value: { calendar: unit, timezone: window.calendar.timeZone },
    origins: [
      { to: ["spec", "window"], raw, from: [...path, "duration"] },
      { to: ["spec", "window", "timezone"], raw, from: [...path, "calendar", "timeZone"] },
    ],
  };
}

/** An AlertPolicy's burn-rate conditions as Nines tiers. */
function mapPolicy(
  raw: RawDocument,
  base: DocPath,
  metadata: Metadata,
  specValue: unknown,
  lookup: RawLookup,
  f: Findings,
): Array<Mapped<unknown>> | undefined {
  const spec = f.parse(PolicySpec, specValue, [...base, "spec"], raw);
  if (!spec) return undefined;
  if (spec.alertWhenNoData === true) {
    f.error(
      raw,
      [...base, "spec", "alertWhenNoData"],
      `AlertPolicy "${metadata.name}": alertWhenNoData cannot be mapped: Nines SLO alerts fire on burn rates only; remove it (an absent() alerting rule covers missing data)`,
    );
  }
  const tiers: Array<Mapped<unknown>> = [];
  spec.conditions.forEach((item, i) => {
    const path = [...base, "spec", "conditions", i];
    if ("conditionRef" in item) {
      const ref = f.parse(z.strictObject({ conditionRef: z.string() }), item, path, raw);
      if (!ref) return;
      const tier = mapReferenced(
        f,
        raw,
        [...path, "conditionRef"],
        "conditionRef",
        "AlertCondition",
        ref.conditionRef,
        lookup,
        (target, envelope, quiet) => mapCondition(target, [], envelope.metadata, envelope.spec, quiet),
      );
      if (!tier) return;
      tiers.push(tier);
      return;
    }
    const inline = f.parse(Inline, item, path, raw);
    const tier = inline && mapCondition(raw, path, inline.metadata, inline.spec, f);
    if (tier) tiers.push(tier);
  });
  if (f.failed) return undefined;
  // A policy that does not alert on breaches adds no tier; resolve notifications are always sent.
  return spec.alertWhenBreaching === false ? [] : tiers;
}

const PAGE = /^(page|paging|critical|high|urgent|sev-?[12]|p[12])$/i;
const TICKET = /^(ticket|warning|warn|medium|low|info|sev-?[345]|p[345])$/i;

/**
 * A burn-rate condition as a Nines tier: threshold is the factor and lookbackWindow the long window. Nines
 * confirms a burn with a short window instead of a hold time, so alertAfter becomes the short window (the
 * burn must still be going on over it); without one it is a twelfth of the long window, as in the workbook.
 */
function mapCondition(
  raw: RawDocument,
  base: DocPath,
  metadata: Metadata,
  specValue: unknown,
  f: Findings,
): Mapped<unknown> | undefined {
  const spec = f.parse(ConditionSpec, specValue, [...base, "spec"], raw);
  if (!spec) return undefined;
  const at = (...path: string[]) => [...base, "spec", "condition", ...path];
  const c = spec.condition;
  if (c.kind !== "burnrate") {
    f.error(
      raw,
      at("kind"),
      `condition kind "${c.kind}" cannot be mapped: Nines alerts on SLOs by burn rate (kind: burnrate)`,
    );
    return undefined;
  }
  if (c.op === "lt" || c.op === "lte") {
    f.error(
      raw,
      at("op"),
      `op ${c.op} cannot be mapped: a Nines burn-rate tier fires when the burn rate is above its threshold (gt, gte)`,
    );
  }
  const long = shorthandMs(c.lookbackWindow);
  if (long === undefined || long < MINUTE) {
    f.error(
      raw,
      at("lookbackWindow"),
      `lookbackWindow "${c.lookbackWindow}" is not a duration Nines can use; write minutes, hours or days, e.g. 1h`,
    );
  }
  const after = c.alertAfter === undefined ? 0 : shorthandMs(c.alertAfter);
  if (after === undefined) {
    f.error(
      raw,
      at("alertAfter"),
      `alertAfter "${c.alertAfter}" is not a duration Nines can use; write e.g. 5m`,
    );
  }
  const severity = PAGE.test(spec.severity) ? "page" : TICKET.test(spec.severity) ? "ticket" : undefined;
  if (!severity) {
    f.error(
      raw,
      [...base, "spec", "severity"],
      `severity "${spec.severity}" cannot be mapped: Nines tiers page or open a ticket; use page (or critical, high, sev1, sev2, p1, p2) or ticket (or warning, low, info, sev3…, p3…)`,
    );
  }
  if (long === undefined || after === undefined || !severity || f.failed) return undefined;
  const useAfter = after > 0 && after < long;
  const short = useAfter ? after : Math.max(MINUTE, Math.round(long / 12 / MINUTE) * MINUTE);
  return {
    value: {
      name: metadata.name,
      severity,
      factor: c.threshold,
      longWindow: formatNinesDuration(long),
      shortWindow: formatNinesDuration(short),
    },
    origins: [
      { to: [], raw, from: base },
      { to: ["name"], raw, from: [...base, "metadata", "name"] },
      { to: ["severity"], raw, from: [...base, "spec", "severity"] },
      { to: ["factor"], raw, from: at("threshold") },
      { to: ["longWindow"], raw, from: at("lookbackWindow") },
      { to: ["shortWindow"], raw, from: at(useAfter ? "alertAfter" : "lookbackWindow") },
    ],
  };
}

const round = (x: number) => Number(x.toPrecision(12));
