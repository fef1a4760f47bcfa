#!/usr/bin/env node
// CPU per HTTP probe run on one thread, without the server around it: the part of a check that the probe
// worker pays. A child process answers every connection with a fixed HTTP/1.1 200 and closes (its CPU is not
// counted); this process runs RATE probes a second for SECONDS through dist/'s runCheck, each on a fresh
// connection, and prints CPU ms per run (utime+stime of this process) and the event-loop utilisation.
// Usage: npm run build --silent && node bench/checks/probe-cpu.mjs   (env RATE, SECONDS, TLS=1)
import { fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { root } from "../lib/bench-kit.mjs";

const RATE = Number(process.env.RATE ?? 2000);
const SECONDS = Number(process.env.SECONDS ?? 10);

if (process.argv[2] === "target") {
  const { createServer } = await import("node:net");
  const answer = Buffer.from(
    "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
  );
  const server = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => socket.end(answer));
  });
  server.listen(0, "127.0.0.1", () => process.send?.(server.address().port));
} else {
  const dist = (path) => pathToFileURL(join(root, "dist", path)).href;
  const { prepareCheck, runCheck } = await import(dist("checks/run-check.js"));
  const { CheckSpec } = await import(dist("checks/check-kind.js"));
  const { createAddressPolicy } = await import(dist("checks/probes/address-policy.js"));
  const child = fork(new URL(import.meta.url).pathname, ["target"], { stdio: "inherit" });
  const port = await new Promise((resolve) => child.once("message", resolve));
  const policy = createAddressPolicy({ allow: ["127.0.0.0/8"] });
  const checks = Array.from({ length: 1000 }, (_, i) =>
    prepareCheck(
      `c${i}`,
      CheckSpec.parse({
        service: "s",
        interval: "1s",
        timeout: "900ms",
        probe: { type: "http", url: `http://127.0.0.1:${port}/c/${i}` },
      }),
    ),
  );
  let done = 0;
  let failed = 0;
  let lastReason = null;
  const runOne = (i) =>
    runCheck(checks[i % checks.length], { now: Date.now, addressPolicy: policy }).then((outcome) => {
      done++;
      if (!outcome.ok) {
        failed++;
        lastReason = outcome.reason;
      }
    });
  // Warm up, then measure.
  const tick = 10;
  const perTick = RATE / (1000 / tick);
  let started = 0;
  const runFor = (ms) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const timer = setInterval(() => {
        const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
        while (started < due) runOne(started++);
        if (performance.now() - t0 >= ms) {
          clearInterval(timer);
          resolve();
        }
      }, tick);
    });
  void perTick;
  await runFor(2000);
  started = 0;
  await new Promise((r) => setTimeout(r, 500));
  const doneBefore = done;
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  await runFor(SECONDS * 1000);
  await new Promise((r) => setTimeout(r, 1000));
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const runs = done - doneBefore;
  console.log(
    JSON.stringify({
      rate: RATE,
      seconds: SECONDS,
      runs,
      failed,
      lastReason,
      cpuMsPerRun: Number(((cpu.user + cpu.system) / 1000 / runs).toFixed(4)),
      userMsPerRun: Number((cpu.user / 1000 / runs).toFixed(4)),
      systemMsPerRun: Number((cpu.system / 1000 / runs).toFixed(4)),
      eventLoopUtilisation: Number(elu.utilization.toFixed(3)),
      heapUsedMiB: Number((process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)),
    }),
  );
  child.kill();
}
