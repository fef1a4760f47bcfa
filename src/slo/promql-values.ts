import type { Labels, QueryValue } from "../promql/index.js";

export type { QueryValue };

/** A label's value in a set, or "" when it is missing (as PromQL treats it). */
export function getLabelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return "";
}
