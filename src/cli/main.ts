#!/usr/bin/env node
import { Command, CommanderError, Option } from "commander";
import { ninesVersion } from "../app/version.js";
import { isNinesError } from "../platform/errors.js";
import { registerAuditCommands, registerCatalogCommands, registerTokenCommands } from "./admin-commands.js";
import { registerCheckCommands } from "./check-commands.js";
import { registerAlertmanagerCommands } from "./alertmanager-commands.js";
import { registerAlertsCommands } from "./alerts-commands.js";
import { registerRulesCommands } from "./rules-commands.js";
import { registerSloCommands } from "./slo-commands.js";
import { CliError, EXIT, exitCodeFor } from "./cli-error.js";
import { NinesClient } from "./client.js";
import { registerConfigCommands } from "./config-commands.js";
import type { OutputFormat } from "./output.js";
import { registerPromqlCommands } from "./promql-commands.js";
import { registerServeCommand } from "./serve-command.js";

interface GlobalOptions {
  server?: string;
  token?: string;
  output: OutputFormat;
  debug?: boolean;
}

export function buildProgram(): Command {
  const program = new Command("nines")
    .description("Nines: checks, metrics, SLOs, alerting and incidents, as one self-hosted service")
    .version(ninesVersion())
    .option("--server <url>", "Nines server URL (NINES_URL, default http://127.0.0.1:9999)")
    .option("--token <token>", "API token (NINES_TOKEN; default: ./data/admin-token when present)")
    .addOption(
      new Option("-o, --output <format>", "table or json").choices(["table", "json"]).default("table"),
    )
    .option("--debug", "print stack traces")
    .showHelpAfterError()
    .exitOverride();
  const globals = () => {
    const options = program.opts<GlobalOptions>();
    return {
      client: new NinesClient({ server: options.server, token: options.token }),
      output: options.output,
    };
  };
  registerServeCommand(program);
  registerConfigCommands(program, globals);
  registerTokenCommands(program, globals);
  registerAuditCommands(program, globals);
  registerCatalogCommands(program, globals);
  registerCheckCommands(program, globals);
  registerSloCommands(program, globals);
  registerPromqlCommands(program);
  registerRulesCommands(program);
  registerAlertmanagerCommands(program);
  registerAlertsCommands(program, globals);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns its exit code; one readable line per error, stack traces only with --debug. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.OK;
  } catch (error) {
    const debug = program.opts<GlobalOptions>().debug === true;
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.OK : EXIT.INVALID;
    }
    if (error instanceof CliError) {
      for (const line of error.lines) process.stderr.write(`${line}\n`);
      process.stderr.write(`nines: ${error.message}\n`);
      if (debug) process.stderr.write(`${error.stack}\n`);
      return error.exitCode;
    }
    if (isNinesError(error)) {
      process.stderr.write(`nines: ${error.code}: ${error.message}\n`);
      if (debug) process.stderr.write(`${error.stack}\n`);
      return exitCodeFor(error.code);
    }
    process.stderr.write(`nines: ${(error as Error).message ?? String(error)}\n`);
    if (debug) process.stderr.write(`${(error as Error).stack}\n`);
    return EXIT.UNAVAILABLE;
  }
}

// Run when executed as the nines command, not when imported by tests.
if (process.argv[1] && import.meta.url === new URL(process.argv[1], "file://").href) {
  runCli(process.argv).then((code) => {
    if (code !== EXIT.OK) process.exitCode = code;
  });
}
