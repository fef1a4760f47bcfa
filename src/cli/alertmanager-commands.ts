import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { CliError, EXIT } from "./cli-error.js";

export function registerAlertmanagerCommands(program: Command): void {
  const am = program.command("alertmanager").description("work with Alertmanager configuration files");
  am.command("import")
    .description(
      "print an alertmanager.yml as Nines config (AlertmanagerConfig and Receiver objects); exit 2 with file:line problems if it is not valid",
    )
    .argument("<file>")
    .option("--name <name>", "metadata.name of the AlertmanagerConfig object", "default")
    .action(async (file: string, options: { name: string }) => {
      const [{ importAlertmanagerConfig }, { formatProblem }] = await Promise.all([
        import("../alerting/routing/index.js"),
        import("../config/index.js"),
      ]);
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.INVALID);
      }
      const result = importAlertmanagerConfig(text, file, options.name);
      for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
      if (result.yaml === undefined) {
        process.exitCode = EXIT.INVALID;
        return;
      }
      process.stdout.write(result.yaml);
    });
}
