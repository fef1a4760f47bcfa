// What every bench needs: child processes that are always stopped (by process group, also on Ctrl-C),
// free loopback ports, a process's CPU seconds and memory from /proc, quantiles, the Debian peers, and a
// build of dist/ when the sources changed.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const root = resolve(import.meta.dirname, "../..");
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const round = (x, digits = 3) => (x === null || !Number.isFinite(x) ? x : Number(x.toFixed(digits)));

/** A scratch directory and a set of children, all removed or killed when the bench exits, however it exits. */
export function benchWorkspace(prefix) {
  const children = new Set();
  const work = mkdtempSync(join(tmpdir(), prefix));
  const killAllNow = () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }
    rmSync(work, { recursive: true, force: true });
  };
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      console.error(`\n${signal}: stopping children and removing ${work}`);
      process.exit(130);
    });
  }

  /** Starts a process in its own group, keeping the tail of its stderr for error messages. */
  function startChild(name, command, args, options = {}) {
    const child = spawn(command, args, {
      cwd: options.cwd ?? work,
      env: options.env ?? process.env,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.name = name;
    child.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
    child.stderrTail = () => stderr;
    children.add(child);
    child.exited.then(() => children.delete(child));
    return child;
  }

  return { work, startChild };
}

/** SIGTERM to the child's group, SIGKILL after the grace period. */
export async function stopChild(child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  const done = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
    await child.exited;
  }
}

export async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * What a process (all its threads) wrote, in bytes, from /proc/<pid>/io: `storage` counts pages it dirtied in
 * files (write_bytes; a page dirtied again before it reaches the disk counts once), `syscalls` every byte it
 * handed to write calls, sockets included (wchar).
 */
export function writtenBytes(pid) {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  const field = (name) => Number(new RegExp(`^${name}: (\\d+)$`, "m").exec(io)?.[1] ?? Number.NaN);
  return { storage: field("write_bytes"), syscalls: field("wchar") };
}

/** utime + stime of a process, in seconds. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds of a process's main thread (its thread id is the process id) and of all its other threads
 * together (worker threads, V8's GC helpers, libuv's pool): for Node, the main thread is the one that saturates.
 */
export function threadCpuSeconds(pid) {
  const of = (tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    } catch {
      return 0; // the thread ended between the listing and the read
    }
  };
  const main = of(pid);
  return { main, others: cpuSeconds(pid) - main };
}

export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: round(kb("VmRSS") / 1024, 1), peakRssMiB: round(kb("VmHWM") / 1024, 1) };
}

/** Total bytes of the files under a directory. */
export function directoryBytes(dir) {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return total;
}

export async function waitFor(what, child, probe, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited during start-up: ${child.stderrTail()}`);
    try {
      if (await probe()) return;
    } catch {}
    if (performance.now() > deadline) throw new Error(`${what} not ready in ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export function quantile(values, q) {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

/** Installs the Debian packages that provide the missing commands (command → package). */
export function ensureInstalled(packagesByCommand) {
  const missing = Object.keys(packagesByCommand).filter(
    (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status !== 0,
  );
  if (missing.length === 0) return;
  const packages = missing.map((m) => packagesByCommand[m]);
  console.log(`installing ${packages.join(", ")} with apt-get (Debian packages)…`);
  const apt = (args) => {
    const r = spawnSync("apt-get", args, {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed`);
  };
  apt(["update"]);
  apt(["install", "-y", ...packages]);
}

/** The first line a command prints for --version (or the given flag). */
export function versionOf(command, flag = "--version") {
  const r = spawnSync(command, [flag], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`.split("\n")[0].trim();
}

/** Compiles dist/ when the sources changed; a failed build measures the existing dist/ with a warning. */
export function buildIfStale() {
  const r = spawnSync(process.execPath, [join(root, "scripts/build-if-stale.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) {
    if (!existsSync(join(root, "dist/cli/main.js")))
      throw new Error("the build failed and there is no dist/");
    console.warn("warning: the build failed; measuring the existing dist/");
  }
}

/** POSTs a body over a plain keep-alive-free request; resolves with the status and text of the answer. */
export function post(url, body, headers = {}) {
  return new Promise((resolvePost, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { ...headers, "content-length": body.length } },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolvePost({ status: res.statusCode, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
