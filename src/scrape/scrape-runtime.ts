import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Kysely } from "kysely";
import type { Clock } from "../platform/clock.js";
import type { Schema } from "../platform/db/schema.js";
import type { EventBus } from "../platform/events.js";
import type { Log } from "../platform/logger.js";
import { type Label, type Labels, labelsKey, STALE_NAN } from "../promql/index.js";
import { compareStrings, formatLabels } from "../promql/index.js";
import { AppendError, type Appender } from "../tsdb/index.js";
import { ExpositionError, SCRAPE_ACCEPT_HEADER } from "./exposition/exposition.js";
import { parseExposition } from "./exposition/parse-exposition.js";
import { fetchPage, ScrapeFailure } from "./fetch-page.js";
import { type CompiledRelabel, compileRelabels, relabel } from "./relabel.js";
import {
  parseByteSize,
  parsePromDuration,
  type ScrapeConfigObject,
  type ScrapeConfigSpec,
  scrapeTimeoutMs,
} from "./scrape-config-kind.js";

export interface ScrapeRuntimeOptions {
  clock: Clock;
  log: Log;
  events: EventBus;
  /** Where samples go: a MetricsBackend or a MetricsStore. */
  backend: { appender(): Appender };
  /** The ScrapeConfig objects in force; read at start and after each apply that touches the kind. */
  load?: () => Promise<ScrapeConfigObject[]>;
  /** Where `${VAR}` secret references are resolved; process.env unless said. */
  env?: NodeJS.ProcessEnv;
  /** False: no timers, scrapes run only through scrapeNow() (tests and simulations). True unless said. */
  schedule?: boolean;
  /** Sent as User-Agent. */
  userAgent?: string;
}

export type TargetHealth = "up" | "down" | "unknown";

/** One target as /api/v1/targets shows it. */
export interface TargetStatus {
  scrapePool: string;
  job: string;
  scrapeUrl: string;
  /** Labels every series of the target gets: job, instance and the static labels. */
  labels: Record<string, string>;
  health: TargetHealth;
  lastError: string;
  /** Milliseconds since the epoch; null before the first scrape. */
  lastScrape: number | null;
  lastScrapeDurationSeconds: number;
  lastSamples: number;
  scrapeIntervalMs: number;
  scrapeTimeoutMs: number;
}

/** The outcome of one scrape, as returned by scrapeNow. */
export interface ScrapeResult {
  target: string;
  ok: boolean;
  error: string;
  samplesScraped: number;
  samplesPostRelabeling: number;
  seriesAdded: number;
  durationSeconds: number;
}

interface Target {
  key: string;
  pool: string;
  job: string;
  address: string;
  spec: ScrapeConfigSpec;
  url: URL;
  targetLabels: Labels;
  rules: CompiledRelabel[];
  intervalMs: number;
  timeoutMs: number;
  bodyLimit: number;
  offsetMs: number;
  /** Series of the last scrape that carried no timestamp of their own: they go stale when they vanish. */
  previous: Map<string, Labels>;
  /** Whether the report series (up, …) were written, so they go stale when the target is removed. */
  reported: boolean;
  status: TargetStatus;
  timer: NodeJS.Timeout | null;
  running: Promise<ScrapeResult> | null;
  abort: AbortController;
}

const REPORT_NAMES = [
  "up",
  "scrape_duration_seconds",
  "scrape_samples_scraped",
  "scrape_samples_post_metric_relabeling",
  "scrape_series_added",
] as const;

/** Reads the applied ScrapeConfig objects from the config service's store of current objects. */
export async function loadScrapeConfigs(db: Kysely<Schema>): Promise<ScrapeConfigObject[]> {
  const rows = await db
    .selectFrom("config_objects")
    .select(["document"])
    .where("kind", "=", "ScrapeConfig")
    .orderBy("name")
    .execute();
  return rows.map((r) => JSON.parse(r.document) as ScrapeConfigObject);
}

/**
 * Scrapes every target of every ScrapeConfig, as Prometheus's scrape manager does: one loop per target at a
 * stable offset within its interval, each page parsed by its Content-Type, series labelled with job and
 * instance, metric_relabel_configs applied, and one batch per scrape holding the samples, the report series
 * (up, scrape_duration_seconds, …) and staleness markers for the series that went away. A bad page fails its
 * scrape with a reason; it never stops the loop.
 */
export class ScrapeRuntime {
  private readonly targets = new Map<string, Target>();
  private unsubscribe: (() => void) | null = null;
  private reloading: Promise<void> = Promise.resolve();
  private started = false;

  constructor(private readonly options: ScrapeRuntimeOptions) {}

  async start(): Promise<void> {
    this.started = true;
    const { load } = this.options;
    if (load !== undefined) {
      await this.sync(await load());
      this.unsubscribe = this.options.events.on("config.applied", (event) => {
        if (!event.changes.some((c) => c.kind === "ScrapeConfig")) return;
        const reload = async () => this.sync(await load());
        this.reloading = this.reloading.then(reload, reload);
        this.reloading.catch((error: unknown) =>
          this.options.log.error({ err: error }, "reloading scrape configs failed"),
        );
      });
    }
    for (const target of this.targets.values()) this.schedule(target);
  }

  /** Stops every loop and waits for scrapes in flight; writes nothing more. */
  async stop(): Promise<void> {
    this.started = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.reloading.catch(() => {});
    const running: Promise<unknown>[] = [];
    for (const target of this.targets.values()) {
      if (target.timer) clearTimeout(target.timer);
      target.timer = null;
      target.abort.abort();
      if (target.running) running.push(target.running);
    }
    await Promise.allSettled(running);
  }

  /**
   * Brings the targets in line with these configs. Targets whose definition did not change keep their loop
   * and their series; a changed one keeps its series (for staleness) and restarts its loop; a removed one
   * marks all its series stale.
   */
  async sync(configs: readonly ScrapeConfigObject[]): Promise<void> {
    const desired = new Map<
      string,
      Omit<Target, "previous" | "reported" | "status" | "timer" | "running" | "abort">
    >();
    for (const object of configs) {
      for (const target of targetsOf(object)) desired.set(target.key, target);
    }
    for (const [key, target] of [...this.targets]) {
      if (desired.has(key)) continue;
      this.targets.delete(key);
      if (target.timer) clearTimeout(target.timer);
      target.abort.abort();
      await target.running?.catch(() => {});
      await this.markRemoved(target);
    }
    for (const [key, next] of desired) {
      const current = this.targets.get(key);
      if (current !== undefined && JSON.stringify(current.spec) === JSON.stringify(next.spec)) continue;
      if (current?.timer) clearTimeout(current.timer);
      // The changed target takes over the old one's series once its scrape in flight has finished.
      await current?.running?.catch(() => {});
      const target: Target = {
        ...next,
        previous: current?.previous ?? new Map(),
        reported: current?.reported ?? false,
        status: {
          ...initialStatus(next),
          ...(current ? pickHistory(current.status) : {}),
        },
        timer: null,
        running: null,
        abort: new AbortController(),
      };
      this.targets.set(key, target);
      if (this.started) this.schedule(target);
    }
  }

  /** Every target's state: health, last scrape, last error. */
  targetStatuses(): TargetStatus[] {
    return [...this.targets.values()]
      .map((t) => ({ ...t.status, labels: { ...t.status.labels } }))
      .sort((a, b) => compareStrings(a.scrapePool, b.scrapePool) || compareStrings(a.scrapeUrl, b.scrapeUrl));
  }

  /** Scrapes now, outside the schedule: every target, or those of one pool (ScrapeConfig name). */
  async scrapeNow(pool?: string): Promise<ScrapeResult[]> {
    const picked = [...this.targets.values()].filter((t) => pool === undefined || t.pool === pool);
    return Promise.all(picked.map((t) => this.runOnce(t)));
  }

  private schedule(target: Target): void {
    if (this.options.schedule === false || !this.started) return;
    if (target.timer) clearTimeout(target.timer);
    const now = this.options.clock.now();
    // The next instant of this target's phase: (t - offset) is a multiple of the interval.
    const phase = (((now - target.offsetMs) % target.intervalMs) + target.intervalMs) % target.intervalMs;
    const delay = phase === 0 ? 0 : target.intervalMs - phase;
    target.timer = setTimeout(
      () => {
        target.timer = null;
        if (this.targets.get(target.key) !== target || !this.started) return;
        // A scrape still running when the next is due makes that one skip, as a ticker drops ticks.
        if (target.running === null)
          this.runOnce(target).catch((error: unknown) =>
            this.options.log.error(
              { err: error, job: target.job, instance: target.address },
              "scrape crashed",
            ),
          );
        this.schedule(target);
      },
      Math.max(delay, 1),
    );
    target.timer.unref();
  }

  private runOnce(target: Target): Promise<ScrapeResult> {
    if (target.running) return target.running;
    const run = this.scrape(target).finally(() => {
      target.running = null;
    });
    target.running = run;
    return run;
  }

  private async scrape(target: Target): Promise<ScrapeResult> {
    const { clock, log } = this.options;
    const t = clock.now();
    const started = performance.now();
    let samplesScraped = 0;
    let postRelabel = 0;
    let seriesAdded = 0;
    let error = "";
    const current = new Map<string, Labels>();
    let appender = this.options.backend.appender();
    try {
      const headers = this.headers(target);
      const page = await fetchPage(target.url, {
        headers,
        timeoutMs: target.timeoutMs,
        bodyLimit: target.bodyLimit,
        insecureSkipVerify: target.spec.tls_config?.insecure_skip_verify ?? false,
        signal: target.abort.signal,
      });
      const parsed = parseExposition(page.body, page.contentType);
      samplesScraped = parsed.samples.length;
      const seen = new Set<string>();
      for (const sample of parsed.samples) {
        const merged = mergeTargetLabels(sample.labels, target.targetLabels, target.spec.honor_labels);
        const labels = relabel(merged, target.rules);
        if (labels === null) continue;
        postRelabel++;
        if (target.spec.sample_limit > 0 && postRelabel > target.spec.sample_limit)
          throw new ScrapeFailure(`sample_limit of ${target.spec.sample_limit} exceeded`);
        const explicit = target.spec.honor_timestamps && sample.timestampMs !== undefined;
        const ts = explicit ? (sample.timestampMs as number) : t;
        const key = labelsKey(labels);
        const seenKey = `${key}@${ts}`;
        if (seen.has(seenKey))
          throw new ScrapeFailure(`duplicate series ${formatLabels(labels)} in the page`);
        seen.add(seenKey);
        try {
          appender.add(labels, ts, sample.value);
        } catch (appendError) {
          if (!(appendError instanceof AppendError)) throw appendError;
          const why = appendError.reason.replaceAll("_", "-");
          throw new ScrapeFailure(`${why} sample for ${formatLabels(labels)}: ${appendError.message}`);
        }
        if (!explicit) {
          if (!target.previous.has(key) && !current.has(key)) seriesAdded++;
          current.set(key, labels);
        }
      }
      for (const [key, labels] of target.previous) if (!current.has(key)) addStale(appender, labels, t);
    } catch (failure) {
      appender.rollback();
      // A scrape cancelled because its target went away or the runtime stopped writes nothing.
      if (target.abort.signal.aborted) return cancelled(target);
      appender = this.options.backend.appender();
      error = describeFailure(failure);
      for (const labels of target.previous.values()) addStale(appender, labels, t);
      current.clear();
      samplesScraped = 0;
      postRelabel = 0;
      seriesAdded = 0;
    }
    const durationSeconds = (performance.now() - started) / 1000;
    const report: Record<(typeof REPORT_NAMES)[number], number> = {
      up: error === "" ? 1 : 0,
      scrape_duration_seconds: durationSeconds,
      scrape_samples_scraped: samplesScraped,
      scrape_samples_post_metric_relabeling: postRelabel,
      scrape_series_added: seriesAdded,
    };
    for (const name of REPORT_NAMES)
      addReport(appender, withName(target.targetLabels, name), t, report[name]);
    try {
      await appender.commit();
      target.previous = current;
      target.reported = true;
    } catch (commitError) {
      log.error(
        { err: commitError, job: target.job, instance: target.address },
        "writing scraped samples failed",
      );
      if (error === "") error = `writing samples failed: ${(commitError as Error).message}`;
    }
    const wasHealth = target.status.health;
    target.status = {
      ...target.status,
      health: error === "" ? "up" : "down",
      lastError: error,
      lastScrape: t,
      lastScrapeDurationSeconds: durationSeconds,
      lastSamples: postRelabel,
    };
    if (error !== "" && wasHealth !== "down")
      log.warn({ job: target.job, instance: target.address, reason: error }, "scrape failed");
    else if (error === "" && wasHealth === "down")
      log.info({ job: target.job, instance: target.address }, "scrape target is up again");
    else if (error !== "")
      log.debug({ job: target.job, instance: target.address, reason: error }, "scrape failed");
    return {
      target: target.status.scrapeUrl,
      ok: error === "",
      error,
      samplesScraped,
      samplesPostRelabeling: postRelabel,
      seriesAdded,
      durationSeconds,
    };
  }

  /** A removed target's series, report series included, end with a staleness marker. */
  private async markRemoved(target: Target): Promise<void> {
    const t = Math.max(this.options.clock.now(), (target.status.lastScrape ?? 0) + 1);
    const appender = this.options.backend.appender();
    for (const labels of target.previous.values()) addStale(appender, labels, t);
    if (target.reported)
      for (const name of REPORT_NAMES) addStale(appender, withName(target.targetLabels, name), t);
    try {
      await appender.commit();
    } catch (error) {
      this.options.log.error({ err: error, job: target.job }, "writing staleness markers failed");
    }
  }

  private headers(target: Target): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: SCRAPE_ACCEPT_HEADER,
      "Accept-Encoding": "gzip",
      "User-Agent": this.options.userAgent ?? "Nines",
      "X-Prometheus-Scrape-Timeout-Seconds": String(target.timeoutMs / 1000),
    };
    const env = this.options.env ?? process.env;
    const secret = (ref: string) => {
      const name = /^\$\{(\w+)\}$/.exec(ref)?.[1] ?? "";
      const value = env[name];
      if (value === undefined)
        throw new ScrapeFailure(`environment variable ${name} is not set on the server`);
      return value;
    };
    const { basic_auth, bearer_token, authorization } = target.spec;
    if (basic_auth !== undefined) {
      const password = basic_auth.password === undefined ? "" : secret(basic_auth.password);
      headers.Authorization = `Basic ${Buffer.from(`${basic_auth.username}:${password}`).toString("base64")}`;
    } else if (bearer_token !== undefined) headers.Authorization = `Bearer ${secret(bearer_token)}`;
    else if (authorization !== undefined)
      headers.Authorization = `${authorization.type} ${secret(authorization.credentials)}`;
    return headers;
  }
}

function initialStatus(target: {
  pool: string;
  job: string;
  url: URL;
  targetLabels: Labels;
  intervalMs: number;
  timeoutMs: number;
}): TargetStatus {
  return {
    scrapePool: target.pool,
    job: target.job,
    scrapeUrl: target.url.toString(),
    labels: Object.fromEntries(target.targetLabels.map((l) => [l.name, l.value])),
    health: "unknown",
    lastError: "",
    lastScrape: null,
    lastScrapeDurationSeconds: 0,
    lastSamples: 0,
    scrapeIntervalMs: target.intervalMs,
    scrapeTimeoutMs: target.timeoutMs,
  };
}

function pickHistory(status: TargetStatus): Partial<TargetStatus> {
  const { health, lastError, lastScrape, lastScrapeDurationSeconds, lastSamples } = status;
  return { health, lastError, lastScrape, lastScrapeDurationSeconds, lastSamples };
}

function targetsOf(object: ScrapeConfigObject) {
  const spec = object.spec;
  const pool = object.metadata.name;
  const job = spec.job_name ?? pool;
  const intervalMs = parsePromDuration(spec.scrape_interval) ?? 60_000;
  const timeoutMs = scrapeTimeoutMs(spec);
  const bodyLimit = parseByteSize(spec.body_size_limit) ?? 0;
  const rules = compileRelabels(spec.metric_relabel_configs);
  const out = [];
  for (const group of spec.static_configs) {
    for (const address of group.targets) {
      const pairs = new Map<string, string>([["job", job]]);
      for (const [name, value] of Object.entries(group.labels)) pairs.set(name, value);
      if (!pairs.has("instance")) pairs.set("instance", address);
      const targetLabels: Label[] = [...pairs]
        .filter(([, v]) => v !== "")
        .map(([name, value]) => ({ name, value }))
        .sort((a, b) => compareStrings(a.name, b.name));
      const url = new URL(`${spec.scheme}://${address}${spec.metrics_path}`);
      for (const [name, values] of Object.entries(spec.params))
        for (const v of values) url.searchParams.append(name, v);
      const key = `${pool}\u0000${labelsKey(targetLabels)}\u0000${url.toString()}`;
      out.push({
        key,
        pool,
        job,
        address,
        spec,
        url,
        targetLabels,
        rules,
        intervalMs,
        timeoutMs,
        bodyLimit,
        offsetMs: stableOffset(key, intervalMs),
      });
    }
  }
  return out;
}

/** Spreads targets over the interval by a hash of who they are, so a restart keeps each one's phase. */
function stableOffset(key: string, intervalMs: number): number {
  const hash = createHash("sha256").update(key).digest();
  return Number(hash.readBigUInt64BE(0) % BigInt(Math.max(1, intervalMs)));
}

/**
 * Target labels over the page's labels, as Prometheus does: with honor_labels the page wins; without, the
 * target wins and the page's value is kept as exported_<name> (exported_exported_… if that is taken too).
 */
export function mergeTargetLabels(page: Labels, target: Labels, honorLabels: boolean): Labels {
  const map = new Map<string, string>();
  for (const l of page) map.set(l.name, l.value);
  const conflicts: Label[] = [];
  for (const l of target) {
    const existing = map.get(l.name);
    if (honorLabels) {
      if (existing === undefined || existing === "") map.set(l.name, l.value);
      continue;
    }
    if (existing !== undefined && existing !== "") conflicts.push({ name: l.name, value: existing });
    map.set(l.name, l.value);
  }
  for (const c of conflicts) {
    let name = `exported_${c.name}`;
    while (map.has(name)) name = `exported_${name}`;
    map.set(name, c.value);
  }
  const out: Label[] = [...map].map(([name, value]) => ({ name, value }));
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

function withName(labels: Labels, name: string): Labels {
  return [...labels, { name: "__name__", value: name }].sort((a, b) => compareStrings(a.name, b.name));
}

function addStale(appender: Appender, labels: Labels, t: number): void {
  try {
    appender.add(labels, t, STALE_NAN);
  } catch (error) {
    // A series whose last sample is newer (a page timestamp in the future) needs no marker now.
    if (!(error instanceof AppendError)) throw error;
  }
}

function addReport(appender: Appender, labels: Labels, t: number, value: number): void {
  try {
    appender.add(labels, t, value);
  } catch (error) {
    if (!(error instanceof AppendError)) throw error;
  }
}

function cancelled(target: Target): ScrapeResult {
  return {
    target: target.status.scrapeUrl,
    ok: false,
    error: "scrape cancelled",
    samplesScraped: 0,
    samplesPostRelabeling: 0,
    seriesAdded: 0,
    durationSeconds: 0,
  };
}

function describeFailure(failure: unknown): string {
  if (failure instanceof ScrapeFailure) return failure.message;
  if (failure instanceof ExpositionError) return `invalid page: ${failure.message}`;
  return `scrape failed: ${failure instanceof Error ? failure.message : String(failure)}`;
}
