import type { InhibitRule } from "./am-config.js";
import type { LabelSet } from "./fingerprint.js";
import { matchesAll } from "./matchers.js";

/** What the inhibitor needs to know of an alert. */
export interface InhibitCandidate {
  fingerprint: string;
  labels: LabelSet;
}

export interface Inhibition {
  rule: number;
  ruleName?: string;
  /** Fingerprint of the firing source alert. */
  source: string;
}

interface IndexedRule {
  rule: InhibitRule;
  /** Firing source alerts by their values of the `equal` labels. */
  sources: Map<string, Array<{ fingerprint: string; matchesTarget: boolean }>>;
}

const equalKey = (rule: InhibitRule, labels: LabelSet) =>
  JSON.stringify(rule.equal.map((name) => labels[name] ?? ""));

/**
 * inhibit/inhibit.go: a target alert is muted when a firing source alert has the same values for every
 * `equal` label (a label both lack counts as equal). When the target matches the source side too, sources
 * that also match the target side are skipped, so an alert never inhibits itself. Built once per instant
 * from the firing alerts, then asked per alert.
 */
export class InhibitionIndex {
  private readonly rules: IndexedRule[];

  constructor(rules: readonly InhibitRule[], firing: Iterable<InhibitCandidate>) {
    this.rules = rules.map((rule) => ({ rule, sources: new Map() }));
    if (this.rules.length === 0) return;
    for (const alert of firing) {
      for (const indexed of this.rules) {
        if (!matchesAll(indexed.rule.sourceMatchers, alert.labels)) continue;
        const key = equalKey(indexed.rule, alert.labels);
        let list = indexed.sources.get(key);
        if (list === undefined) {
          list = [];
          indexed.sources.set(key, list);
        }
        list.push({
          fingerprint: alert.fingerprint,
          matchesTarget: matchesAll(indexed.rule.targetMatchers, alert.labels),
        });
      }
    }
  }

  /** No firing alert is the source of any rule: nothing is inhibited. */
  isEmpty(): boolean {
    for (const { sources } of this.rules) if (sources.size > 0) return false;
    return true;
  }

  find(labels: LabelSet): Inhibition | undefined {
    for (const { rule, sources } of this.rules) {
      if (sources.size === 0 || !matchesAll(rule.targetMatchers, labels)) continue;
      const candidates = sources.get(equalKey(rule, labels));
      if (candidates === undefined) continue;
      const twoSided = matchesAll(rule.sourceMatchers, labels);
      const source = candidates.find((c) => !(twoSided && c.matchesTarget));
      if (source === undefined) continue;
      const found: Inhibition = { rule: rule.index, source: source.fingerprint };
      if (rule.name !== undefined) found.ruleName = rule.name;
      return found;
    }
    return undefined;
  }
}
