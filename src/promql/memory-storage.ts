import { compileAnchored } from "./eval/go-regexp.js";
import { compareLabels, getLabel, type Labels, labelsKey } from "./labels.js";
import type { LabelMatcher } from "./parse/ast.js";
import type { Queryable, SelectRequest, Series } from "./storage.js";

interface StoredSeries {
  labels: Labels;
  timestamps: number[];
  values: Float64Array;
  size: number;
}

/**
 * An in-memory `Queryable` for tests, the `.test` runner and small embedded uses. Samples may be appended
 * in any order; a sample at an existing timestamp replaces the old one.
 */
export class MemoryStorage implements Queryable {
  private readonly series = new Map<string, StoredSeries>();

  append(labels: Labels, t: number, v: number): void {
    const key = labelsKey(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, timestamps: [], values: new Float64Array(8), size: 0 };
      this.series.set(key, s);
    }
    let idx = s.size;
    const last = s.timestamps[s.size - 1];
    if (last !== undefined && t <= last) {
      idx = lowerBound(s.timestamps, t);
      if (s.timestamps[idx] === t) {
        s.values[idx] = v;
        return;
      }
    }
    if (s.size === s.values.length) {
      const grown = new Float64Array(s.values.length * 2);
      grown.set(s.values);
      s.values = grown;
    }
    s.values.copyWithin(idx + 1, idx, s.size);
    s.values[idx] = v;
    s.timestamps.splice(idx, 0, t);
    s.size++;
  }

  clear(): void {
    this.series.clear();
  }

  /** All stored label sets, sorted. */
  labelSets(): Labels[] {
    return [...this.series.values()].map((s) => s.labels).sort(compareLabels);
  }

  select(request: SelectRequest): readonly Series[] {
    const out: Series[] = [];
    const tests = request.matchers.map(matcherTest);
    for (const s of this.series.values()) {
      if (!tests.every((test) => test(s.labels))) continue;
      const from = lowerBound(s.timestamps, request.minT);
      const to = upperBound(s.timestamps, request.maxT);
      if (from >= to) continue;
      out.push({
        labels: s.labels,
        timestamps: s.timestamps.slice(from, to),
        values: s.values.slice(from, to),
      });
    }
    return out.sort((a, b) => compareLabels(a.labels, b.labels));
  }
}

/** A predicate for one label matcher; a missing label matches as the empty string. */
export function matcherTest(m: LabelMatcher): (labels: Labels) => boolean {
  switch (m.op) {
    case "=":
      return (l) => getLabel(l, m.name) === m.value;
    case "!=":
      return (l) => getLabel(l, m.name) !== m.value;
    case "=~": {
      const re = compileAnchored(m.value);
      return (l) => re.test(getLabel(l, m.name));
    }
    case "!~": {
      const re = compileAnchored(m.value);
      return (l) => !re.test(getLabel(l, m.name));
    }
  }
}

function lowerBound(arr: readonly number[], t: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(arr: readonly number[], t: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((arr[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
