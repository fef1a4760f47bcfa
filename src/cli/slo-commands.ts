import type { Command } from "commander";
import { EXIT } from "./cli-error.js";
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
