import { parentPort, workerData } from "node:worker_threads";
import type { CheckSpec } from "./check-kind.js";
import type { FromWorker } from "./probe-executor.js";
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

port.on(
  "message",
  (
    message:
      | { type: "sync"; checks: Array<{ name: string; spec: CheckSpec }> }
      | { type: "run"; id: number; name: string }
      | { type: "abort"; id: number },
  ) => {
    if (message.type === "sync") {
      checks = new Map(message.checks.map((c) => [c.name, prepareCheck(c.name, c.spec)]));
      return;
    }
    if (message.type === "abort") {
      running.get(message.id)?.abort();
      return;
    }
    const check = checks.get(message.name);
    if (!check) {
      port.postMessage({ type: "done", id: message.id, outcome: null } satisfies FromWorker);
      return;
    }
    const controller = new AbortController();
    running.set(message.id, controller);
    runCheck(check, { now: Date.now, signal: controller.signal, addressPolicy: policy })
      .then((outcome) => {
        // Bodies can be a megabyte; the main thread needs the verdict, status, timings and TLS dates only.
        const probe =
          outcome.probe && "body" in outcome.probe
            ? { ...outcome.probe, body: "", headers: {} }
            : outcome.probe;
        port.postMessage({
          type: "done",
          id: message.id,
          outcome: { ...outcome, ...(probe ? { probe } : {}) },
        } satisfies FromWorker);
      })
      .catch((error: unknown) =>
        port.postMessage({ type: "failed", id: message.id, message: String(error) } satisfies FromWorker),
      )
      .finally(() => running.delete(message.id));
  },
);
