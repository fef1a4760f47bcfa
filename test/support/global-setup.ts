import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Tests that run the real `nines` command need the compiled CLI; compile once before any test file runs.
 * tsc is incremental here, so an up-to-date dist costs about a second. Type errors are the type-check
 * step's to report; tsc still emits, and only a missing CLI stops the tests here.
 */
export default function setup(): void {
  const root = resolve(import.meta.dirname, "../..");
  spawnSync(
    process.execPath,
    [resolve(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "ignore" },
  );
  if (!existsSync(resolve(root, "dist/cli/main.js")))
    throw new Error("tsc did not produce dist/cli/main.js; run `npm run build` to see why");
}
