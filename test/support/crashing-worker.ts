import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Writes `<dir>/crashing-worker.mjs`: the real worker module at `workerPath`, plus a listener that throws
 * on the thread (an uncaught error: the thread dies) when a message it is sent matches `crashWhen`, given as
 * the source of a predicate over one message. Returns the module's URL, for an executor's `workerFile`.
 */
export function writeCrashingWorker(dir: string, workerPath: string, crashWhen: string): URL {
  const file = join(dir, "crashing-worker.mjs");
  writeFileSync(
    file,
    `import { parentPort } from "node:worker_threads";
import ${JSON.stringify(pathToFileURL(workerPath).href)};
const crashes = ${crashWhen};
parentPort.on("message", (batch) => {
  for (const m of batch)
    if (crashes(m)) setImmediate(() => { throw new Error("worker crashed on purpose"); });
});
`,
  );
  return pathToFileURL(file);
}
