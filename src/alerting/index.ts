/**
 * Alerting: rule groups that evaluate PromQL alerting rules, the Alertmanager-compatible intake (API v2) that
 * validates and stores alerts before answering, routing as Alertmanager defines it (groups, inhibition,
 * silences, time intervals) with its state saved alongside the notification outbox, and a trace per alert.
 */
export type { AlertIntakeResult, AlertSink, AlertSource, IncomingAlert } from "./alert-model.js";
export {
  type AlertingObjects,
  AlertingRuntime,
  type AlertingRuntimeOptions,
  type AlertingStatus,
  type AlertTrace,
  loadAlertingObjects,
  sloIncoming,
} from "./alerting-runtime.js";
export { type AlertmanagerApiDeps, alertmanagerApiRoutes } from "./api/am-api-routes.js";
export { validateAlert } from "./intake/validate-alert.js";
export type { TraceEvent } from "./routing/index.js";
