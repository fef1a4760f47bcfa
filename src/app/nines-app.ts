import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { sql } from "kysely";
import { ensureBootstrapAdmin } from "../auth/index.js";
import {
  ChecksRuntime,
  createAddressPolicy,
  DEFAULT_RETENTION,
  adaptiveExecutor,
  inProcessExecutor,
  UptimeCache,
  workerExecutor,
  workersAvailable,
} from "../checks/index.js";
import {
  type ApplyResult,
  ConfigService,
  formatProblem,
  type KindRegistry,
  readConfigPath,
} from "../config/index.js";
import { buildServer, type NinesServer } from "../http/server.js";
import { type Clock, systemClock } from "../platform/clock.js";
import { type Actor, type Ctx, systemActor } from "../platform/context.js";
import { openDatabase } from "../platform/db/database.js";
import type { OpenedDatabase } from "../platform/db/dialect.js";
import { migrateToLatest, migrationsApplied } from "../platform/db/migrate.js";
import { NinesError } from "../platform/errors.js";
import { createEventBus, type EventBus } from "../platform/events.js";
import { createLogger, type Logger } from "../platform/logger.js";
import { createMetrics, type Metrics } from "../platform/metrics.js";
import { AlertingRuntime } from "../alerting/index.js";
import { loadRuleFiles, loadRuleGroups, RuleManager } from "../alerting/rules/index.js";
import {
  createNotificationOutbox,
  OutboxWorker,
  sendWorkerAvailable,
  threadSender,
} from "../notify/index.js";
import { loadScrapeConfigs, ScrapeRuntime } from "../scrape/index.js";
import { SloRuntime } from "../slo/index.js";
import type { EmbeddedTsdb, MetricsBackend } from "../tsdb/index.js";
import { openMetrics } from "./metrics-setup.js";
import { createKindRegistry } from "./registry.js";
import { allRoutes } from "./routes.js";
import type { Settings } from "./settings.js";
import { ninesVersion } from "./version.js";

export const ADMIN_TOKEN_FILE = "admin-token";

export interface NinesApp {
  settings: Settings;
  server: NinesServer;
  database: OpenedDatabase;
  registry: KindRegistry;
  config: ConfigService;
  events: EventBus;
  metrics: Metrics;
  log: Logger;
  checks: ChecksRuntime;
  scrape: ScrapeRuntime;
  slos: SloRuntime;
  rules: RuleManager;
  alerting: AlertingRuntime;
  notifications: OutboxWorker;
  /** Where samples are written and PromQL is answered: the embedded store or an external database. */
  metricsBackend: MetricsBackend;
  /** The embedded store, when samples are kept here. */
  tsdb: EmbeddedTsdb | null;
  /** Where the bootstrap admin token was written, when this start created one. */
  adminTokenFile: string | null;
  ctx(actor: Actor): Ctx;
  /** Reads the config path again and applies it; on errors the running configuration stays as it was. */
  reloadConfig(): Promise<ApplyResult | null>;
  /** Serves HTTP, then starts delivering notifications (an app that never listens does not deliver). */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface CreateOptions {
  clock?: Clock;
  log?: Logger;
  /** How long listed uptimes may be reused; 30 s unless said (tests use 0). */
  uptimeCacheTtlMs?: number;
  /** False: the alerting runtime and notification worker are not started (tests that run their own). */
  alerting?: boolean;
}

/** The composition root: opens the database, migrates, wires domains to the HTTP server. */
export async function createNines(settings: Settings, options: CreateOptions = {}): Promise<NinesApp> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ level: settings.logLevel });
  const metrics = createMetrics();
  const phases = startupPhases();
  const database = openDatabase({
    url: settings.databaseUrl,
    dataDir: settings.dataDir,
    observe: (ms, failed) => metrics.dbQueryDuration.labels(failed ? "error" : "ok").observe(ms / 1000),
  });
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) log.info({ migrations: applied }, "database migrated");
    phases.mark("database");
  } catch (error) {
    await database.db.destroy();
    throw error;
  }
  const events = createEventBus((name, error) =>
    log.error({ err: error, event: name }, "event subscriber failed"),
  );
  const registry = createKindRegistry(
    settings.configPath ? { read: "under", path: settings.configPath } : { read: "nowhere" },
  );
  const config = new ConfigService(registry);
  const ctx = (actor: Actor): Ctx => ({
    actor,
    clock,
    db: database.db,
    adapter: database.adapter,
    log,
    events,
    anonymousRead: settings.anonymousRead,
  });

  const tokenFile = join(settings.dataDir, ADMIN_TOKEN_FILE);
  const secret = await ensureBootstrapAdmin(ctx(systemActor("bootstrap")), {
    fixedSecret: settings.adminToken,
    createIfMissing: !existsSync(tokenFile),
  });
  let adminTokenFile: string | null = null;
  if (secret !== null) {
    await mkdir(settings.dataDir, { recursive: true });
    await writeFile(tokenFile, `${secret}\n`, { mode: 0o600 });
    adminTokenFile = tokenFile;
  }
  phases.mark("bootstrap");

  const applyConfigPath = async (source: "startup" | "reload"): Promise<ApplyResult | null> => {
    if (!settings.configPath) return null;
    const read = await readConfigPath(settings.configPath);
    if (read.problems.length > 0) {
      return { ok: false, dryRun: false, problems: read.problems, plan: null, revision: 0, applied: false };
    }
    return config.apply({
      ctx: ctx(systemActor(`config-${source}`)),
      input: { sources: read.sources, dryRun: false, source },
    });
  };

  const startup = await applyConfigPath("startup");
  if (startup && !startup.ok) {
    await database.db.destroy();
    throw new NinesError(
      "INVALID_CONFIG",
      `The configuration in ${settings.configPath} has errors; Nines did not start:\n${startup.problems.map(formatProblem).join("\n")}`,
      {
        details: { problems: startup.problems },
      },
    );
  }
  if (startup?.applied)
    log.info({ revision: startup.revision, changes: startup.plan?.changes.length }, "configuration applied");
  phases.mark("config");

  const addressPolicy = { allow: settings.checkAllowCidrs, deny: settings.checkDenyCidrs };
  try {
    createAddressPolicy(addressPolicy);
  } catch (error) {
    await database.db.destroy();
    throw new NinesError(
      "INVALID_INPUT",
      `NINES_CHECK_ALLOW_CIDRS / NINES_CHECK_DENY_CIDRS: ${(error as Error).message.split(":")[0]}`,
    );
  }
  let opened: Awaited<ReturnType<typeof openMetrics>>;
  try {
    opened = await openMetrics(settings, { clock, log, metrics });
  } catch (error) {
    await database.db.destroy();
    throw error;
  }
  const { backend: metricsBackend, tsdb } = opened;
  phases.mark("tsdb");
  // Worker threads need the compiled worker and the real clock; tests with a simulated clock probe in-process.
  const canUseWorkers = settings.checkWorkers > 0 && clock === systemClock && workersAvailable();
  const inProcess = inProcessExecutor({ now: () => clock.now(), addressPolicy });
  const executor = canUseWorkers
    ? adaptiveExecutor({
        minChecks: settings.checkWorkersFrom,
        inProcess,
        startWorkers: () => {
          log.info({ workers: settings.checkWorkers }, "probes now run on worker threads");
          return workerExecutor({
            workers: settings.checkWorkers,
            addressPolicy,
            onWorkerError: (error) => log.error({ err: error }, "a probe worker failed; starting a new one"),
          });
        },
      })
    : inProcess;
  const checks = new ChecksRuntime({
    db: database.db,
    adapter: database.adapter,
    clock,
    log,
    events,
    metrics,
    executor,
    concurrency: settings.checkConcurrency,
    retention: DEFAULT_RETENTION,
    metricsAppender: () => metricsBackend.appender(),
  });
  const scrape = new ScrapeRuntime({
    clock,
    log,
    events,
    backend: metricsBackend,
    load: () => loadScrapeConfigs(database.db),
    schedule: clock === systemClock,
    userAgent: `Nines/${ninesVersion()}`,
  });
  const externalURL = `http://${settings.host}:${settings.port}`;
  // Sends run on a thread of their own, like probes: with the real clock and the compiled worker.
  const sender =
    clock === systemClock && sendWorkerAvailable()
      ? threadSender({
          onWorkerError: (error) => log.error({ err: error }, "the send thread failed; starting a new one"),
        })
      : undefined;
  const notifications = new OutboxWorker({
    db: database.db,
    adapter: database.adapter,
    clock,
    log,
    registry: metrics.registry,
    externalURL,
    ...(sender ? { sender } : {}),
  });
  // Declared before it exists: the outbox reads the configuration's `global:` defaults at each enqueue.
  let alertingRef: AlertingRuntime | null = null;
  const alerting = new AlertingRuntime({
    db: database.db,
    clock,
    log,
    events,
    outbox: createNotificationOutbox({
      clock,
      onEnqueue: (rows) => {
        notifications.remember(rows);
        notifications.wake();
      },
      global: () => alertingRef?.currentGlobal(),
    }),
    schedule: clock === systemClock,
  });
  alertingRef = alerting;
  const rules = new RuleManager({
    backend: metricsBackend,
    sink: alerting,
    clock,
    log,
    events,
    externalURL,
    schedule: clock === systemClock,
    forOutageToleranceMs: settings.rulesForOutageTolerance,
    forGracePeriodMs: settings.rulesForGracePeriod,
    load: async () => {
      const files = await loadRuleFiles(settings.ruleFiles);
      for (const problem of files.problems)
        log.error({ problem: formatProblem(problem) }, "rule file not loaded");
      return [...(await loadRuleGroups(database.db)), ...files.groups];
    },
  });
  const slos = new SloRuntime({
    db: database.db,
    clock,
    log,
    events,
    backend: () => metricsBackend,
    schedule: clock === systemClock,
  });
  const server = await buildServer(
    {
      db: database.db,
      adapter: database.adapter,
      clock,
      log,
      events,
      metrics,
      anonymousRead: settings.anonymousRead,
      version: ninesVersion(),
      readiness: async (): Promise<{ ok: boolean; checks: Record<string, string> }> => {
        try {
          await sql`select 1`.execute(database.db);
        } catch {
          return { ok: false, checks: { database: "unreachable" } };
        }
        const migrated = await migrationsApplied(database.db);
        return { ok: migrated, checks: { database: "ok", migrations: migrated ? "ok" : "pending" } };
      },
    },
    allRoutes({
      config,
      registry,
      checks,
      uptime: new UptimeCache(options.uptimeCacheTtlMs),
      scrape,
      slos,
      rules,
      alerting,
      notifications,
      metricsBackend: () => metricsBackend,
      queryLimits: { maxSamples: settings.queryMaxSamples, timeoutMs: settings.queryTimeout },
    }),
  );

  phases.mark("server");
  // The loops start once the server is built, so that building it does not share the event loop with the
  // flushes a crash left due.
  if (settings.runChecks) {
    // Alerting first, so it hears the first SLO and rule alerts; SLOs before checks, to count the first runs.
    if (options.alerting !== false) {
      await alerting.start();
      phases.mark("alerting");
    }
    await slos.start();
    phases.mark("slos");
    await checks.start();
    phases.mark("checks");
    await scrape.start();
    await rules.start();
    phases.mark("scrapeAndRules");
  } else await executor.close();
  log.info({ phasesMs: phases.done() }, "started");
  let closed = false;
  return {
    settings,
    server,
    database,
    registry,
    config,
    events,
    metrics,
    log,
    checks,
    scrape,
    slos,
    rules,
    alerting,
    notifications,
    metricsBackend,
    tsdb,
    adminTokenFile,
    ctx,
    async reloadConfig() {
      const result = await applyConfigPath("reload");
      if (result && !result.ok) {
        log.error(
          { problems: result.problems.map(formatProblem) },
          "configuration not reloaded: it has errors; the running configuration stays as it was",
        );
      } else if (result?.applied) {
        log.info({ revision: result.revision }, "configuration reloaded");
      }
      return result;
    },
    async listen() {
      const url = await server.listen({ host: settings.host, port: settings.port });
      // Delivery starts once the server is up: the backlog a crash leaves (notifications in flight, retries
      // due) would otherwise hold the event loop and delay serving by seconds.
      if (settings.runChecks && options.alerting !== false) notifications.start();
      return url;
    },
    async close() {
      if (closed) return;
      closed = true;
      // Fastify stops accepting, lets in-flight requests finish, then the database closes.
      await server.close();
      if (settings.runChecks) {
        await rules.stop();
        await scrape.stop();
        await checks.stop();
        await slos.stop();
        if (options.alerting !== false) {
          await alerting.stop();
          await notifications.stop();
          await sender?.close();
        }
      }
      // Last: checks and scrapes may still commit samples while they stop.
      await metricsBackend.close();
      await database.db.destroy();
    },
  };
}

/** Milliseconds spent in each start-up phase, for the "started" log line. */
function startupPhases() {
  let last = performance.now();
  const phases: Record<string, number> = {};
  return {
    mark(name: string) {
      const now = performance.now();
      phases[name] = Math.round(now - last);
      last = now;
    },
    done: () => phases,
  };
}
