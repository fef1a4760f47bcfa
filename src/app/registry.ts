import { ruleGroupKind } from "../alerting/rules/index.js";
import { alertmanagerConfigKind, receiverKind } from "../alerting/routing/index.js";
import { serviceKind, teamKind, userKind } from "../catalog/index.js";
import { checkKind } from "../checks/index.js";
import { KindRegistry } from "../config/index.js";
import { type TemplateFileAccess, templateFilesTranslator } from "../notify/index.js";
import { scrapeConfigKind } from "../scrape/index.js";
import { openSloTranslator, slothTranslator, sloKind } from "../slo/index.js";

/**
 * Every configuration kind Nines knows. A new domain adds its kinds here. `templateFiles` says where an
 * AlertmanagerConfig's `templates:` may be read from: anywhere for `nines validate` on the user's own
 * machine; under the server's --config path (or nowhere without one) for a server.
 */
export function createKindRegistry(templateFiles: TemplateFileAccess = { read: "anywhere" }): KindRegistry {
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
    [openSloTranslator, slothTranslator, templateFilesTranslator(templateFiles)],
  );
}
