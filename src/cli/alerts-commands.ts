import type { Command } from "commander";
import type { AlertTrace, TraceEvent } from "../alerting/index.js";
import type { NinesClient } from "./client.js";
import { type OutputFormat, print } from "./output.js";

type Globals = () => { client: NinesClient; output: OutputFormat };

interface ApiAlert {
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  receivers: Array<{ name: string }>;
  status: { state: string; silencedBy: string[]; inhibitedBy: string[] };
}

const iso = (ms: number) => new Date(ms).toISOString();
const labelsText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;

type EventOf<T extends TraceEvent["type"]> = Extract<TraceEvent, { type: T }>;

/** One line of text per event type: a new type without a line here does not compile. */
const DESCRIBE: { [T in TraceEvent["type"]]: (e: EventOf<T>) => string } = {
  received: (e) => `starts ${iso(e.startsAt)}, ends ${iso(e.endsAt)}${e.timeout ? " (resolve timeout)" : ""}`,
  routed: (e) =>
    e.routes.length === 0 ? "no route" : e.routes.map((r) => `${r.receiver} (route ${r.routeId})`).join(", "),
  grouped: (e) => `group ${e.groupKey} for ${e.receiver}${e.newGroup ? " (new group)" : ""}`,
  silenced: (e) => `by silence ${e.silenceIds.join(", ")}`,
  unsilenced: () => "",
  inhibited: (e) =>
    `by inhibit rule ${e.rule}${e.ruleName ? ` (${e.ruleName})` : ""}, source alert ${e.source}`,
  uninhibited: () => "",
  "time-muted": (e) => `${e.receiver}: ${e.reason}`,
  notified: (e) =>
    `${e.receiver} ${e.status}${e.afterMute ? " (resolve after mute)" : ""}, key ${e.idempotencyKey} (and the group's repeats)`,
  rejected: (e) => e.reason,
};

function describeEvent<T extends TraceEvent["type"]>(e: EventOf<T>): string {
  // A type the server knows and this client does not (a newer server) prints without details.
  const describe = DESCRIBE[e.type] as ((e: EventOf<T>) => string) | undefined;
  return describe?.(e) ?? "";
}

/** The trace as lines a person reads: the alert, each event in time order, each notification's attempts. */
export function formatTrace(trace: AlertTrace): string {
  const lines: string[] = [];
  const a = trace.alert;
  lines.push(`alert ${trace.fingerprint}${a ? ` ${labelsText(a.labels)}` : ""}`);
  if (a)
    lines.push(
      `  from ${a.source}, starts ${iso(a.startsAt)}, ${a.endsAt === null ? "no end given (resolve timeout)" : `ends ${iso(a.endsAt)}`}, last update ${iso(a.updatedAt)}`,
    );
  lines.push("history:");
  if (trace.events.length === 0) lines.push("  (none kept)");
  for (const e of trace.events)
    lines.push(`  ${iso(e.at)}  ${e.type.padEnd(11)} ${describeEvent(e)}`.trimEnd());
  lines.push("notifications:");
  if (trace.notifications.length === 0) lines.push("  (none)");
  for (const n of trace.notifications) {
    lines.push(
      `  ${n.receiver} ${n.integration}: ${n.status}, ${n.attempts.length} attempt(s), key ${n.idempotencyKey}`,
    );
    for (const t of n.attempts)
      lines.push(
        `    ${iso(t.at)}  ${t.ok ? "ok" : "failed"}${t.statusCode === null ? "" : ` ${t.statusCode}`} in ${Math.round(t.durationMs)} ms${t.response ? `: ${t.response.slice(0, 200)}` : ""}`,
      );
    if (n.lastError && n.status !== "delivered") lines.push(`    last error: ${n.lastError}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `nines alerts list` and `nines alerts why FINGERPRINT`. */
export function registerAlertsCommands(program: Command, globals: Globals): void {
  const alerts = program.command("alerts").description("alerts received by Nines's Alertmanager API");
  alerts
    .command("list")
    .description("alerts that are firing, with their state and receivers")
    .option(
      "--filter <matcher...>",
      'Alertmanager matchers, e.g. alertname="DiskFull" severity=~"page|critical"',
    )
    .option("--no-silenced", "leave out silenced alerts")
    .option("--no-inhibited", "leave out inhibited alerts")
    .action(async (options: { filter?: string[]; silenced: boolean; inhibited: boolean }) => {
      const { client, output } = globals();
      const query = new URLSearchParams();
      for (const f of options.filter ?? []) query.append("filter", f);
      if (!options.silenced) query.set("silenced", "false");
      if (!options.inhibited) query.set("inhibited", "false");
      const list = await client.request<ApiAlert[]>(
        "GET",
        `/api/v2/alerts${query.size > 0 ? `?${query}` : ""}`,
      );
      print(
        output,
        list,
        list.map((a) => ({
          fingerprint: a.fingerprint,
          alertname: a.labels.alertname ?? "-",
          state: a.status.state,
          since: a.startsAt,
          receivers: a.receivers.map((r) => r.name),
          labels: labelsText(Object.fromEntries(Object.entries(a.labels).filter(([k]) => k !== "alertname"))),
        })),
      );
    });
  alerts
    .command("why")
    .description(
      "what happened to one alert: route, group, silences, inhibitions, notifications and attempts",
    )
    .argument("<fingerprint>", "the alert's fingerprint, as `nines alerts list` shows it")
    .action(async (fingerprint: string) => {
      const { client, output } = globals();
      const trace = await client.request<AlertTrace>(
        "GET",
        `/api/v1/alerts/${encodeURIComponent(fingerprint)}/trace`,
      );
      if (output === "json") print(output, trace);
      else process.stdout.write(formatTrace(trace));
    });
}
