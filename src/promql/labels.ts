import type { LabelMatcher } from "./parse/ast.js";
import { quoteGo } from "./parse/literals.js";

/**
 * Label sets: immutable arrays of name/value pairs sorted by name, as Prometheus keeps them. The key
 * (`labelsKey`) identifies a set in maps; names and values are joined with separators that cannot occur
 * in valid UTF-8 text.
 */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

export const METRIC_NAME = "__name__";

const SEP = "\u0000";
const PAIR = "\u0001";

// Label sets are immutable and shared by every step of a series, so each one's key is built once.
const keys = new WeakMap<Labels, string>();

export function labelsKey(labels: Labels): string {
  let key = keys.get(labels);
  if (key !== undefined) return key;
  key = "";
  for (const l of labels) key += l.name + PAIR + l.value + SEP;
  keys.set(labels, key);
  return key;
}

/** Builds a sorted label set from an object or pairs, dropping empty values. */
export function labelsFrom(
  input: Readonly<Record<string, string>> | Iterable<readonly [string, string]>,
): Labels {
  const pairs: Array<readonly [string, string]> =
    Symbol.iterator in input ? [...input] : Object.entries(input);
  return pairs
    .filter(([, v]) => v !== "")
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => compareStrings(a.name, b.name));
}

export function getLabel(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return "";
}

export function hasLabel(labels: Labels, name: string): boolean {
  return labels.some((l) => l.name === name);
}

export function dropMetricName(labels: Labels): Labels {
  return hasLabel(labels, METRIC_NAME) ? labels.filter((l) => l.name !== METRIC_NAME) : labels;
}

/** Returns a copy with `name` set to `value` (removed when `value` is empty). */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out = labels.filter((l) => l.name !== name);
  if (value !== "") {
    out.push({ name, value });
    out.sort((a, b) => compareStrings(a.name, b.name));
  }
  return out;
}

/** Keeps only the named labels (`on`/`by`) or all but them (`ignoring`/`without`). */
export function selectLabels(labels: Labels, names: readonly string[], keep: boolean): Labels {
  return labels.filter((l) => names.includes(l.name) === keep);
}

/** Byte-wise ordering of strings, as Go compares them. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) ?? 0;
    const cb = b.codePointAt(i) ?? 0;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Prometheus's `labels.Compare`: pairwise by name then value, shorter set first. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const la = a[i] as Label;
    const lb = b[i] as Label;
    const byName = compareStrings(la.name, lb.name);
    if (byName !== 0) return byName;
    const byValue = compareStrings(la.value, lb.value);
    if (byValue !== 0) return byValue;
  }
  return a.length - b.length;
}

/** Renders labels as `name{a="b"}` for messages. */
export function formatLabels(labels: Labels): string {
  const name = getLabel(labels, METRIC_NAME);
  const rest = labels
    .filter((l) => l.name !== METRIC_NAME)
    .map((l) => `${l.name}=${JSON.stringify(l.value)}`);
  return `${name}{${rest.join(", ")}}`;
}

/** Label names PromQL reads without quotes; Prometheus 2.x reads no others. */
export const CLASSIC_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Matchers as PromQL reads them between braces (`a="b", c=~"d"`). Values are quoted as Go's %q (which the
 * PromQL lexer reads back exactly); a name outside the classic charset is quoted as Prometheus 3 reads it.
 */
export function formatMatchers(matchers: readonly LabelMatcher[], separator = ", "): string {
  return matchers
    .map((m) => `${CLASSIC_LABEL_NAME.test(m.name) ? m.name : quoteGo(m.name)}${m.op}${quoteGo(m.value)}`)
    .join(separator);
}
