import { compareStrings } from "../promql/index.js";
import {
  isStaleNaN,
  type Labels,
  labelsKey,
  MemoryStorage,
  matcherTest,
  type SelectRequest,
  type Series,
} from "../promql/index.js";
import { AppendError, type Appender, type MetricsStore, type SeriesRequest } from "./metrics-store.js";

interface Pending {
  labels: Labels;
  key: string;
  t: number;
  v: number;
}

/**
 * A `MetricsStore` kept in memory only: for tests and for tools that need PromQL over a handful of samples.
 * It enforces the same ordering rules as the embedded TSDB, so code written against it behaves the same there.
 */
export class MemoryMetricsStore implements MetricsStore {
  private readonly storage = new MemoryStorage();
  private readonly newest = new Map<string, { t: number; v: number }>();

  appender(): Appender {
    const pending: Pending[] = [];
    const batchNewest = new Map<string, { t: number; v: number }>();
    return {
      add: (labels, t, v) => {
        const key = labelsKey(labels);
        const last = batchNewest.get(key) ?? this.newest.get(key);
        if (last !== undefined) {
          if (t < last.t) {
            throw new AppendError("out_of_order", labels, t, "out of order sample");
          }
          if (t === last.t && !sameValue(v, last.v)) {
            throw new AppendError("duplicate_sample", labels, t, "duplicate sample for timestamp");
          }
        }
        batchNewest.set(key, { t, v });
        pending.push({ labels, key, t, v });
      },
      commit: async () => {
        for (const p of pending) {
          this.storage.append(p.labels, p.t, p.v);
          this.newest.set(p.key, { t: p.t, v: p.v });
        }
        const n = pending.length;
        pending.length = 0;
        batchNewest.clear();
        return n;
      },
      rollback: () => {
        pending.length = 0;
        batchNewest.clear();
      },
    };
  }

  select(request: SelectRequest): readonly Series[] {
    return this.storage.select(request);
  }

  async series(request: SeriesRequest): Promise<Labels[]> {
    const out: Labels[] = [];
    for (const series of this.storage.select({ matchers: [], minT: request.minT, maxT: request.maxT })) {
      if (!matchesAny(series.labels, request)) continue;
      out.push(series.labels);
      if (request.limit !== undefined && out.length >= request.limit) break;
    }
    return out;
  }

  async labelNames(request: SeriesRequest): Promise<string[]> {
    const names = new Set<string>();
    for (const labels of await this.series({ ...request, limit: undefined })) {
      for (const l of labels) names.add(l.name);
    }
    return [...names].sort(compareStrings);
  }

  async labelValues(name: string, request: SeriesRequest): Promise<string[]> {
    const values = new Set<string>();
    for (const labels of await this.series({ ...request, limit: undefined })) {
      for (const l of labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort(compareStrings);
  }

  async close(): Promise<void> {}
}

function matchesAny(labels: Labels, request: SeriesRequest): boolean {
  if (request.matcherSets.length === 0) return true;
  return request.matcherSets.some((set) => set.every((m) => matcherTest(m)(labels)));
}

/** Same value for the duplicate check: NaNs (including stale markers) equal themselves bit for bit. */
function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b))
    return isStaleNaN(a) === isStaleNaN(b) && Number.isNaN(a) === Number.isNaN(b);
  return a === b;
}
