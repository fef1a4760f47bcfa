import { z } from "zod";
import { type ConfigObject, defineKind } from "../config/index.js";
import { RelabelConfig } from "./relabel.js";

const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS = [31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** A duration as Prometheus writes it: "15s", "1m30s", "500ms"; whole numbers, largest unit first. */
export function parsePromDuration(text: string): number | null {
  const match = PROM_DURATION.exec(text);
  if (match === null || text === "") return null;
  let ms = 0;
  DURATION_UNITS.forEach((unit, i) => {
    ms += Number(match[i + 1] ?? 0) * unit;
  });
  return ms;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)?$/;
const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
  TB: 1e12,
  TiB: 1024 ** 4,
};

/** A size such as "16MiB", "500KB" or "1048576" (bytes); 0 means no limit. */
export function parseByteSize(text: string): number | null {
  const match = SIZE.exec(text.trim());
  if (match === null) return null;
  return Math.floor(Number(match[1]) * (SIZE_UNITS[match[2] ?? "B"] ?? 1));
}

const PromDuration = z
  .string()
  .refine((s) => parsePromDuration(s) !== null, 'a Prometheus duration such as "15s", "1m" or "1m30s"');

const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "a label name: letters, digits and _");

/** Secrets are never written into configuration: only a reference to the server's environment. */
const SecretRef = z
  .string()
  .regex(
    /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/,
    `a reference to an environment variable of the server, such as \${SCRAPE_PASSWORD}; secrets are not kept in configuration`,
  );

/** host:port, a DNS name or an IP address (IPv6 in brackets), with an optional port. */
const Target = z
  .string()
  .regex(
    /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::\d{1,5})?$/,
    'host:port such as "10.0.0.1:9100" or "api.internal:8080", without scheme or path',
  );

export const StaticConfig = z.strictObject({
  targets: z.array(Target).describe("Addresses to scrape: host:port."),
  labels: z
    .record(LabelName, z.string())
    .default({})
    .describe("Labels added to every series of these targets."),
});
export type StaticConfig = z.infer<typeof StaticConfig>;

export const ScrapeConfigSpec = z
  .strictObject({
    job_name: z.string().min(1).optional().describe("The job label; defaults to metadata.name."),
    static_configs: z.array(StaticConfig).default([]),
    scrape_interval: PromDuration.default("1m").describe("How often each target is scraped; default 1m."),
    scrape_timeout: PromDuration.optional().describe(
      "Time limit of one scrape: 10s, or the interval when that is shorter; at most the interval.",
    ),
    metrics_path: z.string().startsWith("/").default("/metrics"),
    scheme: z.enum(["http", "https"]).default("http"),
    params: z.record(z.string(), z.array(z.string())).default({}).describe("URL query parameters."),
    honor_labels: z
      .boolean()
      .default(false)
      .describe("Keep the page's job/instance/… labels on conflict, instead of renaming them exported_*."),
    honor_timestamps: z.boolean().default(true).describe("Use the timestamps the page gives, if any."),
    basic_auth: z
      .strictObject({ username: z.string(), password: SecretRef.optional() })
      .optional()
      .describe(`HTTP basic authentication; the password as \${ENV_VAR}.`),
    bearer_token: SecretRef.optional().describe(`Sent as Authorization: Bearer; as \${ENV_VAR}.`),
    authorization: z
      .strictObject({ type: z.string().default("Bearer"), credentials: SecretRef })
      .optional()
      .describe(`Sent as Authorization: <type> <credentials>; credentials as \${ENV_VAR}.`),
    tls_config: z.strictObject({ insecure_skip_verify: z.boolean().default(false) }).optional(),
    sample_limit: z.int().min(0).default(0).describe("More samples than this fail the scrape; 0: no limit."),
    body_size_limit: z
      .string()
      .refine((s) => parseByteSize(s) !== null, 'a size such as "16MiB" or "500KB"')
      .default("16MiB")
      .describe("A larger response fails the scrape; default 16MiB; 0: no limit."),
    metric_relabel_configs: z
      .array(RelabelConfig)
      .default([])
      .describe("Rules applied to each scraped series."),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    const interval = parsePromDuration(spec.scrape_interval);
    const timeout = spec.scrape_timeout === undefined ? null : parsePromDuration(spec.scrape_timeout);
    if (interval === 0) issue("scrape_interval", "scrape_interval must be more than 0");
    if (timeout === 0) issue("scrape_timeout", "scrape_timeout must be more than 0");
    if (interval !== null && timeout !== null && timeout > interval)
      issue(
        "scrape_timeout",
        `scrape_timeout (${spec.scrape_timeout}) must not be longer than scrape_interval (${spec.scrape_interval})`,
      );
    const auths = [spec.basic_auth, spec.bearer_token, spec.authorization].filter((a) => a !== undefined);
    if (auths.length > 1)
      issue("authorization", "use only one of basic_auth, bearer_token and authorization");
  });
export type ScrapeConfigSpec = z.infer<typeof ScrapeConfigSpec>;

export type ScrapeConfigObject = ConfigObject<ScrapeConfigSpec>;

/** The effective timeout in ms: as configured, else 10s capped at the interval, as Prometheus does. */
export function scrapeTimeoutMs(spec: ScrapeConfigSpec): number {
  const interval = parsePromDuration(spec.scrape_interval) ?? 60_000;
  if (spec.scrape_timeout !== undefined) return parsePromDuration(spec.scrape_timeout) ?? interval;
  return Math.min(10_000, interval);
}

/**
 * Scrape jobs in Prometheus's own terms. The objects need no table of their own: the config service keeps
 * every applied object in config_objects, and the scrape runtime reads them from there on each
 * "config.applied" (see loadScrapeConfigs).
 */
export const scrapeConfigKind = defineKind<ScrapeConfigSpec>({
  apiVersion: "nines/v1",
  kind: "ScrapeConfig",
  description:
    "A Prometheus scrape job: static targets, interval, timeout, path, auth and metric_relabel_configs, in Prometheus's field names.",
  spec: ScrapeConfigSpec,
  order: 50,
  store: {
    async upsert() {},
    async remove() {},
  },
});
