/**
 * Prometheus rule groups in Nines: recording and alerting rules in Prometheus's rule file format (or as
 * RuleGroup config objects), evaluated on the metrics backend on Prometheus's schedule, writing their results
 * and the ALERTS / ALERTS_FOR_STATE series, sending alerts to the alerting pipeline, and shown through
 * Prometheus's /api/v1/rules and /api/v1/alerts. `runRuleUnitTests` runs promtool's rule unit tests.
 */
export { expandAlertTemplate, humanize, humanize1024, humanizeDuration } from "./alert-template.js";
export {
  type Alert,
  AlertingRule,
  type AlertState,
  RecordingRule,
  RESOLVED_RETENTION_MS,
  type Rule,
  type RuleHealth,
} from "./rule-eval.js";
export {
  formatRuleDuration,
  parseRuleDuration,
  loadRuleFiles,
  parseRuleFile,
  type RuleDefinition,
  type RuleGroupDefinition,
} from "./rule-file.js";
export { RuleGroup, RuleManager, type RuleManagerOptions } from "./rule-manager.js";
export { ruleUnitTestFile, runRuleUnitTests } from "./rule-unit-test.js";
export { ruleRoutes } from "./rule-routes.js";
export {
  loadRuleGroups,
  RuleGroupSpec,
  type RuleGroupObject,
  ruleGroupFromObject,
  ruleGroupKind,
} from "./rule-group-kind.js";
export { ALERT_TEMPLATE_FUNCTIONS } from "./alert-template.js";
export {
  type FunctionSpec,
  GoMap,
  GoStruct,
  GoTemplate,
  type GoValue,
  TemplateError,
} from "./go-template.js";
export { type GoMethodSet, withMethods } from "./go-format.js";
export { formatGoTime, goDurationValue, goTimeValue } from "./go-time.js";
