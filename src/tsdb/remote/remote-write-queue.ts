import { compress } from "snappyjs";
import type { Clock } from "../../platform/clock.js";
import type { Log } from "../../platform/logger.js";
import type { Labels } from "../../promql/index.js";
import { type WriteSeries, WriteRequestEncoder } from "./write-request.js";

/** How the queue batches, retries and bounds what it holds; defaults follow Prometheus's `queue_config`. */
export interface RemoteWriteQueueOptions {
  /** Most samples in one request (Prometheus `max_samples_per_send`). Default 2,000. */
  readonly maxSamplesPerSend?: number;
  /** Longest a sample waits for a batch to fill (Prometheus `batch_send_deadline`). Default 5 s. */
  readonly batchSendDeadlineMs?: number;
  /** Most samples waiting to be sent; beyond it the oldest are dropped. Default 100,000. */
  readonly capacity?: number;
  /** First retry delay (Prometheus `min_backoff`). Default 30 ms. */
  readonly minBackoffMs?: number;
  /** Longest retry delay (Prometheus `max_backoff`). Default 5 s. */
  readonly maxBackoffMs?: number;
  /** Retry on 429 Too Many Requests, as on 5xx (Prometheus `retry_on_http_429`). Default true. */
  readonly retryOnRateLimit?: boolean;
}

/** Counters a `/metrics` endpoint can export (as Prometheus's `prometheus_remote_storage_*`). */
export interface RemoteWriteStats {
  /** Samples in requests the remote accepted. */
  readonly sentSamples: number;
  /** Samples in requests the remote refused for good (a 4xx other than 429): they are gone. */
  readonly failedSamples: number;
  /** Samples sent again after a 5xx, a 429 or a network error (counted once per retry). */
  readonly retriedSamples: number;
  /** Samples dropped unsent: the queue was full, or `close()` ran out of time. */
  readonly droppedSamples: number;
  /** Samples waiting in memory now, including the request in flight. */
  readonly pendingSamples: number;
  readonly sentRequests: number;
  /** Compressed bytes of accepted requests. */
  readonly sentBytes: number;
  /** When the remote last accepted a request (clock milliseconds), or 0. */
  readonly lastSentAt: number;
}

export interface RemoteEndpoint {
  readonly url: string;
  /** For log lines and errors: the URL without credentials. */
  readonly displayUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly fetch: typeof fetch;
}

/** What the queue tracks per series; the backend interns one per label set. */
export interface QueuedSeries {
  readonly labels: Labels;
}

type SendOutcome =
  | { readonly kind: "sent" }
  | { readonly kind: "retry"; readonly reason: string; readonly retryAfterMs: number | undefined }
  | { readonly kind: "failed"; readonly reason: string };

const DEFAULTS = {
  maxSamplesPerSend: 2000,
  batchSendDeadlineMs: 5000,
  capacity: 100_000,
  minBackoffMs: 30,
  maxBackoffMs: 5000,
  retryOnRateLimit: true,
};

/** At most one "queue full" error line per this many milliseconds. */
const DROP_LOG_INTERVAL_MS = 10_000;
/** How much of an error response's body goes into the log line, as Prometheus. */
const MAX_ERROR_BODY = 1024;

/**
 * The remote_write send queue: one sender (no shards) that takes up to `maxSamplesPerSend` samples in the
 * order they were queued, so each series arrives in order, sends them as one snappy-compressed protobuf
 * request and retries it with exponential backoff and jitter on 5xx, 429 and network errors until it goes
 * through or the queue closes. Other 4xx answers are logged and the batch dropped, as Prometheus does. What
 * waits is bounded by `capacity` (plus the request in flight); beyond it the oldest samples are dropped.
 */
export class RemoteWriteQueue {
  private readonly options: typeof DEFAULTS;
  private readonly ring: SampleRing;
  private readonly encoder = new WriteRequestEncoder();
  private readonly stopSending = new AbortController();
  private readonly loop: Promise<void>;
  private waiter: { readonly minSize: number; readonly wake: () => void } | undefined;
  private flushing = 0;
  private flushWaiters: Array<{ readonly upTo: number; readonly resolve: () => void }> = [];
  private closing = false;
  private inFlight = 0;
  private queuedTotal = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;
  private readonly counts = {
    sentSamples: 0,
    failedSamples: 0,
    retriedSamples: 0,
    droppedSamples: 0,
    sentRequests: 0,
    sentBytes: 0,
    lastSentAt: 0,
  };

  constructor(
    private readonly endpoint: RemoteEndpoint,
    options: RemoteWriteQueueOptions,
    private readonly log: Log,
    private readonly clock: Clock,
  ) {
    this.options = { ...DEFAULTS, ...definedOnly(options) };
    this.ring = new SampleRing(this.options.capacity);
    this.loop = this.run();
  }

  /** Queues one sample; when the queue is full the oldest waiting sample is dropped and counted. */
  push(series: QueuedSeries, t: number, v: number, stale: boolean): void {
    if (this.closing) throw new Error("the remote_write queue is closed");
    if (!this.ring.push(series, t, v, stale)) this.dropped(1, "the queue is full");
    this.queuedTotal++;
    this.notify();
  }

  /** Resolves once every sample queued before the call was sent, refused or dropped. */
  flush(): Promise<void> {
    const upTo = this.queuedTotal;
    if (this.finishedTotal() >= upTo) return Promise.resolve();
    this.flushing++;
    return new Promise((resolve) => {
      this.flushWaiters.push({
        upTo,
        resolve: () => {
          this.flushing--;
          resolve();
        },
      });
      this.notify();
    });
  }

  /**
   * Sends what is queued, waiting at most `timeoutMs`; then aborts the request in flight and drops (and
   * counts) what is left. Later `push` calls throw.
   */
  async close(timeoutMs: number): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.notify();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.loop.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.stopSending.abort();
      await this.loop;
    }
  }

  stats(): RemoteWriteStats {
    return { ...this.counts, pendingSamples: this.ring.size + this.inFlight };
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.stopSending.signal.aborted) {
        const left = this.ring.size;
        this.ring.clear();
        if (left > 0) this.dropped(left, "close() ran out of time before they were sent");
        this.settleFlushes();
        return;
      }
      if (this.ring.size === 0) {
        this.settleFlushes();
        if (this.closing) return;
        await this.wait(1, undefined);
        continue;
      }
      if (this.ring.size < this.options.maxSamplesPerSend && !this.closing && this.flushing === 0) {
        await this.wait(this.options.maxSamplesPerSend, this.options.batchSendDeadlineMs);
      }
      const batch = this.ring.take(this.options.maxSamplesPerSend);
      if (batch.count === 0) continue;
      this.inFlight = batch.count;
      try {
        await this.sendWithRetries(batch);
      } catch (err) {
        // A bug here must not stop the sender or surface as an unhandled rejection.
        this.counts.failedSamples += batch.count;
        this.log.error({ err, samples: batch.count }, "remote_write could not send a batch");
      } finally {
        this.inFlight = 0;
      }
      this.settleFlushes();
    }
  }

  private async sendWithRetries(batch: Batch): Promise<void> {
    const body = compress(this.encoder.encode(batch.series));
    let backoff = this.options.minBackoffMs;
    for (;;) {
      const outcome = await this.sendOnce(body);
      if (outcome.kind === "sent") {
        this.counts.sentSamples += batch.count;
        this.counts.sentRequests++;
        this.counts.sentBytes += body.length;
        this.counts.lastSentAt = this.clock.now();
        return;
      }
      if (outcome.kind === "failed") {
        this.counts.failedSamples += batch.count;
        this.log.error(
          { url: this.endpoint.displayUrl, samples: batch.count, reason: outcome.reason },
          "remote_write refused a batch; its samples are dropped",
        );
        return;
      }
      if (this.stopSending.signal.aborted) {
        this.dropped(batch.count, "close() ran out of time before they were sent");
        return;
      }
      const delay = outcome.retryAfterMs ?? withJitter(backoff, this.options.minBackoffMs);
      this.log.warn(
        { url: this.endpoint.displayUrl, samples: batch.count, reason: outcome.reason, retryInMs: delay },
        "remote_write failed; retrying",
      );
      await sleep(delay, this.stopSending.signal);
      if (this.stopSending.signal.aborted) {
        this.dropped(batch.count, "close() ran out of time before they were sent");
        return;
      }
      this.counts.retriedSamples += batch.count;
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
    }
  }

  private async sendOnce(body: Uint8Array): Promise<SendOutcome> {
    let response: Response;
    try {
      response = await this.endpoint.fetch(this.endpoint.url, {
        method: "POST",
        headers: {
          ...this.endpoint.headers,
          "Content-Encoding": "snappy",
          "Content-Type": "application/x-protobuf",
          "X-Prometheus-Remote-Write-Version": "0.1.0",
        },
        body,
        signal: AbortSignal.any([this.stopSending.signal, AbortSignal.timeout(this.endpoint.timeoutMs)]),
      });
    } catch (err) {
      return { kind: "retry", reason: describeFetchError(err), retryAfterMs: undefined };
    }
    if (response.ok) {
      await response.body?.cancel();
      return { kind: "sent" };
    }
    const text = await response.text().catch(() => "");
    const reason = `server returned HTTP status ${response.status} ${response.statusText}: ${text.slice(0, MAX_ERROR_BODY).trim()}`;
    const retryable = response.status >= 500 || (response.status === 429 && this.options.retryOnRateLimit);
    if (!retryable) return { kind: "failed", reason };
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.clock.now());
    return { kind: "retry", reason, retryAfterMs };
  }

  private dropped(n: number, why: string): void {
    this.counts.droppedSamples += n;
    const now = this.clock.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    this.log.error(
      { url: this.endpoint.displayUrl, dropped: n, droppedTotal: this.counts.droppedSamples },
      `remote_write dropped samples: ${why}`,
    );
  }

  private wait(minSize: number, timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
      this.waiter = { minSize, wake };
      if (timeoutMs !== undefined) timer = setTimeout(wake, timeoutMs);
    });
  }

  private notify(): void {
    const w = this.waiter;
    if (w === undefined) return;
    if (this.ring.size >= w.minSize || this.closing || this.flushing > 0) w.wake();
  }

  /** Samples sent, refused or dropped so far: everything queued that is neither waiting nor in flight. */
  private finishedTotal(): number {
    return this.queuedTotal - this.ring.size - this.inFlight;
  }

  private settleFlushes(): void {
    const finished = this.finishedTotal();
    const ready = this.flushWaiters.filter((w) => w.upTo <= finished);
    if (ready.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.upTo > finished);
    for (const w of ready) w.resolve();
  }
}

interface Batch {
  readonly count: number;
  readonly series: WriteSeries[];
}

/** A fixed-size ring of samples; typed arrays keep the staleness marker's bits and the memory bounded. */
class SampleRing {
  private readonly refs: Array<QueuedSeries | undefined>;
  private readonly ts: Float64Array;
  private readonly vs: Float64Array;
  private readonly stale: Uint8Array;
  private head = 0;
  size = 0;

  constructor(private readonly capacity: number) {
    this.refs = new Array<QueuedSeries | undefined>(capacity);
    this.ts = new Float64Array(capacity);
    this.vs = new Float64Array(capacity);
    this.stale = new Uint8Array(capacity);
  }

  /** Returns false when the oldest sample had to go to make room. */
  push(series: QueuedSeries, t: number, v: number, stale: boolean): boolean {
    let kept = true;
    if (this.size === this.capacity) {
      this.refs[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
      kept = false;
    }
    const i = (this.head + this.size) % this.capacity;
    this.refs[i] = series;
    this.ts[i] = t;
    this.vs[i] = v;
    this.stale[i] = stale ? 1 : 0;
    this.size++;
    return kept;
  }

  /** Takes up to `max` of the oldest samples, grouped by series with each series's samples in order. */
  take(max: number): Batch {
    const count = Math.min(max, this.size);
    const bySeries = new Map<QueuedSeries, { ts: number[]; vs: number[]; stale: number[] }>();
    for (let k = 0; k < count; k++) {
      const i = (this.head + k) % this.capacity;
      const ref = this.refs[i];
      if (ref === undefined) continue;
      let group = bySeries.get(ref);
      if (group === undefined) {
        group = { ts: [], vs: [], stale: [] };
        bySeries.set(ref, group);
      }
      group.ts.push(this.ts[i] as number);
      group.vs.push(this.vs[i] as number);
      group.stale.push(this.stale[i] as number);
      this.refs[i] = undefined;
    }
    this.head = (this.head + count) % this.capacity;
    this.size -= count;
    const series: WriteSeries[] = [];
    for (const [ref, g] of bySeries) {
      series.push({ labels: ref.labels, timestamps: g.ts, values: g.vs, stale: g.stale });
    }
    return { count, series };
  }

  clear(): void {
    this.refs.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}

/** "Equal jitter": between half the backoff and all of it, never under the minimum. */
function withJitter(backoffMs: number, minMs: number): number {
  return Math.max(minMs, Math.round(backoffMs / 2 + (Math.random() * backoffMs) / 2));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** `Retry-After` as seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.name === "TimeoutError" ? "request timed out" : err.message}${cause}`;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
