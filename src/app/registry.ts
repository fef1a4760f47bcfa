import { ruleGroupKind } from "../alerting/rules/index.js";
import { alertmanagerConfigKind, receiverKind } from "../alerting/routing/index.js";
import { serviceKind, teamKind, userKind } from "../catalog/index.js";
import { checkKind } from "../checks/index.js";
import { KindRegistry } from "../config/index.js";
import { scrapeConfigKind } from "../scrape/index.js";
import { openSloTranslator, slothTranslator, sloKind } from "../slo/index.js";

/** Every configuration kind Nines knows. A new domain adds its kinds here. */
export function createKindRegistry(): KindRegistry {
  return new KindRegistry(
    [
      teamKind,
      userKind,
      serviceKind,
      checkKind,
      scrapeConfigKind,
      sloKind,
      ruleGroupKind,
      alertmanagerConfigKind,
      receiverKind,
    ],
    [openSloTranslator, slothTranslator],
  );
}
