import { parentPort } from "node:worker_threads";
import { messageBatcher } from "../platform/message-batch.js";
import { NOTIFIERS } from "./notifiers.js";
import type { FromSendWorker, ToSendWorker } from "./send-executor.js";
import { abortSends, type SendsInFlight, sendStored } from "./send-stored.js";

/** The send worker: sends the outbox rows it is handed and answers with each attempt's result. */
const port = parentPort;
if (!port) throw new Error("send-worker.js runs as a worker thread");
const sends: SendsInFlight = new Set();

// Results go back together, once per turn of the event loop, rather than one message per send.
const answer = messageBatcher<FromSendWorker>((batch) => port.postMessage(batch));

port.on("message", (messages: ToSendWorker[]) => {
  for (const message of messages) {
    if (message.type === "abortAll") {
      abortSends(sends);
      continue;
    }
    const { id, job } = message;
    void sendStored(job, NOTIFIERS, sends).then((result) => answer({ id, result }));
  }
});
