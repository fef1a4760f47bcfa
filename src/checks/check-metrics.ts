import { PROBE_PHASES, type ProbeType } from "./probes/probe-result.js";
import type { CheckOutcome, CheckStatus } from "./check-outcome.js";
import { CHECK_STATUSES } from "./check-outcome.js";

export interface CheckSnapshot {
  name: string;
  service: string;
  labels: Record<string, string>;
  status: CheckStatus;
  /** Null until the check has run. */
  last: LastRun | null;
}

/**
 * A check's last run as /metrics shows it: numbers only, one object per check updated in place by every run,
 * so that no run's objects are kept until the next one (thousands a second would age into the old generation).
 */
export interface LastRun {
  ok: boolean;
  durationMs: number;
  /** Null for a heartbeat. */
  probeType: ProbeType | null;
  statusCode: number | null;
  /** Milliseconds per phase in PROBE_PHASES order; 0 for a phase the run did not reach. */
  phases: number[];
  /** Epoch ms; null when the run had no TLS handshake. */
  earliestCertExpiry: number | null;
  leafCertExpiry: number | null;
}

export function newLastRun(): LastRun {
  return {
    ok: false,
    durationMs: 0,
    probeType: null,
    statusCode: null,
    phases: PROBE_PHASES.map(() => 0),
    earliestCertExpiry: null,
    leafCertExpiry: null,
  };
}

/** Copies what /metrics shows of a run into the check's LastRun. */
export function updateLastRun(last: LastRun, outcome: CheckOutcome): void {
  last.ok = outcome.ok;
  last.durationMs = outcome.durationMs;
  last.probeType = outcome.probe?.type ?? null;
  last.statusCode = outcome.statusCode;
  for (let i = 0; i < PROBE_PHASES.length; i++) {
    const phase = PROBE_PHASES[i];
    last.phases[i] = (phase === undefined ? undefined : outcome.timings[phase]) ?? 0;
  }
  const tls = outcome.probe?.tls ?? null;
  last.earliestCertExpiry = tls?.earliestNotAfter ?? null;
  last.leafCertExpiry = tls?.leafNotAfter ?? null;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/**
 * Every check in blackbox_exporter's metric names (probe_success, probe_duration_seconds,
 * probe_http_status_code, probe_http_duration_seconds{phase}, probe_ssl_earliest_cert_expiry) plus the leaf
 * certificate's expiry and Nines's own state, labelled with check and service, so existing dashboards and
 * alert rules work. Rendered as text directly: at 10,000 checks a metrics library's objects cost more.
 */
export function renderCheckMetrics(checks: readonly CheckSnapshot[]): string {
  const families: Record<string, { help: string; type: string; lines: string[] }> = {
    probe_success: { help: "Whether the last run of the check succeeded.", type: "gauge", lines: [] },
    probe_duration_seconds: { help: "How long the last run took.", type: "gauge", lines: [] },
    probe_http_status_code: {
      help: "HTTP status code of the last run's final response.",
      type: "gauge",
      lines: [],
    },
    probe_http_duration_seconds: {
      help: "Duration of each phase of the last HTTP run.",
      type: "gauge",
      lines: [],
    },
    probe_ssl_earliest_cert_expiry: {
      help: "Expiry (Unix seconds) of the certificate in the chain that expires first.",
      type: "gauge",
      lines: [],
    },
    probe_ssl_leaf_cert_expiry: {
      help: "Expiry (Unix seconds) of the server's own (leaf) certificate.",
      type: "gauge",
      lines: [],
    },
    nines_check_status: { help: "The check's state: 1 for the state it is in.", type: "gauge", lines: [] },
  };
  const push = (family: string, labels: string, value: number) =>
    families[family]?.lines.push(`${family}{${labels}} ${value}`);
  for (const check of checks) {
    const extra = Object.entries(check.labels)
      .filter(([k]) => k !== "check" && k !== "service")
      .map(([k, v]) => `,${k}="${escapeLabel(v)}"`)
      .join("");
    const labels = `check="${escapeLabel(check.name)}",service="${escapeLabel(check.service)}"${extra}`;
    for (const status of CHECK_STATUSES)
      push("nines_check_status", `${labels},status="${status}"`, status === check.status ? 1 : 0);
    const last = check.last;
    if (!last) continue;
    push("probe_success", labels, last.ok ? 1 : 0);
    push("probe_duration_seconds", labels, last.durationMs / 1000);
    if (last.probeType === "http") {
      push("probe_http_status_code", labels, last.statusCode ?? 0);
      for (let i = 0; i < PROBE_PHASES.length; i++)
        push(
          "probe_http_duration_seconds",
          `${labels},phase="${PROBE_PHASES[i]}"`,
          (last.phases[i] ?? 0) / 1000,
        );
    }
    if (last.earliestCertExpiry !== null && last.leafCertExpiry !== null) {
      push("probe_ssl_earliest_cert_expiry", labels, Math.floor(last.earliestCertExpiry / 1000));
      push("probe_ssl_leaf_cert_expiry", labels, Math.floor(last.leafCertExpiry / 1000));
    }
  }
  return Object.entries(families)
    .filter(([, f]) => f.lines.length > 0)
    .map(([name, f]) => `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.type}\n${f.lines.join("\n")}\n`)
    .join("");
}
