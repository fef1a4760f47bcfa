import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import floor from "./conformance-floor.json" with { type: "json" };
import { runPromqlTestFile, type TestFileResult } from "./index.js";

// Prometheus's own promqltest files, kept unchanged next to the repository (see docs/promql-conformance.md).
const DIR = fileURLToPath(new URL("../../../shared/conformance/promql/", import.meta.url));

describe("PromQL conformance with Prometheus v3.5 promqltest files", () => {
  it("passes at least as many evals as the recorded floor", async () => {
    const files = readdirSync(DIR)
      .filter((f) => f.endsWith(".test"))
      .sort();
    const results: TestFileResult[] = [];
    for (const f of files) results.push(await runPromqlTestFile(DIR + f));
    for (const r of results) {
      console.log(
        `${r.file.slice(DIR.length)}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`,
      );
      for (const f of r.failures) console.log(`  ${r.file.slice(DIR.length)}:${f.line}: ${f.message}`);
    }
    const passed = results.reduce((n, r) => n + r.passed, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    const skipped = results.reduce((n, r) => n + r.skipped, 0);
    console.log(`total: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    expect(passed).toBeGreaterThanOrEqual(floor.passed);
  });
});
