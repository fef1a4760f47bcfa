import { compareStrings, type Label, type Labels, labelsFrom, STALE_NAN } from "../promql/index.js";
import { AppendError, type Appender } from "../tsdb/index.js";
import type { Clock } from "../platform/clock.js";
import type { Log } from "../platform/logger.js";
import type { CheckOutcome } from "./check-outcome.js";

/** The job label of every check series, as a Prometheus scrape of blackbox_exporter would have one. */
export const CHECK_SAMPLES_JOB = "nines_checks";

interface SeriesSet {
  /** The check's labels without __name__ as sorted pairs, shared by every series of the check. */
  basePairs: Labels;
  /** What the base was built from, to tell a change without building a new one each run. */
  service: string;
  extra: Readonly<Record<string, string>>;
  /** The series written for this check (10,000 checks write 30,000), to mark stale when it goes away. */
  byMetric: Map<string, Labels>;
}

/**
 * Samples added to the store per turn of the event loop: the store hashes every sample's labels, and a
 * second of 3,000 runs (9,000 samples) added at once held API requests up for tens of milliseconds.
 */
const ADD_SLICE = 1000;

interface Pending {
  labels: Labels;
  t: number;
  v: number;
}

/**
 * Writes every check run into the metrics store as samples with blackbox_exporter's names (probe_success,
 * probe_duration_seconds, probe_http_status_code, probe_ssl_earliest_cert_expiry, probe_ssl_leaf_cert_expiry;
 * the per-phase timings are on /metrics), so SLIs and alert rules can be PromQL over
 * check history. Runs are buffered and committed in one batch a second; a removed check's series are marked
 * stale, as Prometheus does for a target that disappears.
 */
export class CheckSampleWriter {
  private readonly series = new Map<string, SeriesSet>();
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** Samples the store refused (a run at the same millisecond as the previous one, say). */
  refused = 0;

  constructor(
    private readonly options: {
      appender: () => Appender | null;
      clock: Clock;
      log: Log;
      flushIntervalMs?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  record(outcome: CheckOutcome, service: string, extraLabels: Readonly<Record<string, string>>): void {
    const set = this.seriesFor(outcome.check, service, extraLabels);
    const t = outcome.at;
    this.push(set, "probe_success", t, outcome.ok ? 1 : 0);
    this.push(set, "probe_duration_seconds", t, outcome.durationMs / 1000);
    const probe = outcome.probe;
    if (!probe) return;
    // Per-phase timings stay on /metrics only: five more stored series per HTTP check cost more memory and
    // ingest than they are worth for SLIs and alerts, which read success, duration and status.
    if (probe.type === "http") this.push(set, "probe_http_status_code", t, outcome.statusCode ?? 0);
    const tls = probe.tls;
    if (tls) {
      this.push(set, "probe_ssl_earliest_cert_expiry", t, Math.floor(tls.earliestNotAfter / 1000));
      this.push(set, "probe_ssl_leaf_cert_expiry", t, Math.floor(tls.leafNotAfter / 1000));
    }
  }

  /** A check was removed or changed its labels: its series end now. */
  forget(check: string): void {
    const set = this.series.get(check);
    if (!set) return;
    this.series.delete(check);
    const now = this.options.clock.now();
    for (const labels of set.byMetric.values()) this.pending.push({ labels, t: now, v: STALE_NAN });
  }

  /** Commits what is buffered as one batch; refused samples are counted and skipped, the rest is kept. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.commitPending());
    return this.flushing;
  }

  private async commitPending(): Promise<void> {
    if (this.pending.length === 0) return;
    const appender = this.options.appender();
    const batch = this.pending;
    this.pending = [];
    if (!appender) return;
    for (let i = 0; i < batch.length; i++) {
      if (i > 0 && i % ADD_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const p = batch[i];
      if (p === undefined) continue;
      try {
        appender.add(p.labels, p.t, p.v);
      } catch (error) {
        if (!(error instanceof AppendError)) throw error;
        this.refused++;
      }
    }
    try {
      await appender.commit();
    } catch (error) {
      this.options.log.error({ err: error, samples: batch.length }, "check samples were not stored");
    }
  }

  private seriesFor(check: string, service: string, extra: Readonly<Record<string, string>>): SeriesSet {
    const existing = this.series.get(check);
    // The same spec object and service: nothing changed (the common case, thousands of times a second).
    if (existing && existing.extra === extra && existing.service === service) return existing;
    const basePairs = labelsFrom({ ...extra, job: CHECK_SAMPLES_JOB, check, service });
    if (existing && sameLabels(existing.basePairs, basePairs)) {
      existing.extra = extra;
      return existing;
    }
    if (existing) this.forget(check);
    const set: SeriesSet = { basePairs, service, extra, byMetric: new Map() };
    this.series.set(check, set);
    return set;
  }

  private push(set: SeriesSet, metric: string, t: number, v: number): void {
    let labels = set.byMetric.get(metric);
    if (labels === undefined) {
      const name: Label = { name: "__name__", value: metric };
      // The pairs are sorted by name; __name__ goes where it sorts (after any upper-case label name).
      const pairs: Label[] = [...set.basePairs];
      const at = pairs.findIndex((l) => compareStrings(l.name, name.name) > 0);
      pairs.splice(at < 0 ? pairs.length : at, 0, name);
      labels = pairs;
      set.byMetric.set(metric, labels);
    }
    this.pending.push({ labels, t, v });
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  return a.length === b.length && a.every((l, i) => l.name === b[i]?.name && l.value === b[i]?.value);
}
