#!/usr/bin/env node
// Runs before `npm start`: compiles only when a source file is newer than the last build, so an unchanged
// checkout starts at once (tsc's own up-to-date check alone costs seconds).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const stamp = join(root, "dist/.tsbuildinfo");

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith(".ts")) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const built = existsSync(stamp) && existsSync(join(root, "dist/cli/main.js")) ? statSync(stamp).mtimeMs : 0;
const sources = Math.max(
  newest(join(root, "src")),
  statSync(join(root, "package.json")).mtimeMs,
  statSync(join(root, "tsconfig.json")).mtimeMs,
);
if (sources > built) {
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves its build info alone when nothing changed; mark the build as current either way.
  const now = new Date();
  utimesSync(stamp, now, now);
}
