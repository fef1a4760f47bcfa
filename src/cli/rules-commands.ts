import type { Command } from "commander";

/** `nines test rules FILE…`: promtool's rule unit tests, run locally on Nines's engine; no server needed. */
export function registerRulesCommands(program: Command): void {
  const test = program.command("test").description("run tests locally, without a server");
  test
    .command("rules")
    .description("run rule unit-test files in promtool's format (rule_files, input_series, alert_rule_test…)")
    .argument("<files...>", "unit-test files, e.g. tests/alerts_test.yml")
    .action(async (files: string[]) => {
      const { runRuleUnitTests } = await import("../alerting/rules/index.js");
      const code = await runRuleUnitTests(files);
      if (code !== 0) process.exitCode = code;
    });
}
