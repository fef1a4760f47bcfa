import { type AlertingRuntime, alertmanagerApiRoutes } from "../alerting/index.js";
import { type RuleManager, ruleRoutes } from "../alerting/rules/index.js";
import { auditRoutes } from "../audit/index.js";
import { tokenRoutes } from "../auth/index.js";
import { catalogRoutes } from "../catalog/index.js";
import { type ChecksRuntime, checkRoutes, type UptimeCache } from "../checks/index.js";
import { type ConfigService, configRoutes, type KindRegistry } from "../config/index.js";
import { notifyRoutes, type OutboxWorker } from "../notify/index.js";
import type { AnyRoute } from "../platform/route.js";
import { promApiRoutes, type QueryLimits } from "../prom-api/index.js";
import { type ScrapeRuntime, scrapeRoutes } from "../scrape/index.js";
import { type SloRuntime, sloRoutes } from "../slo/index.js";
import type { MetricsBackend } from "../tsdb/index.js";
import { ninesVersion } from "./version.js";

/** Every domain's routes, mounted by the HTTP server. */
export function allRoutes(deps: {
  config: ConfigService;
  registry: KindRegistry;
  checks: ChecksRuntime;
  uptime: UptimeCache;
  scrape: ScrapeRuntime;
  slos: SloRuntime;
  rules: RuleManager;
  alerting: AlertingRuntime;
  notifications: OutboxWorker;
  metricsBackend: () => MetricsBackend;
  queryLimits: QueryLimits;
}): AnyRoute[] {
  return [
    ...catalogRoutes(),
    ...configRoutes(deps.config, deps.registry),
    ...tokenRoutes(),
    ...auditRoutes(),
    ...checkRoutes(deps.checks, deps.uptime),
    ...scrapeRoutes(deps.scrape),
    ...sloRoutes(deps.slos),
    ...ruleRoutes(deps.rules),
    ...alertmanagerApiRoutes({ runtime: deps.alerting, version: ninesVersion() }),
    ...notifyRoutes({ onRetry: () => deps.notifications.wake() }),
    ...promApiRoutes({ backend: deps.metricsBackend, limits: deps.queryLimits, version: ninesVersion() }),
  ];
}
