import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { messageBatcher } from "../platform/message-batch.js";
import { NOTIFIERS, type NotifierRegistry } from "./notifiers.js";
import { abortSends, type SendJob, type SendResult, type SendsInFlight, sendStored } from "./send-stored.js";

/** Sends outbox rows; the delivery worker does not care whether on its own thread or on another. */
export interface SendExecutor {
  send(job: SendJob): Promise<SendResult>;
  /** Aborts every send in flight: each comes back with `stopped`. */
  abortAll(): void;
  close(): Promise<void>;
}

/** Sends on the caller's thread: for tests (fake notifiers, simulated time) and where no worker file exists. */
export function inProcessSender(overrides: Partial<NotifierRegistry> = {}): SendExecutor {
  const notifiers: NotifierRegistry = { ...NOTIFIERS, ...overrides };
  const sends: SendsInFlight = new Set();
  return {
    send: (job) => sendStored(job, notifiers, sends),
    abortAll: () => abortSends(sends),
    async close() {},
  };
}

export type ToSendWorker = { type: "send"; id: number; job: SendJob } | { type: "abortAll" };
export type FromSendWorker = { id: number; result: SendResult };

const WORKER_FILE = new URL("./send-worker.js", import.meta.url);
/** The worker holds requests in flight (at most the delivery worker's concurrency) and their sockets. */
const WORKER_OLD_SPACE_MB = 128;

/** Whether the compiled worker exists next to this module (it does in dist/, not when tests run the sources). */
export function sendWorkerAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_FILE));
}

/**
 * Sends on a worker thread of their own, so that building requests, TLS, HTTP and the receivers' answers
 * use another core than routing and the API: in an alert storm they were a fifth of the main thread's work.
 * Messages cross in batches, once per turn of the event loop each way. A worker that dies fails its sends
 * as retryable (the rows are retried with backoff, as after any failed attempt); a new one starts with the
 * next send. The thread starts with the first send: an instance that never notifies runs none.
 */
export function threadSender(options: {
  onWorkerError(error: unknown): void;
  /** The worker's module; tests substitute one that can be made to crash. */
  workerFile?: URL;
}): SendExecutor {
  const pending = new Map<number, (result: SendResult) => void>();
  /** The thread each posted send went to: one that dies fails only its own. */
  const postedTo = new Map<number, Worker>();
  let nextId = 1;
  let closing = false;

  const spawn = (): Worker => {
    const created = new Worker(options.workerFile ?? WORKER_FILE, {
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB },
    });
    created.unref();
    created.on("message", (messages: FromSendWorker[]) => {
      for (const { id, result } of messages) {
        const resolve = pending.get(id);
        pending.delete(id);
        postedTo.delete(id);
        resolve?.(result);
      }
    });
    let replaced = false;
    const replace = (error: unknown) => {
      if (closing || replaced) return;
      replaced = true;
      options.onWorkerError(error);
      // Sends not yet posted go to the next thread; those the dead one had are failed.
      for (const [id, to] of postedTo) {
        if (to !== created) continue;
        postedTo.delete(id);
        const resolve = pending.get(id);
        pending.delete(id);
        resolve?.({
          outcome: { ok: false, retry: true, error: "the send thread stopped during the attempt" },
          durationMs: 0,
        });
      }
      if (worker === created) worker = undefined;
    };
    created.on("error", replace);
    created.on("exit", (code) => replace(new Error(`send worker exited with code ${code}`)));
    return created;
  };
  let worker: Worker | undefined;

  const post = messageBatcher<ToSendWorker>((batch) => {
    worker ??= spawn();
    for (const message of batch) if (message.type === "send") postedTo.set(message.id, worker);
    worker.postMessage(batch);
  });

  return {
    send(job) {
      if (closing)
        return Promise.resolve({
          outcome: { ok: false, retry: true, error: "the send thread is closed" },
          durationMs: 0,
          stopped: true,
        });
      const id = nextId++;
      return new Promise<SendResult>((resolve) => {
        pending.set(id, resolve);
        post({ type: "send", id, job });
      });
    },
    abortAll() {
      // No thread and no send waiting for one: nothing to abort (and no thread to start for it).
      if (worker === undefined && pending.size === 0) return;
      post({ type: "abortAll" });
    },
    async close() {
      closing = true;
      if (worker !== undefined) {
        const exited = new Promise((resolve) => worker?.once("exit", resolve));
        await worker.terminate();
        await exited;
      }
      for (const resolve of pending.values())
        resolve({
          outcome: { ok: false, retry: true, error: "the send thread closed" },
          durationMs: 0,
          stopped: true,
        });
      pending.clear();
      postedTo.clear();
    },
  };
}
