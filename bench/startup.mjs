#!/usr/bin/env node
// Start-up time and idle memory of `nines serve` with the example configuration, on a fresh data directory and
// on an existing one. Writes bench/results/startup.json. Traffic goes to loopback only; every run is bounded.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.RUNS ?? 5);
const IDLE_MS = 5000;

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

async function freePort() {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Launches a command and times until /readyz answers 200. */
async function timeToReady(command, args, dataDir) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, NINES_DATA_DIR: dataDir, NINES_PORT: String(port), NINES_LOG_LEVEL: "warn" },
    stdio: "ignore",
    detached: true,
  });
  const deadline = started + 30_000;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`${command} did not become ready in 30 s`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - started;
  return { child, readyMs, port };
}

async function stop(child) {
  const exited = new Promise((r) => child.on("exit", r));
  process.kill(-child.pid, "SIGTERM");
  await exited;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const scenarios = [
  {
    name: "node dist/cli/main.js serve, fresh data directory",
    command: process.execPath,
    args: ["dist/cli/main.js", "serve", "--config", "examples"],
    fresh: true,
  },
  {
    name: "node dist/cli/main.js serve, existing data directory",
    command: process.execPath,
    args: ["dist/cli/main.js", "serve", "--config", "examples"],
    fresh: false,
  },
  {
    name: "npm start (incremental build check, then serve), existing data directory",
    command: "npm",
    args: ["start", "--silent"],
    fresh: false,
  },
];

const results = [];
for (const scenario of scenarios) {
  const ready = [];
  const rss = [];
  const shared = mkdtempSync(join(tmpdir(), "nines-bench-"));
  for (let i = 0; i < RUNS; i++) {
    const dataDir = scenario.fresh ? mkdtempSync(join(tmpdir(), "nines-bench-")) : shared;
    const { child, readyMs, port } = await timeToReady(scenario.command, scenario.args, dataDir);
    ready.push(readyMs);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    // The server process is the node child of npm when started through npm; find it by its port's owner.
    const pid =
      scenario.command === "npm"
        ? Number(
            readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/).pop(),
          )
        : child.pid;
    let serverPid = pid;
    try {
      const grand = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      if (grand) serverPid = Number(grand.split(/\s+/).pop());
    } catch {}
    rss.push(rssMiB(serverPid));
    void port;
    await stop(child);
    if (scenario.fresh) rmSync(dataDir, { recursive: true, force: true });
  }
  rmSync(shared, { recursive: true, force: true });
  const row = {
    scenario: scenario.name,
    runs: RUNS,
    readyMs: { median: Math.round(median(ready)), max: Math.round(Math.max(...ready)) },
    idleRssMiB: { median: Math.round(median(rss)), max: Math.round(Math.max(...rss)) },
  };
  results.push(row);
  console.log(
    `${row.scenario}: ready in ${row.readyMs.median} ms (max ${row.readyMs.max}), idle RSS ${row.idleRssMiB.median} MiB (max ${row.idleRssMiB.max})`,
  );
}

const goals = { readyMs: 3000, idleRssMiB: 150 };
const worst = {
  readyMs: Math.max(...results.map((r) => r.readyMs.max)),
  idleRssMiB: Math.max(...results.map((r) => r.idleRssMiB.max)),
};
console.log(
  `goal: serving within ${goals.readyMs} ms -> worst ${worst.readyMs} ms (${(worst.readyMs / goals.readyMs).toFixed(2)}x of the budget); idle RSS under ${goals.idleRssMiB} MiB -> worst ${worst.idleRssMiB} MiB (${(worst.idleRssMiB / goals.idleRssMiB).toFixed(2)}x)`,
);
mkdirSync(join(root, "bench/results"), { recursive: true });
writeFileSync(
  join(root, "bench/results/startup.json"),
  `${JSON.stringify(
    {
      command: "npm run bench:startup",
      measuredAt: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version },
      method:
        "time from spawn to the first 200 from /readyz, polled every 10 ms; RSS (VmRSS) of the server process after 5 s idle",
      goals,
      worst,
      met: worst.readyMs < goals.readyMs && worst.idleRssMiB < goals.idleRssMiB,
      results,
    },
    null,
    2,
  )}\n`,
);
