/**
 * Alert routing as Alertmanager defines it, as pure logic in simulated time: an Alertmanager configuration
 * (read as it is, with positioned errors, or as Nines kinds), the route tree, aggregation groups with
 * group_wait / group_interval / repeat_interval, inhibition, silences (also recurring ones), time intervals,
 * and a trace of what happened to every alert. Storage, the HTTP API v2 and delivery build on this.
 */
export {
  DEFAULTS,
  describeRoute,
  type InhibitRule,
  type LoadResult,
  loadAlertmanagerConfig,
  type RouteNode,
  type RoutingConfig,
} from "./am-config.js";
export {
  AlertmanagerFile,
  DELIVERED_INTEGRATIONS,
  KEPT_INTEGRATIONS,
  ReceiverConfig,
} from "./am-config-schema.js";
export {
  type AlertingSetup,
  AlertmanagerConfigSpec,
  alertingSetupFrom,
  alertmanagerConfigKind,
  ReceiverSpec,
  receiverKind,
} from "./alertmanager-config-kind.js";
export { type ImportResult, importAlertmanagerConfig } from "./alertmanager-import.js";
export {
  type Alert,
  AlertDispatcher,
  SEND_RESOLVED_DEFAULT,
  type AlertStatus,
  type CheckedAlert,
  type DispatcherOptions,
  type GroupStatus,
  type NotificationRequest,
  type NotifiedAlert,
  type ReceiverOptions,
  type RoutingSnapshot,
  type TraceEvent,
} from "./dispatcher.js";
export { fingerprint, type LabelSet, labelSetString, sortedLabelNames } from "./fingerprint.js";
export { type Matcher, type MatchType, matchersString, parseMatchers } from "./matchers.js";
export { matchRoutes, routeReceivers } from "./route-tree.js";
export type { Recurrence, Silence, SilenceInput, SilenceState } from "./silences.js";
export { silenceState } from "./silences.js";
export { parseModelDuration } from "./duration.js";
