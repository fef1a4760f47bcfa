import { z } from "zod";
import {
  type ConfigProblem,
  type DocumentTranslator,
  type Origin,
  parseWithPositions,
  type RawDocument,
  translatedDocument,
} from "../../config/index.js";
import { WORKBOOK_TIERS } from "../burn-rate.js";
import { formatNinesDuration } from "./durations.js";

const VERSION = "prometheus/v1";
const Labels = z.record(z.string(), z.string());
const Alert = z.strictObject({
  disable: z.boolean().optional(),
  labels: Labels.optional(),
  annotations: Labels.optional(),
});
const SlothSlo = z.strictObject({
  name: z.string(),
  objective: z.number(),
  description: z.string().optional(),
  labels: Labels.optional(),
  sli: z.strictObject({
    events: z.strictObject({ error_query: z.string(), total_query: z.string() }).optional(),
    raw: z.unknown().optional(),
    plugin: z.unknown().optional(),
  }),
  alerting: z
    .strictObject({
      name: z.string().optional(),
      labels: Labels.optional(),
      annotations: Labels.optional(),
      page_alert: Alert.optional(),
      ticket_alert: Alert.optional(),
    })
    .optional(),
  plugins: z.unknown().optional(),
});
const SlothSpec = z.strictObject({
  version: z.literal(VERSION),
  service: z.string(),
  labels: Labels.optional(),
  slo_plugins: z.unknown().optional(),
  slos: z.array(SlothSlo).min(1),
});

/** Alert annotations that name a runbook; Nines links it from every alert of the SLO. */
const RUNBOOK_KEYS = ["runbook", "runbook_url"];

/**
 * Sloth `prometheus/v1` specs as configuration: each SLO becomes a nines/v1 SLO named `<service>-<slo>` (Sloth's
 * SLO id), over Sloth's 30-day window, with event SLIs as ratio SLIs (error_query → bad, total_query → total;
 * both already use {{.window}}) and the workbook's page and ticket tiers Sloth generates.
 */
export const slothTranslator: DocumentTranslator = {
  name: "Sloth prometheus/v1",
  matches: (value) =>
    value !== null &&
    typeof value === "object" &&
    (value as { version?: unknown }).version === VERSION &&
    (value as { apiVersion?: unknown }).apiVersion === undefined,
  translate(raw) {
    const problems: ConfigProblem[] = [];
    const error = (path: Array<string | number>, message: string, severity: "error" | "warning" = "error") =>
      problems.push({ ...raw.locate(path), severity, message });
    const spec = parseWithPositions(SlothSpec, raw.value, [], raw, problems);
    if (!spec) return { documents: [], problems };
    if (spec.slo_plugins !== undefined)
      error(
        ["slo_plugins"],
        "slo_plugins cannot be mapped: Sloth plugins run inside Sloth; write what they add as Nines SLO fields",
      );
    const documents: RawDocument[] = [];
    spec.slos.forEach((slo, i) => {
      const at = (...path: Array<string | number>) => ["slos", i, ...path];
      const before = problems.length;
      if (slo.plugins !== undefined)
        error(
          at("plugins"),
          "plugins cannot be mapped: Sloth plugins run inside Sloth; write what they add as Nines SLO fields",
        );
      if (slo.sli.raw !== undefined)
        error(
          at("sli", "raw"),
          "sli.raw.error_ratio_query cannot be mapped: Nines counts bad and total events to keep error budgets exact; write sli.events with error_query and total_query",
        );
      if (slo.sli.plugin !== undefined)
        error(
          at("sli", "plugin"),
          "sli.plugin cannot be mapped: SLI plugins run inside Sloth; write the queries the plugin makes as sli.events error_query and total_query",
        );
      if (!slo.sli.events && slo.sli.raw === undefined && slo.sli.plugin === undefined)
        error(at("sli"), "sli needs events with error_query and total_query");
      if (problems.slice(before).some((p) => p.severity === "error") || !slo.sli.events) return;

      const origins: Origin[] = [
        { to: [], raw, from: at() },
        { to: ["metadata"], raw, from: at("name") },
        { to: ["spec", "service"], raw, from: ["service"] },
        { to: ["spec", "objective"], raw, from: at("objective") },
        { to: ["spec", "description"], raw, from: at("description") },
        { to: ["spec", "sli"], raw, from: at("sli") },
        { to: ["spec", "sli", "ratio", "bad"], raw, from: at("sli", "events", "error_query") },
        { to: ["spec", "sli", "ratio", "total"], raw, from: at("sli", "events", "total_query") },
        { to: ["spec", "alerting"], raw, from: at("alerting") },
      ];
      const alerting = slo.alerting;
      // Sloth's labels go on every rule it writes; in Nines they go on the SLO's alerts.
      const labels = { ...spec.labels, ...slo.labels, ...alerting?.labels };
      for (const key of Object.keys(labels)) {
        const from =
          alerting?.labels?.[key] !== undefined
            ? at("alerting", "labels", key)
            : slo.labels?.[key] !== undefined
              ? at("labels", key)
              : ["labels", key];
        origins.push({ to: ["spec", "alerting", "labels", key], raw, from });
      }
      const ninesAlerting: Record<string, unknown> = { labels };
      const runbookKey = RUNBOOK_KEYS.find((k) => alerting?.annotations?.[k] !== undefined);
      if (runbookKey) {
        ninesAlerting.runbook = alerting?.annotations?.[runbookKey];
        origins.push({
          to: ["spec", "alerting", "runbook"],
          raw,
          from: at("alerting", "annotations", runbookKey),
        });
      }
      const page = alerting?.page_alert?.disable !== true;
      const ticket = alerting?.ticket_alert?.disable !== true;
      if (!page || !ticket) {
        ninesAlerting.tiers = WORKBOOK_TIERS.filter((t) => (t.severity === "page" ? page : ticket)).map(
          (t) => ({
            name: t.name,
            severity: t.severity,
            factor: t.factor,
            longWindow: formatNinesDuration(t.longWindowMs),
            shortWindow: formatNinesDuration(t.shortWindowMs),
          }),
        );
      }
      const unmapped = [
        ...(alerting?.name !== undefined ? ["name"] : []),
        ...Object.keys(alerting?.annotations ?? {})
          .filter((k) => !RUNBOOK_KEYS.includes(k))
          .map((k) => `annotations.${k}`),
        ...(["page_alert", "ticket_alert"] as const).flatMap((which) => [
          ...Object.keys(alerting?.[which]?.labels ?? {}).map((k) => `${which}.labels.${k}`),
          ...Object.keys(alerting?.[which]?.annotations ?? {}).map((k) => `${which}.annotations.${k}`),
        ]),
      ];
      if (unmapped.length > 0)
        problems.push({
          ...raw.locateKey(at(), "alerting"),
          severity: "warning",
          message: `alerting ${unmapped.join(", ")} not mapped: Nines names its SLO alerts SLOErrorBudgetBurn, labels them slo, service, severity (page or ticket) and tier, and writes its own summary; route on those labels`,
        });
      documents.push(
        translatedDocument(
          {
            apiVersion: "nines/v1",
            kind: "SLO",
            metadata: { name: `${spec.service}-${slo.name}` },
            spec: {
              service: spec.service,
              ...(slo.description !== undefined ? { description: slo.description } : {}),
              sli: { ratio: { bad: slo.sli.events.error_query, total: slo.sli.events.total_query } },
              objective: slo.objective,
              window: "30d",
              alerting: ninesAlerting,
            },
          },
          raw,
          origins,
        ),
      );
    });
    return { documents, problems };
  },
};
