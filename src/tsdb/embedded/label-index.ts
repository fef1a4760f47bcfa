import { type LabelMatcher, type Labels, matcherTest } from "../../promql/index.js";

/**
 * The inverted index of the embedded TSDB: label name → value → ascending series ids (postings), as
 * Prometheus's index. Matchers that cannot match the empty string take the union of the matching values'
 * postings; those that can (`!=`, `!~`, `=~".*"`, `=""`) subtract the series whose value does not match, so a
 * missing label counts as the empty string.
 */
export class LabelIndex {
  private readonly postings = new Map<string, Map<string, number[]>>();
  private all: number[] = [];

  /** Ids must be added in ascending order. */
  add(id: number, labels: Labels): void {
    this.all.push(id);
    for (const l of labels) {
      let values = this.postings.get(l.name);
      if (values === undefined) {
        values = new Map();
        this.postings.set(l.name, values);
      }
      const list = values.get(l.value);
      if (list === undefined) values.set(l.value, [id]);
      else list.push(id);
    }
  }

  /** Removes a set of series (retention). */
  remove(ids: ReadonlySet<number>, labelsOf: (id: number) => Labels | undefined): void {
    if (ids.size === 0) return;
    this.all = this.all.filter((id) => !ids.has(id));
    const touched = new Map<string, Set<string>>();
    for (const id of ids) {
      for (const l of labelsOf(id) ?? []) {
        let values = touched.get(l.name);
        if (values === undefined) {
          values = new Set();
          touched.set(l.name, values);
        }
        values.add(l.value);
      }
    }
    for (const [name, values] of touched) {
      const byValue = this.postings.get(name);
      if (byValue === undefined) continue;
      for (const value of values) {
        const kept = (byValue.get(value) ?? []).filter((id) => !ids.has(id));
        if (kept.length === 0) byValue.delete(value);
        else byValue.set(value, kept);
      }
      if (byValue.size === 0) this.postings.delete(name);
    }
  }

  /** Ascending ids of the series that match every matcher. */
  select(matchers: readonly LabelMatcher[]): number[] {
    if (matchers.length === 0) return this.all.slice();
    const selecting: number[][] = [];
    const subtracting: LabelMatcher[] = [];
    for (const m of matchers) {
      const test = valueTest(m);
      if (test("")) {
        subtracting.push(m);
        continue;
      }
      const byValue = this.postings.get(m.name);
      const lists: number[][] = [];
      if (m.op === "=") {
        const list = byValue?.get(m.value);
        if (list !== undefined) lists.push(list);
      } else {
        for (const [value, list] of byValue ?? []) if (test(value)) lists.push(list);
      }
      selecting.push(union(lists));
    }
    selecting.sort((a, b) => a.length - b.length);
    let result: number[] | undefined;
    for (const list of selecting) {
      result = result === undefined ? list : intersect(result, list);
      if (result.length === 0) return [];
    }
    for (const m of subtracting) {
      const test = valueTest(m);
      const lists: number[][] = [];
      for (const [value, list] of this.postings.get(m.name) ?? []) if (!test(value)) lists.push(list);
      result = subtract(result ?? this.all, union(lists));
      if (result.length === 0) return [];
    }
    return result === undefined ? [] : result === selecting[0] ? result.slice() : result;
  }

  labelNames(): string[] {
    return [...this.postings.keys()];
  }

  labelValues(name: string): string[] {
    return [...(this.postings.get(name)?.keys() ?? [])];
  }

  get size(): number {
    return this.all.length;
  }
}

function valueTest(m: LabelMatcher): (value: string) => boolean {
  if (m.op === "=") return (value) => value === m.value;
  if (m.op === "!=") return (value) => value !== m.value;
  const test = matcherTest(m);
  return (value) => test(value === "" ? [] : [{ name: m.name, value }]);
}

function union(lists: readonly number[][]): number[] {
  if (lists.length === 0) return [];
  if (lists.length === 1) return lists[0] as number[];
  const out: number[] = [];
  for (const list of lists) for (const id of list) out.push(id);
  out.sort((a, b) => a - b);
  return out;
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  if (a.length * 16 < b.length) {
    let lo = 0;
    for (const x of a) {
      let hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((b[mid] as number) < x) lo = mid + 1;
        else hi = mid;
      }
      if (lo < b.length && b[lo] === x) out.push(x);
    }
    return out;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

function subtract(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a.slice();
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && (b[j] as number) < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}
