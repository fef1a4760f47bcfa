import { describe, expect, it } from "vitest";
import { newLastRun, renderCheckMetrics, updateLastRun } from "./check-metrics.js";
import type { CheckOutcome } from "./check-outcome.js";

const outcome = (overrides: Partial<CheckOutcome>): CheckOutcome => ({
  check: "web",
  at: 0,
  ok: true,
  degraded: false,
  durationMs: 250,
  attempts: 1,
  reason: null,
  statusCode: 200,
  conditions: [],
  timings: { resolve: 0, connect: 10, tls: 20, processing: 200, transfer: 20 },
  probe: { type: "http", tls: { earliestNotAfter: 1_800_000_000_500, leafNotAfter: 1_900_000_000_000 } },
  ...overrides,
});

describe("check metrics", () => {
  it("renders each family once with its help, in blackbox_exporter's names, escaping label values", () => {
    const web = newLastRun();
    updateLastRun(web, outcome({}));
    const text = renderCheckMetrics([
      { name: "web", service: "api", labels: { env: 'say "hi"\n' }, status: "up", last: web },
      { name: "beat", service: "api", labels: {}, status: "pending", last: null },
    ]);
    const labels = 'check="web",service="api",env="say \\"hi\\"\\n"';
    expect(text).toContain(
      `# HELP probe_success Whether the last run of the check succeeded.\n# TYPE probe_success gauge\nprobe_success{${labels}} 1\n`,
    );
    expect(text).toContain(`probe_duration_seconds{${labels}} 0.25\n`);
    expect(text).toContain(`probe_http_status_code{${labels}} 200\n`);
    expect(text).toContain(`probe_http_duration_seconds{${labels},phase="processing"} 0.2\n`);
    expect(text).toContain(`probe_ssl_earliest_cert_expiry{${labels}} 1800000000\n`);
    expect(text).toContain(`probe_ssl_leaf_cert_expiry{${labels}} 1900000000\n`);
    expect(text).toContain('nines_check_status{check="beat",service="api",status="pending"} 1\n');
    expect(text).toContain('nines_check_status{check="beat",service="api",status="up"} 0\n');
    expect(text.match(/^# HELP /gm)).toHaveLength(7);
    expect(text).not.toContain('probe_success{check="beat"');
  });

  it("shows the latest run only: a later run without TLS or HTTP drops those series", () => {
    const last = newLastRun();
    updateLastRun(last, outcome({}));
    updateLastRun(
      last,
      outcome({ ok: false, statusCode: null, timings: {}, probe: { type: "tcp", tls: null } }),
    );
    const text = renderCheckMetrics([{ name: "web", service: "api", labels: {}, status: "down", last }]);
    expect(text).toContain('probe_success{check="web",service="api"} 0\n');
    expect(text).not.toContain("probe_http_");
    expect(text).not.toContain("probe_ssl_");
  });
});
