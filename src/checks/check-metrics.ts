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
  // One growing string per family (V8 joins them as ropes): 130,000 line strings in arrays, then joined per
  // family and again for the whole, tripled the garbage of a scrape at 10,000 checks.
  const out: Record<(typeof FAMILIES)[number]["name"], string> = {
    probe_success: "",
    probe_duration_seconds: "",
    probe_http_status_code: "",
    probe_http_duration_seconds: "",
    probe_ssl_earliest_cert_expiry: "",
    probe_ssl_leaf_cert_expiry: "",
    nines_check_status: "",
  };
  for (const check of checks) {
    let labels = `check="${escapeLabel(check.name)}",service="${escapeLabel(check.service)}"`;
    for (const key in check.labels)
      if (key !== "check" && key !== "service") labels += `,${key}="${escapeLabel(check.labels[key] ?? "")}"`;
    for (const status of CHECK_STATUSES)
      out.nines_check_status += `nines_check_status{${labels},status="${status}"} ${status === check.status ? 1 : 0}\n`;
    const last = check.last;
    if (!last) continue;
    out.probe_success += `probe_success{${labels}} ${last.ok ? 1 : 0}\n`;
    out.probe_duration_seconds += `probe_duration_seconds{${labels}} ${last.durationMs / 1000}\n`;
    if (last.probeType === "http") {
      out.probe_http_status_code += `probe_http_status_code{${labels}} ${last.statusCode ?? 0}\n`;
      for (let i = 0; i < PROBE_PHASES.length; i++)
        out.probe_http_duration_seconds += `probe_http_duration_seconds{${labels},phase="${PROBE_PHASES[i]}"} ${(last.phases[i] ?? 0) / 1000}\n`;
    }
    if (last.earliestCertExpiry !== null && last.leafCertExpiry !== null) {
      out.probe_ssl_earliest_cert_expiry += `probe_ssl_earliest_cert_expiry{${labels}} ${Math.floor(last.earliestCertExpiry / 1000)}\n`;
      out.probe_ssl_leaf_cert_expiry += `probe_ssl_leaf_cert_expiry{${labels}} ${Math.floor(last.leafCertExpiry / 1000)}\n`;
    }
  }
  let text = "";
  for (const family of FAMILIES) {
    const lines = out[family.name];
    if (lines !== "") text += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} gauge\n${lines}`;
  }
  return text;
}

/** In the order they are rendered; all gauges. */
const FAMILIES = [
  { name: "probe_success", help: "Whether the last run of the check succeeded." },
  { name: "probe_duration_seconds", help: "How long the last run took." },
  { name: "probe_http_status_code", help: "HTTP status code of the last run's final response." },
  { name: "probe_http_duration_seconds", help: "Duration of each phase of the last HTTP run." },
  {
    name: "probe_ssl_earliest_cert_expiry",
    help: "Expiry (Unix seconds) of the certificate in the chain that expires first.",
  },
  {
    name: "probe_ssl_leaf_cert_expiry",
    help: "Expiry (Unix seconds) of the server's own (leaf) certificate.",
  },
  { name: "nines_check_status", help: "The check's state: 1 for the state it is in." },
] as const;
