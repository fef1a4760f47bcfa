/**
 * Service level objectives: an SLI (from checks or PromQL), an objective over a rolling or calendar window,
 * the error budget it leaves, multi-window burn-rate alerts and the budget policy that freezes changes. Event
 * counts are kept in fixed buckets per SLO, so budgets and burn rates over any window are sums of buckets.
 */
export { BucketRing } from "./bucket-ring.js";
export { type BurnRateTier, burnRate, scaleTiers, tierWarnings, WORKBOOK_TIERS } from "./burn-rate.js";
export {
  type Budgeting,
  type Exclusion,
  SloEvaluator,
  type SloHealth,
  type SloStatus,
  type SloTarget,
  type TierState,
} from "./slo-evaluator.js";
export { SloSpec, sliCheck, sloKind, sloTarget, sloTiers, sloWindow } from "./slo-kind.js";
export { nominalWindowMs, type SloWindow, windowAt } from "./slo-window.js";
export { sloRoutes } from "./slo-routes.js";
export { type GateAnswer, type SloAlert, SloRuntime, type SloSummary } from "./slo-runtime.js";
export { OWNER_TEAM_ANNOTATION, openSloTranslator } from "./openslo/openslo-translator.js";
export { slothTranslator } from "./sloth/sloth-translator.js";
export {
  formatRuleFile,
  type PrometheusRule,
  type PrometheusRuleGroup,
  type SlothExport,
  slothRules,
} from "./sloth/sloth-rules.js";
