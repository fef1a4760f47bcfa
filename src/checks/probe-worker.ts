import { parentPort, workerData } from "node:worker_threads";
import { messageBatcher } from "../platform/message-batch.js";
import { type FromWorker, type ToWorker, WORKER_BATCH_MS } from "./probe-executor.js";
import { createAddressPolicy } from "./probes/address-policy.js";
import { type PreparedCheck, prepareCheck, runCheck } from "./run-check.js";

/** A probe worker: holds the prepared checks, runs the ones it is asked to, answers with their outcomes. */
const port = parentPort;
if (!port) throw new Error("probe-worker.js runs as a worker thread");
const policy = createAddressPolicy(
  (workerData as { addressPolicy: Parameters<typeof createAddressPolicy>[0] }).addressPolicy,
);
let checks = new Map<string, PreparedCheck>();
const running = new Map<number, AbortController>();

// Answers go back together every few milliseconds rather than one message per run.
const answer = messageBatcher<FromWorker>((batch) => port.postMessage(batch), WORKER_BATCH_MS);

function handle(message: ToWorker): void {
  if (message.type === "sync") {
    checks = new Map(message.checks.map((c) => [c.name, prepareCheck(c.name, c.spec)]));
    return;
  }
  if (message.type === "abort") {
    running.get(message.id)?.abort();
    return;
  }
  const id = message.id;
  const check = checks.get(message.name);
  if (!check) {
    answer({ type: "done", id, outcome: null });
    return;
  }
  const controller = new AbortController();
  running.set(id, controller);
  runCheck(check, { now: Date.now, signal: controller.signal, addressPolicy: policy })
    .then((outcome) => answer({ type: "done", id, outcome }))
    .catch((error: unknown) => answer({ type: "failed", id, message: String(error) }))
    .finally(() => running.delete(id));
}

port.on("message", (messages: ToWorker[]) => {
  for (const message of messages) handle(message);
});
