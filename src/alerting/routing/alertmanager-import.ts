import { stringify } from "yaml";
import type { ConfigProblem } from "../../config/index.js";
import type { ReceiverConfig } from "./am-config-schema.js";
import { loadAlertmanagerConfig } from "./am-config.js";
import { parseYamlWithPositions } from "./yaml-positions.js";

export interface ImportResult {
  /** Nines configuration documents (Receiver objects, then one AlertmanagerConfig), or undefined on errors. */
  yaml?: string;
  problems: ConfigProblem[];
}

/** A receiver name as an object name: lower case, letters, digits and '-', at most 63 characters. */
export function objectNameFor(name: string, taken: Set<string>): string {
  let base = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 58)
    .replace(/-$/, "");
  if (base === "") base = "receiver";
  let candidate = base;
  for (let i = 2; taken.has(candidate); i++) candidate = `${base}-${i}`;
  taken.add(candidate);
  return candidate;
}

/**
 * `nines alertmanager import FILE`: an Alertmanager file as Nines objects. Each receiver with integrations
 * becomes a Receiver object; the AlertmanagerConfig keeps the route tree, inhibit rules and time intervals as
 * written, its receivers by name only, mapped to those objects in receiverOptions.
 */
export function importAlertmanagerConfig(text: string, file: string, name = "default"): ImportResult {
  const loaded = loadAlertmanagerConfig(text, file);
  if (!loaded.config) return { problems: loaded.problems };
  const problems: ConfigProblem[] = [];
  // Start from the file as written (not the parsed form) so values read back exactly as the user wrote them.
  const written = parseYamlWithPositions(text, file);
  const raw = written.value as Record<string, unknown>;
  const taken = new Set<string>();
  const documents: unknown[] = [];
  const receiverOptions: Record<string, { receiver: string }> = {};
  const receivers = (Array.isArray(raw.receivers) ? raw.receivers : []) as ReceiverConfig[];
  const namesOnly = receivers.map((rcv) => {
    const { name: rcvName, ...integrations } = rcv;
    if (Object.keys(integrations).length === 0) return { name: rcvName };
    const objectName = objectNameFor(rcvName, taken);
    documents.push({
      apiVersion: "nines/v1",
      kind: "Receiver",
      metadata: { name: objectName },
      spec: integrations,
    });
    receiverOptions[rcvName] = { receiver: objectName };
    return { name: rcvName };
  });
  if (Array.isArray(raw.templates) && raw.templates.length > 0) {
    // The globs stay as written; they are read relative to the file the output is saved in.
    problems.push({
      file,
      ...written.locate(["templates"]),
      severity: "warning",
      message:
        "templates are read relative to the directory of the file you save this output in: save it beside the template files (or adjust the paths), then check with `nines validate`",
    });
  }
  const alertmanager: Record<string, unknown> = { ...raw, receivers: namesOnly };
  const spec: Record<string, unknown> = { alertmanager };
  if (Object.keys(receiverOptions).length > 0) spec.receiverOptions = receiverOptions;
  documents.push({ apiVersion: "nines/v1", kind: "AlertmanagerConfig", metadata: { name }, spec });
  const yaml = documents.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
  return { yaml, problems };
}
