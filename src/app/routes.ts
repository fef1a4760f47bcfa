import { auditRoutes } from "../audit/index.js";
import { tokenRoutes } from "../auth/index.js";
import { catalogRoutes } from "../catalog/index.js";
import { type ChecksRuntime, checkRoutes, type UptimeCache } from "../checks/index.js";
import { type ConfigService, configRoutes, type KindRegistry } from "../config/index.js";
import type { AnyRoute } from "../platform/route.js";

/** Every domain's routes, mounted by the HTTP server. */
export function allRoutes(deps: {
  config: ConfigService;
  registry: KindRegistry;
  checks: ChecksRuntime;
  uptime: UptimeCache;
}): AnyRoute[] {
  return [
    ...catalogRoutes(),
    ...configRoutes(deps.config, deps.registry),
    ...tokenRoutes(),
    ...auditRoutes(),
    ...checkRoutes(deps.checks, deps.uptime),
  ];
}
