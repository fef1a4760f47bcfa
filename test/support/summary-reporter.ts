import type { Reporter, TestModule } from "vitest/node";

/**
 * Adds one plain closing line, "N passed, N failed, N skipped", after Vitest's own summary, so that tools
 * reading the end of a CI log see the counts without knowing Vitest's format.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      passed += [...module.children.allTests("passed")].length;
      failed += [...module.children.allTests("failed")].length;
      skipped += [...module.children.allTests("skipped")].length;
      // A file that failed to load has no tests; count it so the line never claims a clean run.
      if (module.state() === "failed" && [...module.children.allTests()].length === 0) failed++;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
