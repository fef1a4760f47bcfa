import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { messageBatcher } from "../platform/message-batch.js";
import type { CheckSpec } from "./check-kind.js";
import type { CheckOutcome } from "./check-outcome.js";
import type { AddressPolicySpec } from "./probes/address-policy.js";
import { createAddressPolicy } from "./probes/address-policy.js";
import { type PreparedCheck, prepareCheck, runCheck } from "./run-check.js";

/** Runs probe checks by name; the runtime does not care whether on its own thread or on workers. */
export interface ProbeExecutor {
  /** The probe checks that exist now, by name. */
  sync(checks: ReadonlyArray<{ name: string; spec: CheckSpec }>): void;
  run(name: string, signal?: AbortSignal): Promise<CheckOutcome | null>;
  close(): Promise<void>;
}

export interface ExecutorOptions {
  now: () => number;
  addressPolicy: Partial<AddressPolicySpec>;
  env?: NodeJS.ProcessEnv;
}

/** Probes on the caller's thread: for tests with a simulated clock, and machines with one core. */
export function inProcessExecutor(options: ExecutorOptions): ProbeExecutor {
  const policy = createAddressPolicy(options.addressPolicy);
  let checks = new Map<string, PreparedCheck>();
  return {
    sync(list) {
      checks = new Map(list.map((c) => [c.name, prepareCheck(c.name, c.spec)]));
    },
    async run(name, signal) {
      const check = checks.get(name);
      if (!check) return null;
      return runCheck(check, {
        now: options.now,
        addressPolicy: policy,
        ...(signal ? { signal } : {}),
        ...(options.env ? { env: options.env } : {}),
      });
    },
    async close() {},
  };
}

export type ToWorker =
  | { type: "sync"; checks: Array<{ name: string; spec: CheckSpec }> }
  | { type: "run"; id: number; name: string }
  | { type: "abort"; id: number };
export type FromWorker =
  | { type: "done"; id: number; outcome: CheckOutcome | null }
  | { type: "failed"; id: number; message: string };
/**
 * Messages cross between threads in batches (ToWorker[] and FromWorker[]): one postMessage per run each way
 * cost the main thread more than the rest of the run's bookkeeping.
 */
export const WORKER_BATCH_MS = 5;
const WORKER_OLD_SPACE_MB = 96;

const WORKER_FILE = new URL("./probe-worker.js", import.meta.url);

/** Whether the compiled worker exists next to this module (it does in dist/, not when tests run the sources). */
export function workersAvailable(): boolean {
  return existsSync(fileURLToPath(WORKER_FILE));
}

interface Pending {
  resolve(outcome: CheckOutcome | null): void;
  reject(error: Error): void;
  worker: WorkerSlot;
}

interface WorkerSlot {
  worker: Worker;
  inFlight: number;
  /** Queues a message for the worker; they go together every WORKER_BATCH_MS. */
  post: (message: ToWorker) => void;
}

/**
 * Probes on worker threads, so the main thread only schedules, records and answers the API: connect, TLS
 * and HTTP parsing of thousands of runs a second then use the other cores. Each run goes to the worker with
 * the fewest in flight; a worker that dies fails its runs (the scheduler reports them) and is replaced.
 */
export function workerExecutor(options: {
  workers: number;
  addressPolicy: Partial<AddressPolicySpec>;
  onWorkerError(error: unknown): void;
  /** The worker's module; tests substitute one that can be made to crash. */
  workerFile?: URL;
}): ProbeExecutor {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let lastSync: ToWorker = { type: "sync", checks: [] };
  let closing = false;
  const slots: WorkerSlot[] = [];

  const spawn = (): WorkerSlot => {
    const worker = new Worker(options.workerFile ?? WORKER_FILE, {
      workerData: { addressPolicy: options.addressPolicy },
      // V8 lets an unbounded heap grow to hundreds of megabytes of garbage between full collections; a
      // worker holds the prepared checks and the runs in flight, a few tens of megabytes at 10,000 checks.
      resourceLimits: { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB },
    });
    const slot: WorkerSlot = {
      worker,
      inFlight: 0,
      // Runs go to the worker together every few milliseconds, as the answers come back: checks spread over
      // the interval fall due a few at a time, every millisecond, and each message woke both threads.
      post: messageBatcher<ToWorker>((batch) => {
        if (slots.includes(slot)) slot.worker.postMessage(batch);
      }, WORKER_BATCH_MS),
    };
    worker.on("message", (messages: FromWorker[]) => {
      for (const message of messages) {
        const entry = pending.get(message.id);
        if (!entry) continue;
        pending.delete(message.id);
        entry.worker.inFlight--;
        if (message.type === "done") entry.resolve(message.outcome);
        else entry.reject(new Error(message.message));
      }
    });
    const replace = (error: unknown) => {
      if (closing) return;
      options.onWorkerError(error);
      for (const [id, entry] of pending) {
        if (entry.worker !== slot) continue;
        pending.delete(id);
        entry.reject(new Error("the probe worker stopped during the run"));
      }
      const index = slots.indexOf(slot);
      if (index >= 0) slots[index] = spawn();
    };
    worker.on("error", replace);
    worker.on("exit", (code) => {
      if (code !== 0 || !closing) replace(new Error(`probe worker exited with code ${code}`));
    });
    worker.postMessage([lastSync]);
    return slot;
  };
  for (let i = 0; i < options.workers; i++) slots.push(spawn());

  return {
    sync(checks) {
      lastSync = { type: "sync", checks: checks.map((c) => ({ name: c.name, spec: c.spec })) };
      for (const slot of slots) slot.post(lastSync);
    },
    run(name, signal) {
      let slot = slots[0];
      for (const candidate of slots)
        if (slot === undefined || candidate.inFlight < slot.inFlight) slot = candidate;
      if (!slot) return Promise.resolve(null);
      const chosen = slot;
      const id = nextId++;
      chosen.inFlight++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: chosen });
        chosen.post({ type: "run", id, name });
        signal?.addEventListener("abort", () => chosen.post({ type: "abort", id }), { once: true });
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      for (const entry of pending.values()) entry.reject(new Error("the probe workers were stopped"));
      pending.clear();
    },
  };
}

/**
 * Starts on the caller's thread and moves probes to worker threads once there are at least `minChecks`
 * probe checks: a small installation does not pay a thread's memory (~45 MiB) for work its main thread does
 * easily. Runs already started finish where they began.
 */
export function adaptiveExecutor(options: {
  minChecks: number;
  inProcess: ProbeExecutor;
  startWorkers(): ProbeExecutor;
}): ProbeExecutor {
  let workers: ProbeExecutor | null = null;
  let lastSync: ReadonlyArray<{ name: string; spec: CheckSpec }> = [];
  return {
    sync(checks) {
      lastSync = checks;
      if (!workers && checks.length >= options.minChecks) workers = options.startWorkers();
      // Once the workers run the probes, this thread need not hold a second copy of every prepared check.
      options.inProcess.sync(workers ? [] : checks);
      workers?.sync(lastSync);
    },
    run(name, signal) {
      return (workers ?? options.inProcess).run(name, signal);
    },
    async close() {
      await Promise.all([options.inProcess.close(), workers?.close()]);
    },
  };
}
