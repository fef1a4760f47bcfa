import type { Command } from "commander";
import type { CheckSummary } from "../checks/index.js";
import { CliError, EXIT } from "./cli-error.js";
import type { NinesClient } from "./client.js";
import { type OutputFormat, print } from "./output.js";

type Globals = () => { client: NinesClient; output: OutputFormat };

interface RunResult {
  at: string;
  ok: boolean;
  degraded: boolean;
  durationMs: number;
  attempts: number;
  statusCode: number | null;
  reason: string | null;
  conditions: Array<{ condition: string; ok: boolean; actual: string }>;
  timings: Record<string, number>;
}

const percent = (ratio: number | null) =>
  ratio === null ? "-" : `${(ratio * 100).toFixed(ratio === 1 ? 0 : 3)}%`;
const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? "-" : `${value < 10 ? value.toFixed(1) : Math.round(value)}ms`;
const path = (name: string) => `/api/v1/checks/${encodeURIComponent(name)}`;

export function registerCheckCommands(program: Command, globals: Globals): void {
  program
    .command("checks")
    .description("list checks with their state and uptime over 24h, 7d and 30d")
    .option("--service <name>", "only this service's")
    .action(async (options: { service?: string }) => {
      const { client, output } = globals();
      const checks: CheckSummary[] = [];
      let after: string | null = null;
      do {
        const params = new URLSearchParams({
          limit: "1000",
          ...(options.service ? { service: options.service } : {}),
          ...(after ? { after } : {}),
        });
        const page: { checks: CheckSummary[]; next: string | null } = await client.request(
          "GET",
          `/api/v1/checks?${params}`,
        );
        checks.push(...page.checks);
        after = page.next;
      } while (after !== null);
      print(
        output,
        checks,
        checks.map((c) => ({
          name: c.name,
          service: c.service,
          type: c.type,
          every: c.interval,
          status: c.status,
          since: c.since,
          "24h": percent(c.uptime["24h"].ratio),
          "7d": percent(c.uptime["7d"].ratio),
          "30d": percent(c.uptime["30d"].ratio),
          last: c.lastReason ?? ms(c.lastDurationMs),
        })),
      );
    });

  const check = program.command("check").description("run one check now, or look at one check");
  check
    .command("run")
    .description(
      "run a check now and print the result, its conditions and the phase timings; exit 1 if it failed",
    )
    .argument("<name>")
    .action(async (name: string) => {
      const { client, output } = globals();
      const result = await client.request<RunResult>("POST", `${path(name)}/run`);
      if (output === "json") print("json", result);
      else {
        const verdict = result.ok ? (result.degraded ? "DEGRADED" : "OK") : "FAILED";
        const lines = [
          `${name}: ${verdict} in ${ms(result.durationMs)}${result.attempts > 1 ? ` after ${result.attempts} attempts` : ""}`,
        ];
        if (result.statusCode !== null) lines.push(`  status: ${result.statusCode}`);
        if (result.reason) lines.push(`  reason: ${result.reason}`);
        for (const c of result.conditions)
          lines.push(`  ${c.ok ? "✓" : "✗"} ${c.condition}  (actual: ${c.actual})`);
        const phases = Object.entries(result.timings).map(([phase, value]) => `${phase} ${ms(value)}`);
        if (phases.length > 0) lines.push(`  timings: ${phases.join(", ")}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!result.ok) process.exitCode = EXIT.NEGATIVE;
    });
  check
    .command("show")
    .description("a check's configuration, state, uptime and (for editors) heartbeat URL")
    .argument("<name>")
    .action(async (name: string) => {
      const { client } = globals();
      print("json", await client.request("GET", path(name)));
    });
  for (const [command, what] of [
    ["history", "results"],
    ["events", "events"],
  ] as const) {
    check
      .command(command)
      .description(
        command === "history" ? "a check's runs, newest first" : "a check's state changes, newest first",
      )
      .argument("<name>")
      .option("--limit <n>", "how many", "20")
      .option("--before <time>", "older than this ISO time (the last line's time)")
      .action(async (name: string, options: { limit: string; before?: string }) => {
        const { client, output } = globals();
        if (options.before !== undefined && Number.isNaN(Date.parse(options.before))) {
          throw new CliError(`--before "${options.before}" is not an ISO 8601 time`, EXIT.INVALID);
        }
        const params = new URLSearchParams({
          limit: options.limit,
          ...(options.before ? { before: options.before } : {}),
        });
        const answer = await client.request<Record<string, Array<Record<string, unknown>>>>(
          "GET",
          `${path(name)}/${what}?${params}`,
        );
        const rows = answer[what] ?? [];
        print(
          output,
          answer,
          command === "history"
            ? rows.map((r) => ({
                at: r.at,
                ok: r.ok ? (r.degraded ? "degraded" : "ok") : "FAILED",
                duration: ms(r.durationMs as number),
                status: r.statusCode,
                reason: r.reason,
              }))
            : rows.map((r) => ({ at: r.at, from: r.from, to: r.to, reason: r.reason })),
        );
      });
  }
}
