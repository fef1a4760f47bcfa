import type { Command } from "commander";
import { CliError, EXIT } from "./cli-error.js";

export function registerPromqlCommands(program: Command): void {
  program
    .command("promql-test")
    .description("run Prometheus .test files (promqltest language) against Nines's PromQL engine")
    .argument("<files...>", "test files, e.g. ../shared/conformance/promql/*.test")
    .option("-v, --verbose", "print each failing eval with its line")
    .action(async (files: string[], options: { verbose?: boolean }) => {
      const { runPromqlTestFile } = await import("../promql/index.js");
      let passed = 0;
      let failed = 0;
      let skipped = 0;
      for (const file of files) {
        let result: Awaited<ReturnType<typeof runPromqlTestFile>>;
        try {
          result = await runPromqlTestFile(file);
        } catch (error) {
          throw new CliError(`${file}: ${(error as Error).message}`, EXIT.INVALID);
        }
        passed += result.passed;
        failed += result.failed;
        skipped += result.skipped;
        process.stdout.write(
          `${file}: ${result.passed} passed, ${result.failed} failed, ${result.skipped} skipped\n`,
        );
        if (options.verbose)
          for (const f of result.failures) process.stdout.write(`  ${file}:${f.line}: ${f.message}\n`);
      }
      // The closing line CI readers look for; skipped evals are never counted as passed.
      process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
      if (failed > 0) process.exitCode = EXIT.NEGATIVE;
    });
}
