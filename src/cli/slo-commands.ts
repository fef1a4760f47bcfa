import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ConfigObject } from "../config/index.js";
import { CliError, EXIT } from "./cli-error.js";
import type { NinesClient } from "./client.js";
import { type OutputFormat, print } from "./output.js";

type Globals = () => { client: NinesClient; output: OutputFormat };

interface StatusView {
  status: string;
  sli: number | null;
  budgetRemaining: number | null;
  budgetRemainingSeconds: number | null;
  burnRateNow: number | null;
  exhaustionAt: string | null;
  windowStart: string;
  totalEvents: number;
  tiers: Array<{
    name: string;
    severity: string;
    factor: number;
    longBurnRate: number | null;
    shortBurnRate: number | null;
    firing: boolean;
    suppressed: boolean;
  }>;
}
interface SloView {
  name: string;
  service: string;
  objective: number;
  window: string | { calendar: string; timezone: string };
  groups: Array<{ labels: Record<string, string>; status: StatusView }>;
}

const pct = (x: number | null, digits = 3) => (x === null ? "-" : `${(x * 100).toFixed(digits)}%`);
const rate = (x: number | null) => (x === null ? "-" : `${x.toFixed(2)}×`);
const windowText = (w: SloView["window"]) => (typeof w === "string" ? w : `${w.calendar} (${w.timezone})`);
const groupText = (labels: Record<string, string>) =>
  Object.keys(labels).length === 0
    ? ""
    : Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
const minutes = (seconds: number | null) => (seconds === null ? "-" : `${(seconds / 60).toFixed(1)}m`);

export function registerSloCommands(program: Command, globals: Globals): void {
  const slo = program.command("slo").description("service level objectives: budgets, burn rates, alerts");
  slo
    .command("list")
    .description("every SLO with its budget left and firing tiers, least budget first")
    .option("--service <name>", "only this service's")
    .action(async (options: { service?: string }) => {
      const { client, output } = globals();
      const query = options.service ? `?service=${encodeURIComponent(options.service)}` : "";
      const answer = await client.request<{ slos: SloView[] }>("GET", `/api/v1/slos${query}`);
      print(
        output,
        answer,
        answer.slos.flatMap((s) =>
          s.groups.map((g) => ({
            name: s.name,
            group: groupText(g.labels),
            service: s.service,
            objective: `${s.objective}%`,
            window: windowText(s.window),
            status: g.status.status,
            sli: pct(g.status.sli),
            "budget left": pct(g.status.budgetRemaining, 1),
            "burn now": rate(g.status.burnRateNow),
            firing:
              g.status.tiers
                .filter((t) => t.firing)
                .map((t) => t.name)
                .join(",") || "-",
          })),
        ),
      );
    });
  slo
    .command("status")
    .description("one SLO: budget left (share and time), burn rate over each tier's windows, exhaustion")
    .argument("<name>")
    .action(async (name: string) => {
      const { client, output } = globals();
      const s = await client.request<SloView>("GET", `/api/v1/slos/${encodeURIComponent(name)}`);
      if (output === "json") {
        print("json", s);
        return;
      }
      const lines = [`${s.name} (service ${s.service}): ${s.objective}% over ${windowText(s.window)}`];
      for (const g of s.groups) {
        const st = g.status;
        const group = groupText(g.labels);
        lines.push(
          `${group ? `  [${group}] ` : "  "}${st.status}: SLI ${pct(st.sli)} over ${st.totalEvents} events since ${st.windowStart}`,
        );
        lines.push(
          `    budget left: ${pct(st.budgetRemaining, 1)} (${minutes(st.budgetRemainingSeconds)}); burn now ${rate(st.burnRateNow)}${st.exhaustionAt ? `; runs out ${st.exhaustionAt}` : ""}`,
        );
        for (const t of st.tiers) {
          const state = t.firing ? "FIRING" : t.suppressed ? "suppressed by a page" : "ok";
          lines.push(
            `    ${t.name.padEnd(12)} ${t.severity.padEnd(6)} ${String(t.factor).padStart(5)}×  long ${rate(t.longBurnRate)}  short ${rate(t.shortBurnRate)}  ${state}`,
          );
        }
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  slo
    .command("export-rules")
    .description(
      "write Sloth-compatible Prometheus recording and alerting rules for SLOs with PromQL SLIs, for teams who evaluate in Prometheus",
    )
    .option("--slo <name...>", "only these SLOs (default: every SLO that can be exported)")
    .option("--from <path>", "read the SLOs from configuration files, offline, instead of from the server")
    .option("--out <file>", "write the rule file here instead of to standard output")
    .action(async (options: { slo?: string[]; from?: string; out?: string }) => {
      const objects = options.from ? await localSlos(options.from) : await serverSlos(globals().client);
      const [{ SloSpec, formatRuleFile, slothRules }, { ninesVersion }] = await Promise.all([
        import("../slo/index.js"),
        import("../app/version.js"),
      ]);
      const wanted = options.slo ? new Set(options.slo) : null;
      const missing = [...(wanted ?? [])].filter((n) => !objects.some((o) => o.metadata.name === n));
      if (missing.length > 0)
        throw new CliError(
          `no SLO named ${missing.join(", ")}; \`nines slo list\` lists them`,
          EXIT.NOT_FOUND,
        );
      const slos = objects
        .filter((o) => wanted === null || wanted.has(o.metadata.name))
        .map((o) => ({ name: o.metadata.name, spec: SloSpec.parse(o.spec) }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const result = slothRules(slos, { version: ninesVersion() });
      // SLOs named on the command line must export; others without a PromQL SLI are skipped with a warning.
      if (wanted !== null && result.skipped.length > 0)
        throw new CliError(
          "these SLOs cannot be exported",
          EXIT.INVALID,
          result.skipped.map((s) => `${s.name}: ${s.reason}`),
        );
      for (const s of result.skipped) process.stderr.write(`nines: skipped ${s.name}: ${s.reason}\n`);
      for (const w of result.warnings) process.stderr.write(`nines: warning: ${w}\n`);
      const text = formatRuleFile(result.groups);
      if (options.out) {
        await writeFile(options.out, text);
        const count = slos.length - result.skipped.length;
        process.stderr.write(`${options.out}: rules for ${count} SLO${count === 1 ? "" : "s"}\n`);
      } else process.stdout.write(text);
    });

  program
    .command("gate")
    .description(
      "may changes to a service go ahead? exit 0 if so, 1 with the reason when its error budget policy freezes them",
    )
    .requiredOption("--service <name>", "the service about to change")
    .action(async (options: { service: string }) => {
      const { client, output } = globals();
      const answer = await client.request<{ allowed: boolean; reasons: string[] }>(
        "GET",
        `/api/v1/services/${encodeURIComponent(options.service)}/gate`,
      );
      if (output === "json") print("json", answer);
      else if (answer.allowed) process.stdout.write(`changes to ${options.service} may go ahead\n`);
      else
        process.stdout.write(
          `changes to ${options.service} are frozen:\n${answer.reasons.map((r) => `  ${r}`).join("\n")}\n`,
        );
      if (!answer.allowed) process.exitCode = EXIT.NEGATIVE;
    });
}

async function serverSlos(client: NinesClient): Promise<ConfigObject[]> {
  const answer = await client.request<{ objects: ConfigObject[] }>("GET", "/api/v1/config/objects?kind=SLO");
  return answer.objects.filter((o) => o.kind === "SLO");
}

/** SLOs from configuration files, validated as `nines validate` does (OpenSLO and Sloth files included). */
async function localSlos(path: string): Promise<ConfigObject[]> {
  const [config, { createKindRegistry }, slo] = await Promise.all([
    import("../config/index.js"),
    import("../app/registry.js"),
    import("../slo/index.js"),
  ]);
  const read = await config.readConfigPath(path);
  const base = createKindRegistry();
  const translators = [...base.translators()];
  for (const t of [slo.openSloTranslator, slo.slothTranslator])
    if (!translators.includes(t)) translators.push(t);
  const { documents, problems } = new config.ConfigService(
    new config.KindRegistry(base.all(), translators),
  ).validate(read.sources);
  const all = [...read.problems, ...problems];
  const errors = all.filter((p) => p.severity === "error");
  if (errors.length > 0)
    throw new CliError(
      `${errors.length} error${errors.length === 1 ? "" : "s"} in ${path}`,
      EXIT.INVALID,
      all.map(config.formatProblem),
    );
  for (const p of all) process.stderr.write(`${config.formatProblem(p)}\n`);
  return documents.filter((o) => o.kind === "SLO" && o.apiVersion === "nines/v1");
}
