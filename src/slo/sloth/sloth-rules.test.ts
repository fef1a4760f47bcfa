import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createKindRegistry } from "../../app/registry.js";
import { ConfigService } from "../../config/config-service.js";
import { KindRegistry } from "../../config/kinds.js";
import { formatProblem } from "../../config/problems.js";
import { openSloTranslator } from "../openslo/openslo-translator.js";
import type { SloSpec } from "../slo-kind.js";
import { formatRuleFile, type PrometheusRuleGroup, slothRules } from "./sloth-rules.js";
import { slothTranslator } from "./sloth-translator.js";

const PROMTOOL = "/usr/bin/promtool";

/** Debian's promtool, installed if missing; the test fails if it cannot be. */
function promtool(args: string[]): { status: number | null; output: string } {
  if (!existsSync(PROMTOOL)) {
    try {
      execFileSync("apt-get", ["install", "-y", "prometheus"], { stdio: "ignore" });
    } catch (error) {
      throw new Error(`promtool is missing and \`apt-get install -y prometheus\` failed: ${String(error)}`);
    }
  }
  const run = spawnSync(PROMTOOL, args, { encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const CONFIG = `apiVersion: nines/v1
kind: Team
metadata: { name: myteam }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: myservice }
spec: { ownerTeam: myteam }
---
version: "prometheus/v1"
service: "myservice"
labels: { owner: "myteam" }
slos:
  - name: "requests-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      labels: { category: "availability" }
      annotations: { runbook: "https://runbooks.example.com/myservice" }
      ticket_alert: { disable: true }
---
apiVersion: nines/v1
kind: SLO
metadata: { name: myservice-routes }
spec:
  service: myservice
  sli:
    ratio:
      good: sum by (route) (rate(http_requests_total{code!~"5.."}[{{.window}}]))
      total: sum by (route) (rate(http_requests_total[{{.window}}]))
  groupBy: [route]
  objective: 99
  window: 7d
---
apiVersion: nines/v1
kind: SLO
metadata: { name: latency }
spec:
  service: myservice
  sli: { latency: { histogram: { metric: http_request_duration_seconds, le: "0.3", selector: '{job="myservice"}' } } }
  objective: 99
  window: { calendar: month, timezone: Europe/Berlin }
---
apiVersion: nines/v1
kind: Check
metadata: { name: health }
spec: { service: myservice, interval: 1m, probe: { type: http, url: "https://example.com/health" } }
---
apiVersion: nines/v1
kind: SLO
metadata: { name: health-availability }
spec:
  service: myservice
  sli: { checkAvailability: { check: health } }
  objective: 99.5
`;

describe("nines slo export-rules: Sloth-compatible Prometheus rules", () => {
  let dir: string;
  let groups: PrometheusRuleGroup[];
  let result: ReturnType<typeof slothRules>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nines-sloth-"));
    const registry = new KindRegistry(createKindRegistry().all(), [openSloTranslator, slothTranslator]);
    const { documents, problems } = new ConfigService(registry).validate([
      { path: "slos.yaml", content: CONFIG },
    ]);
    expect(problems.filter((p) => p.severity === "error").map(formatProblem)).toEqual([]);
    const slos = documents
      .filter((d) => d.kind === "SLO")
      .map((d) => ({ name: d.metadata.name, spec: d.spec as SloSpec }));
    result = slothRules(slos, { version: "test" });
    groups = result.groups;
    writeFileSync(join(dir, "rules.yaml"), formatRuleFile(groups));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes Sloth's groups, record names and labels, and skips SLOs that count check runs", () => {
    expect(groups.map((g) => g.name)).toEqual([
      "sloth-slo-sli-recordings-myservice-requests-availability",
      "sloth-slo-meta-recordings-myservice-requests-availability",
      "sloth-slo-alerts-myservice-requests-availability",
      "sloth-slo-sli-recordings-myservice-routes",
      "sloth-slo-meta-recordings-myservice-routes",
      "sloth-slo-alerts-myservice-routes",
      "sloth-slo-sli-recordings-latency",
      "sloth-slo-meta-recordings-latency",
      "sloth-slo-alerts-latency",
    ]);
    expect(result.skipped).toEqual([
      { name: "health-availability", reason: expect.stringMatching(/counts check runs/) },
    ]);
    expect(result.warnings).toEqual(["latency: the calendar month is exported as a rolling 30d period"]);
    const [sli, meta, alerts] = groups;
    expect(sli?.rules.map((r) => r.record)).toEqual(
      ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"].map((w) => `slo:sli_error:ratio_rate${w}`),
    );
    expect(sli?.rules[0]).toEqual({
      record: "slo:sli_error:ratio_rate5m",
      expr: '(sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[5m])))\n/\n(sum(rate(http_request_duration_seconds_count{job="myservice"}[5m])))\n',
      labels: {
        sloth_id: "myservice-requests-availability",
        sloth_service: "myservice",
        sloth_slo: "requests-availability",
        sloth_window: "5m",
      },
    });
    expect(sli?.rules[7]?.expr).toBe(
      'sum_over_time(slo:sli_error:ratio_rate5m{sloth_id="myservice-requests-availability", sloth_service="myservice", sloth_slo="requests-availability"}[30d])\n/ ignoring (sloth_window)\ncount_over_time(slo:sli_error:ratio_rate5m{sloth_id="myservice-requests-availability", sloth_service="myservice", sloth_slo="requests-availability"}[30d])\n',
    );
    expect(
      meta?.rules.map((r) => [r.record, r.record?.startsWith("slo:") ? r.expr.split("\n")[0] : ""]),
    ).toEqual([
      ["slo:objective:ratio", "vector(0.999)"],
      ["slo:error_budget:ratio", "vector(1-0.999)"],
      ["slo:time_period:days", "vector(30)"],
      ["slo:current_burn_rate:ratio", expect.stringMatching(/^slo:sli_error:ratio_rate5m\{/)],
      ["slo:period_burn_rate:ratio", expect.stringMatching(/^slo:sli_error:ratio_rate30d\{/)],
      ["slo:period_error_budget_remaining:ratio", expect.stringMatching(/^1 - slo:period_burn_rate:ratio\{/)],
      ["sloth_slo_info", ""],
    ]);
    expect(alerts?.rules.map((r) => r.labels?.sloth_severity)).toEqual(["page"]);
    // A 7-day SLO's tiers are the workbook's scaled to its window; the grouped queries keep by (route).
    expect(groups[3]?.rules.map((r) => r.labels?.sloth_window)).toEqual([
      "1m",
      "7m",
      "14m",
      "28m",
      "1h24m",
      "5h36m",
      "16h48m",
      "1w",
    ]);
    expect(groups[3]?.rules[0]?.expr).toContain("sum by (route) (rate(http_requests_total[1m]))");
    expect(groups[6]?.rules[0]?.expr).toContain(
      'sum (rate(http_request_duration_seconds_bucket{job="myservice", le="0.3"}[5m]))',
    );
  });

  it("passes promtool check rules", () => {
    const check = promtool(["check", "rules", join(dir, "rules.yaml")]);
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
  });

  it("fires the page alert in promtool test rules when a tenth of requests fail, and not before", () => {
    const series = (code: string) => `http_request_duration_seconds_count{job="myservice",code="${code}"}`;
    const ids = {
      sloth_id: "myservice-requests-availability",
      sloth_service: "myservice",
      sloth_slo: "requests-availability",
    };
    const test = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          // 60 good requests a minute throughout; 6 failures a minute from minute 31 on.
          input_series: [
            { series: series("200"), values: "0+60x120" },
            { series: series("500"), values: "0x30 6+6x89" },
          ],
          alert_rule_test: [
            { eval_time: "25m", alertname: "SLOErrorBudgetBurn", exp_alerts: [] },
            {
              eval_time: "90m",
              alertname: "SLOErrorBudgetBurn",
              exp_alerts: [
                {
                  exp_labels: {
                    ...ids,
                    sloth_window: "5m",
                    alertname: "SLOErrorBudgetBurn",
                    severity: "page",
                    sloth_severity: "page",
                    slo: "myservice-requests-availability",
                    service: "myservice",
                    owner: "myteam",
                    category: "availability",
                  },
                  exp_annotations: {
                    title: "(page) myservice requests-availability SLO error budget burn rate is too fast.",
                    summary: "myservice requests-availability SLO error budget burn rate is over expected.",
                    runbook_url: "https://runbooks.example.com/myservice",
                  },
                },
              ],
            },
          ],
          promql_expr_test: [
            {
              expr: `round(slo:current_burn_rate:ratio{sloth_id="${ids.sloth_id}"})`,
              eval_time: "90m",
              exp_samples: [{ labels: `{${labelText(ids)}, sloth_window="5m"}`, value: 91 }],
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "test.yaml"), stringify(test));
    const run = promtool(["test", "rules", join(dir, "test.yaml")]);
    expect(run.output).toMatch(/SUCCESS/);
    expect(run.status).toBe(0);
  });

  it("writes YAML that reads back as the same groups", () => {
    const text = formatRuleFile(groups);
    expect(text.startsWith("# Generated by nines slo export-rules")).toBe(true);
    expect(parse(text)).toEqual({ groups });
  });
});

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
}
