import { createHash } from "node:crypto";
import { z } from "zod";
import { CLASSIC_LABEL_NAME, compareStrings, type Label, type Labels } from "../promql/index.js";
// The Go RE2 translation lives in the PromQL engine; relabelling needs the same dialect.
import { compileAnchored, expandTemplate } from "../promql/index.js";

export const RELABEL_ACTIONS = [
  "replace",
  "keep",
  "drop",
  "labeldrop",
  "labelkeep",
  "labelmap",
  "hashmod",
] as const;

/** Prometheus's `relabel_config`, with its snake_case names and defaults. */
export const RelabelConfig = z
  .strictObject({
    source_labels: z.array(z.string().regex(CLASSIC_LABEL_NAME, "a label name")).default([]),
    separator: z.string().default(";"),
    regex: z.string().default("(.*)").describe("A Go RE2 regular expression, anchored at both ends."),
    target_label: z.string().optional(),
    replacement: z.string().default("$1").describe(`May refer to groups of the regex: $1, \${1}, \${name}.`),
    modulus: z.int().min(1).optional().describe("For hashmod."),
    action: z.enum(RELABEL_ACTIONS).default("replace"),
  })
  .superRefine((cfg, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    try {
      compileAnchored(cfg.regex);
    } catch (error) {
      issue("regex", `not a valid regular expression: ${(error as Error).message}`);
    }
    if ((cfg.action === "replace" || cfg.action === "hashmod") && cfg.target_label === undefined)
      issue("target_label", `the ${cfg.action} action needs a target_label`);
    if (cfg.action === "hashmod" && cfg.modulus === undefined) issue("modulus", "hashmod needs a modulus");
    if (
      cfg.action === "hashmod" &&
      cfg.target_label !== undefined &&
      !CLASSIC_LABEL_NAME.test(cfg.target_label)
    )
      issue("target_label", "hashmod's target_label must be a label name");
    if (cfg.action === "labeldrop" || cfg.action === "labelkeep") {
      if (cfg.source_labels.length > 0 || cfg.target_label !== undefined)
        issue(
          "action",
          `${cfg.action} works on label names: it takes only regex, no source_labels or target_label`,
        );
    }
    if ((cfg.action === "keep" || cfg.action === "drop") && cfg.source_labels.length === 0)
      issue("source_labels", `the ${cfg.action} action needs source_labels`);
  });
export type RelabelConfig = z.infer<typeof RelabelConfig>;

/** A relabel rule with its regex compiled once. */
export interface CompiledRelabel {
  readonly config: RelabelConfig;
  readonly regex: RegExp;
}

export function compileRelabels(configs: readonly RelabelConfig[]): CompiledRelabel[] {
  return configs.map((config) => ({ config, regex: compileAnchored(config.regex) }));
}

/**
 * Applies the rules in order as Prometheus's `relabel.Process` does; null means the series is dropped (by
 * keep/drop, or because no labels are left).
 */
export function relabel(labels: Labels, rules: readonly CompiledRelabel[]): Labels | null {
  if (rules.length === 0) return labels;
  const map = new Map<string, string>();
  for (const l of labels) map.set(l.name, l.value);
  for (const { config, regex } of rules) {
    const value = config.source_labels.map((n) => map.get(n) ?? "").join(config.separator);
    switch (config.action) {
      case "drop":
        if (regex.test(value)) return null;
        break;
      case "keep":
        if (!regex.test(value)) return null;
        break;
      case "replace": {
        const match = regex.exec(value);
        if (match === null) break;
        const target = expandTemplate(config.target_label ?? "", match);
        if (!CLASSIC_LABEL_NAME.test(target)) break;
        const result = expandTemplate(config.replacement, match);
        if (result === "") map.delete(target);
        else map.set(target, result);
        break;
      }
      case "hashmod": {
        const hash = createHash("md5").update(value).digest();
        const mod = hash.readBigUInt64BE(8) % BigInt(config.modulus ?? 1);
        map.set(config.target_label ?? "", mod.toString());
        break;
      }
      case "labelmap":
        for (const [name, v] of [...map]) {
          const match = regex.exec(name);
          if (match !== null) map.set(expandTemplate(config.replacement, match), v);
        }
        break;
      case "labeldrop":
        for (const name of [...map.keys()]) if (regex.test(name)) map.delete(name);
        break;
      case "labelkeep":
        for (const name of [...map.keys()]) if (!regex.test(name)) map.delete(name);
        break;
    }
  }
  const out: Label[] = [];
  for (const [name, value] of map) if (value !== "") out.push({ name, value });
  if (out.length === 0) return null;
  return out.sort((a, b) => compareStrings(a.name, b.name));
}
