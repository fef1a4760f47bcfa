import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../../app/registry.js";
import { ConfigService } from "../../config/config-service.js";
import { KindRegistry } from "../../config/kinds.js";
import { formatProblem } from "../../config/problems.js";
import { openSloTranslator } from "../openslo/openslo-translator.js";
import { sloTarget } from "../slo-kind.js";
import type { SloSpec } from "../slo-kind.js";
import { slothTranslator } from "./sloth-translator.js";

const service = new ConfigService(
  new KindRegistry(createKindRegistry().all(), [openSloTranslator, slothTranslator]),
);
const CATALOG = `apiVersion: nines/v1
kind: Team
metadata: { name: myteam }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: myservice }
spec: { ownerTeam: myteam }
`;
const validate = (sloth: string) =>
  service.validate([
    { path: "catalog.yaml", content: CATALOG },
    { path: "sloth.yaml", content: sloth },
  ]);

// Sloth's getting-started example, with the ticket alert disabled.
const SLOTH = `version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
  repo: "myorg/myservice"
slos:
  # We allow failing (5xx and 429) 1 request every 1000 requests (99.9%).
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      annotations:
        runbook: "https://runbooks.example.com/myservice"
        summary: "High error rate on 'myservice' requests responses"
      page_alert:
        labels:
          routing_key: myteam
      ticket_alert:
        disable: true
`;

describe("Sloth prometheus/v1 specs as configuration", () => {
  it("maps each SLO to a Nines SLO named <service>-<slo> over 30 days, with Sloth's queries and page tiers", () => {
    const result = validate(SLOTH);
    expect(result.problems.map(formatProblem)).toEqual([
      "sloth.yaml:15:5: warning: alerting name, annotations.summary, page_alert.labels.routing_key not mapped: Nines names its SLO alerts SLOErrorBudgetBurn, labels them slo, service, severity (page or ticket) and tier, and writes its own summary; route on those labels",
    ]);
    const slo = result.documents.find((d) => d.kind === "SLO");
    expect(slo?.metadata).toEqual({ name: "myservice-requests-availability" });
    const spec = slo?.spec as SloSpec;
    expect(spec).toMatchObject({
      service: "myservice",
      description: "Common SLO based on availability for HTTP request responses.",
      objective: 99.9,
      window: "30d",
      sli: {
        ratio: {
          bad: 'sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))',
          total: 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))',
        },
      },
      alerting: {
        runbook: "https://runbooks.example.com/myservice",
        labels: { owner: "myteam", repo: "myorg/myservice", category: "availability" },
      },
    });
    expect(sloTarget(spec).tiers.map((t) => [t.name, t.factor, t.longWindowMs, t.shortWindowMs])).toEqual([
      ["page-fast", 14.4, 3_600_000, 300_000],
      ["page-slow", 6, 21_600_000, 1_800_000],
    ]);
  });

  it("keeps the workbook's four tiers when both alerts are on", () => {
    const result = validate(
      SLOTH.replace("        disable: true\n", "        labels: { severity: slack }\n"),
    );
    const spec = result.documents.find((d) => d.kind === "SLO")?.spec as SloSpec;
    expect(spec.alerting.tiers).toBeUndefined();
    expect(sloTarget(spec).tiers.map((t) => t.name)).toEqual([
      "page-fast",
      "page-slow",
      "ticket-fast",
      "ticket-slow",
    ]);
  });

  it("rejects raw and plugin SLIs, at their lines, saying what to write instead", () => {
    const raw = `${SLOTH}  - name: "wifi"
    objective: 95
    sli:
      raw:
        error_ratio_query: 1 - avg_over_time(wifi_up[{{.window}}])
  - name: "plugged"
    objective: 99
    sli:
      plugin:
        id: "sloth-common/kubernetes/apiserver/availability"
`;
    expect(validate(raw).problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^sloth\.yaml:15:5: warning: alerting name/),
      expect.stringMatching(
        /^sloth\.yaml:31:9: error: sli\.raw\.error_ratio_query cannot be mapped: .* write sli\.events with error_query and total_query/,
      ),
      expect.stringMatching(
        /^sloth\.yaml:36:9: error: sli\.plugin cannot be mapped: SLI plugins run inside Sloth/,
      ),
    ]);
  });

  it("points problems found in the translated SLO at the Sloth fields", () => {
    const bad = SLOTH.replace("objective: 99.9", "objective: 100")
      .replace('service: "myservice"', 'service: "payments"')
      .replace('(5..|429)"}[{{.window}}]))', '(5..|429)"}[{{.window}}])');
    expect(validate(bad).problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^sloth\.yaml:9:16: error: spec\.objective: objective must be between 0 and 100/),
      expect.stringMatching(/^sloth\.yaml:13:22: error: spec\.sli\.ratio\.bad: not valid PromQL/),
      expect.stringMatching(/^sloth\.yaml:15:5: warning: alerting name/),
    ]);
    expect(
      validate(SLOTH.replace('service: "myservice"', 'service: "payments"')).problems.map(formatProblem),
    ).toEqual([
      'sloth.yaml:2:10: error: SLO "payments-requests-availability" refers to Service "payments", which is not defined.',
      expect.stringMatching(/^sloth\.yaml:15:5: warning/),
    ]);
  });
});
