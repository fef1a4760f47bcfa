import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { z } from "zod";
import { NinesError } from "../platform/errors.js";

const Bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
  d: 8.64e7,
  w: 6.048e8,
  y: 3.1536e10,
};

/** A duration as Prometheus's flags take it ("15d", "2m", "1h30m"), in milliseconds. */
const DurationMs = z
  .string()
  .regex(/^(?:\d+(?:ms|s|m|h|d|w|y))+$/, 'must be a duration such as "2m", "15d" or "1h30m"')
  .transform((text) => {
    let total = 0;
    for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g))
      total += Number(amount) * (UNITS_MS[unit as string] ?? 0);
    return total;
  });

const BYTE_UNITS: Record<string, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };

/** A size as Prometheus's --storage.tsdb.retention.size takes it ("512MB", "10GB"; powers of 1024); 0 = none. */
const ByteSize = z
  .string()
  .regex(/^\d+(?:B|KB|MB|GB|TB)?$/, 'must be a size such as "512MB" or "10GB", or 0 for no limit')
  .transform((text) => {
    const match = /^(\d+)(B|KB|MB|GB|TB)?$/.exec(text);
    return Number(match?.[1] ?? 0) * (BYTE_UNITS[match?.[2] ?? "B"] ?? 1);
  });

const HttpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

/** A comma-separated list in one variable: CIDRs, file paths. */
const CommaList = z
  .string()
  .default("")
  .transform((text) =>
    text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** Settings of one server process, read once at start-up from the environment and the serve command's flags. */
export const Settings = z.object({
  databaseUrl: z
    .string()
    .optional()
    .describe("postgres://… for PostgreSQL; otherwise SQLite in the data directory."),
  dataDir: z.string().default("./data"),
  host: z.string().default("127.0.0.1"),
  port: z.coerce.number().int().min(0).max(65535).default(9999),
  configPath: z
    .string()
    .optional()
    .describe("A file or directory of config documents applied at start-up and on SIGHUP."),
  adminToken: z
    .string()
    .min(20, "NINES_ADMIN_TOKEN must be at least 20 characters; use a random secret")
    .optional(),
  anonymousRead: Bool.default(false),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  checkConcurrency: z.coerce.number().int().min(1).max(100_000).default(2000),
  checkWorkers: z.coerce
    .number()
    .int()
    .min(0)
    .max(64)
    .default(Math.max(0, Math.min(4, availableParallelism() - 1)))
    .describe("Threads that run probes beside the main thread; 0 runs them on the main thread."),
  checkWorkersFrom: z.coerce
    .number()
    .int()
    .min(0)
    .default(200)
    .describe("Probe checks from which probes move to the worker threads; fewer run on the main thread."),
  heapGrowthPercent: z.coerce
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(50)
    .describe(
      "How far V8 may grow the heap past the live data before a full collection (50 = 1.5×); 0 keeps V8's own, up to 4×.",
    ),
  checkAllowCidrs: CommaList.describe(
    "Addresses checks may reach even if blocked by default, e.g. 169.254.169.254/32.",
  ),
  checkDenyCidrs: CommaList.describe(
    "Addresses checks may not reach, in addition to link-local and cloud metadata.",
  ),
  metricsRemoteWriteUrl: HttpUrl.optional().describe(
    "Send samples by remote_write to this Prometheus-compatible URL instead of the embedded store.",
  ),
  metricsQueryUrl: HttpUrl.optional().describe(
    "Base URL of that database's Prometheus HTTP API, which answers every query (e.g. http://prometheus:9090).",
  ),
  metricsBearerToken: z.string().optional().describe("Bearer token sent to the external metrics database."),
  tsdbRetention: DurationMs.default(15 * 86_400_000).describe("How long the embedded store keeps samples."),
  tsdbRetentionSize: ByteSize.default(0).describe("Most bytes the embedded store may use; 0 for no limit."),
  queryMaxSamples: z.coerce
    .number()
    .int()
    .min(1)
    .default(50_000_000)
    .describe("Most samples one query may hold in memory (Prometheus --query.max-samples)."),
  queryTimeout: DurationMs.default(120_000).describe("Longest a query may run (Prometheus --query.timeout)."),
  rulesForOutageTolerance: DurationMs.default(3_600_000).describe(
    "How old an alert's stored `for` state may be and still be restored at start (Prometheus --rules.alert.for-outage-tolerance).",
  ),
  rulesForGracePeriod: DurationMs.default(600_000).describe(
    "Least time a restored alert waits before it fires (Prometheus --rules.alert.for-grace-period).",
  ),
  ruleFiles: CommaList.describe(
    "Plain Prometheus rule files to evaluate beside RuleGroup objects, comma-separated.",
  ),
  /** False for tools that open the state without running checks. */
  runChecks: Bool.default(true),
});
export type Settings = z.infer<typeof Settings>;

const ENV: Record<keyof Settings, string> = {
  databaseUrl: "NINES_DATABASE_URL",
  dataDir: "NINES_DATA_DIR",
  host: "NINES_HOST",
  port: "NINES_PORT",
  configPath: "NINES_CONFIG",
  adminToken: "NINES_ADMIN_TOKEN",
  anonymousRead: "NINES_ANONYMOUS_READ",
  logLevel: "NINES_LOG_LEVEL",
  checkConcurrency: "NINES_CHECK_CONCURRENCY",
  checkWorkers: "NINES_CHECK_WORKERS",
  checkWorkersFrom: "NINES_CHECK_WORKERS_FROM",
  heapGrowthPercent: "NINES_HEAP_GROWTH_PERCENT",
  checkAllowCidrs: "NINES_CHECK_ALLOW_CIDRS",
  checkDenyCidrs: "NINES_CHECK_DENY_CIDRS",
  runChecks: "NINES_RUN_CHECKS",
  metricsRemoteWriteUrl: "NINES_METRICS_REMOTE_WRITE_URL",
  metricsQueryUrl: "NINES_METRICS_QUERY_URL",
  metricsBearerToken: "NINES_METRICS_BEARER_TOKEN",
  tsdbRetention: "NINES_TSDB_RETENTION",
  tsdbRetentionSize: "NINES_TSDB_RETENTION_SIZE",
  queryMaxSamples: "NINES_QUERY_MAX_SAMPLES",
  queryTimeout: "NINES_QUERY_TIMEOUT",
  ruleFiles: "NINES_RULE_FILES",
  rulesForOutageTolerance: "NINES_RULES_FOR_OUTAGE_TOLERANCE",
  rulesForGracePeriod: "NINES_RULES_FOR_GRACE_PERIOD",
};

/** Environment first, flags over it; an invalid value stops start-up with the variable's name. */
export function loadSettings(
  env: NodeJS.ProcessEnv,
  flags: Partial<Record<keyof Settings, string | undefined>> = {},
): Settings {
  const raw: Record<string, string> = {};
  for (const [key, variable] of Object.entries(ENV)) {
    const value = flags[key as keyof Settings] ?? env[variable];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "");
    const variable = ENV[key as keyof Settings] ?? key;
    throw new NinesError("INVALID_INPUT", `${variable}: ${issue?.message ?? "invalid value"}`);
  }
  return { ...parsed.data, dataDir: resolve(parsed.data.dataDir) };
}
