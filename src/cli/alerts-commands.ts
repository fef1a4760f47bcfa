import type { Command } from "commander";
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

type TraceEventView = { at: number; type: string } & Record<string, unknown>;

/** What GET /api/v1/alerts/:fingerprint/trace answers. */
export interface AlertTraceView {
  fingerprint: string;
  alert?: {
    labels: Record<string, string>;
    startsAt: number;
    endsAt: number | null;
    source: string;
    updatedAt: number;
  };
  events: TraceEventView[];
  notifications: Array<{
    idempotencyKey: string;
    receiver: string;
    integration: string;
    status: string;
    lastError: string | null;
    attempts: Array<{
      at: number;
      ok: boolean;
      statusCode: number | null;
      response: string | null;
      durationMs: number;
    }>;
  }>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const labelsText = (labels: Record<string, string>) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;

function describeEvent(e: TraceEventView): string {
  const s = (key: string) => String(e[key] ?? "");
  switch (e.type) {
    case "received":
      return `starts ${iso(Number(e.startsAt))}, ends ${iso(Number(e.endsAt))}${e.timeout ? " (resolve timeout)" : ""}`;
    case "routed": {
      const routes = (e.routes as Array<{ routeId: string; receiver: string }>) ?? [];
      return routes.length === 0
        ? "no route"
        : routes.map((r) => `${r.receiver} (route ${r.routeId})`).join(", ");
    }
    case "grouped":
      return `group ${s("groupKey")} for ${s("receiver")}${e.newGroup ? " (new group)" : ""}`;
    case "silenced":
      return `by silence ${((e.silenceIds as string[]) ?? []).join(", ")}`;
    case "inhibited":
      return `by inhibit rule ${s("rule")}${e.ruleName ? ` (${s("ruleName")})` : ""}, source alert ${s("source")}`;
    case "time-muted":
      return `${s("receiver")}: ${s("reason")}`;
    case "notified":
      return `${s("receiver")} ${s("status")}${e.afterMute ? " (resolve after mute)" : ""}, key ${s("idempotencyKey")} (and the group's repeats)`;
    case "rejected":
      return s("reason");
    default:
      return "";
  }
}

/** The trace as lines a person reads: the alert, each event in time order, each notification's attempts. */
export function formatTrace(trace: AlertTraceView): string {
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
      const trace = await client.request<AlertTraceView>(
        "GET",
        `/api/v1/alerts/${encodeURIComponent(fingerprint)}/trace`,
      );
      if (output === "json") print(output, trace);
      else process.stdout.write(formatTrace(trace));
    });
}
