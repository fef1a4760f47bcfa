import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ApplyResult, Plan, RevisionDetail, RevisionSummary } from "../config/index.js";
import { CliError, EXIT } from "./cli-error.js";
import type { NinesClient } from "./client.js";
import { type OutputFormat, print } from "./output.js";

type Globals = () => { client: NinesClient; output: OutputFormat };

// Domain modules are imported inside the commands that need them, so that `nines --help` or a plain API call
// does not pay for loading the whole server.
const configDomain = () => import("../config/index.js");

async function readOrFail(path: string) {
  const { readConfigPath, formatProblem } = await configDomain();
  const read = await readConfigPath(path);
  if (read.problems.some((p) => p.severity === "error")) {
    throw new CliError(
      `${path}: the configuration cannot be read`,
      EXIT.INVALID,
      read.problems.map(formatProblem),
    );
  }
  return read.sources;
}

const SIGN = { create: "+", update: "~", delete: "-" } as const;

export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  for (const change of plan.changes) {
    out.push(`${SIGN[change.action]} ${change.kind} ${change.name} (${change.action})`);
    for (const field of change.fields) {
      const show = (v: unknown) => JSON.stringify(v);
      if (change.action === "update")
        out.push(
          `    ${field.path}: ${"before" in field ? show(field.before) : "(unset)"} → ${"after" in field ? show(field.after) : "(unset)"}`,
        );
      else out.push(`    ${field.path}: ${show(change.action === "create" ? field.after : field.before)}`);
    }
  }
  const count = (a: string) => plan.changes.filter((c) => c.action === a).length;
  out.push(
    `${count("create")} to create, ${count("update")} to change, ${count("delete")} to delete, ${plan.unchanged} unchanged`,
  );
  return `${out.join("\n")}\n`;
}

async function printApply(result: ApplyResult, output: OutputFormat, verb: string): Promise<void> {
  if (output === "json") return print("json", result);
  const { formatProblem } = await configDomain();
  for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`);
  if (result.plan) process.stdout.write(formatPlan(result.plan));
  if (result.applied) process.stdout.write(`${verb}: revision ${result.revision}\n`);
  else if (!result.dryRun)
    process.stdout.write(`nothing to change; revision ${result.revision} stays in force\n`);
}

export function registerConfigCommands(program: Command, globals: Globals): void {
  program
    .command("validate")
    .description("check configuration files without a server: every problem with file:line:column")
    .argument("<path>", "a YAML file or a directory of them")
    .action(async (path: string) => {
      const sources = await readOrFail(path);
      const [{ ConfigService, formatProblem }, { createKindRegistry }] = await Promise.all([
        configDomain(),
        import("../app/registry.js"),
      ]);
      const { documents, problems } = new ConfigService(createKindRegistry()).validate(sources);
      for (const p of problems) process.stderr.write(`${formatProblem(p)}\n`);
      const errors = problems.filter((p) => p.severity === "error").length;
      if (errors > 0)
        throw new CliError(`${errors} error${errors === 1 ? "" : "s"} in ${path}`, EXIT.INVALID);
      const { output } = globals();
      if (output === "json") print("json", { ok: true, objects: documents.length, problems });
      else
        process.stdout.write(
          `${path}: valid, ${documents.length} object${documents.length === 1 ? "" : "s"}\n`,
        );
    });

  program
    .command("diff")
    .description(
      "show what applying the configuration would create, change field by field, and delete; applies nothing",
    )
    .argument("<path>", "a YAML file or a directory of them")
    .option("--exit-code", "exit 1 when there are changes")
    .action(async (path: string, options: { exitCode?: boolean }) => {
      const { client, output } = globals();
      const files = (await readOrFail(path)).map((s) => ({ path: s.path, content: s.content }));
      const result = await client.request<ApplyResult>("POST", "/api/v1/config/apply", {
        files,
        dryRun: true,
      });
      await printApply(result, output, "planned");
      if (options.exitCode && (result.plan?.changes.length ?? 0) > 0) process.exitCode = EXIT.NEGATIVE;
    });

  program
    .command("apply")
    .description("apply the whole configuration, all or nothing, as a new revision")
    .argument("<path>", "a YAML file or a directory of them")
    .option("--dry-run", "plan only, like diff")
    .action(async (path: string, options: { dryRun?: boolean }) => {
      const { client, output } = globals();
      const files = (await readOrFail(path)).map((s) => ({ path: s.path, content: s.content }));
      const result = await client.request<ApplyResult>("POST", "/api/v1/config/apply", {
        files,
        dryRun: options.dryRun === true,
      });
      await printApply(result, output, "applied");
    });

  program
    .command("rollback")
    .description("apply the configuration of an earlier revision again, as a new revision")
    .argument("<revision>", "revision number (see `nines revisions`)")
    .option("--dry-run", "plan only")
    .action(async (revision: string, options: { dryRun?: boolean }) => {
      const n = Number(revision);
      if (!Number.isInteger(n) || n < 1)
        throw new CliError(`"${revision}" is not a revision number`, EXIT.INVALID);
      const { client, output } = globals();
      const result = await client.request<ApplyResult>("POST", "/api/v1/config/rollback", {
        revision: n,
        dryRun: options.dryRun === true,
      });
      await printApply(result, output, `rolled back to revision ${n}`);
    });

  program
    .command("revisions")
    .description("list configuration revisions, newest first, or show one")
    .argument("[revision]", "show this revision's changes")
    .option("--limit <n>", "how many", "20")
    .action(async (revision: string | undefined, options: { limit: string }) => {
      const { client, output } = globals();
      if (revision !== undefined) {
        const detail = await client.request<RevisionDetail>(
          "GET",
          `/api/v1/config/revisions/${encodeURIComponent(revision)}`,
        );
        if (output === "json") return print("json", detail);
        process.stdout.write(
          `revision ${detail.revision} by ${detail.actor} at ${detail.createdAt} (${detail.source})\n`,
        );
        process.stdout.write(
          formatPlan({ changes: detail.changes, unchanged: 0, contentHash: detail.contentHash }),
        );
        return;
      }
      const { revisions } = await client.request<{ revisions: RevisionSummary[] }>(
        "GET",
        `/api/v1/config/revisions?limit=${encodeURIComponent(options.limit)}`,
      );
      print(
        output,
        revisions,
        revisions.map((r) => ({
          revision: r.revision,
          createdAt: r.createdAt,
          actor: r.actor,
          source: r.rollbackOf ? `rollback of ${r.rollbackOf}` : r.source,
          changes: `+${r.counts.create} ~${r.counts.update} -${r.counts.delete}`,
        })),
      );
    });

  program
    .command("schema")
    .description("print the JSON Schema of every configuration kind, for YAML language servers")
    .option("--out <file>", "write to a file instead of standard output")
    .action(async (options: { out?: string }) => {
      const [{ configJsonSchema }, { createKindRegistry }] = await Promise.all([
        configDomain(),
        import("../app/registry.js"),
      ]);
      const text = `${JSON.stringify(configJsonSchema(createKindRegistry()), null, 2)}\n`;
      if (options.out) await writeFile(options.out, text);
      else process.stdout.write(text);
    });
}
