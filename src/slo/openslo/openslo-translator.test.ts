import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../../app/registry.js";
import { ConfigService } from "../../config/config-service.js";
import { KindRegistry } from "../../config/kinds.js";
import { formatProblem } from "../../config/problems.js";
import { slothTranslator } from "../sloth/sloth-translator.js";
import { openSloTranslator } from "./openslo-translator.js";

const service = new ConfigService(
  new KindRegistry(createKindRegistry().all(), [openSloTranslator, slothTranslator]),
);
const TEAM = `apiVersion: nines/v1
kind: Team
metadata: { name: ops }
spec: {}
---
`;
const validate = (...files: string[]) =>
  service.validate(files.map((content, i) => ({ path: `f${i}.yaml`, content })));
const problems = (...files: string[]) => validate(...files).problems.map(formatProblem);
/** The 1-based line of the first line of text holding needle (after the nth such line). */
const lineOf = (text: string, needle: string, nth = 0) =>
  text
    .split("\n")
    .map((line, i) => (line.includes(needle) ? i + 1 : 0))
    .filter((n) => n > 0)[nth];

const SERVICE = `apiVersion: openslo/v1
kind: Service
metadata:
  name: checkout
  displayName: Checkout
  annotations: { nines.dev/owner-team: ops }
spec:
  description: Takes the money
`;

const SLI = `apiVersion: openslo/v1
kind: SLI
metadata: { name: checkout-errors }
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        type: Prometheus
        spec:
          query: sum(http_requests_total{job="checkout", code=~"5.."})
    total:
      metricSource:
        metricSourceRef: prom
        spec:
          query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
---
apiVersion: openslo/v1
kind: DataSource
metadata: { name: prom }
spec: { type: Prometheus, connectionDetails: { url: "http://prometheus:9090" } }
`;

const POLICY = `apiVersion: openslo/v1
kind: AlertCondition
metadata: { name: fast-burn, displayName: Fast burn }
spec:
  severity: page
  condition: { kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 5m }
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata: { name: checkout-burn }
spec:
  alertWhenBreaching: true
  conditions:
    - conditionRef: fast-burn
    - kind: AlertCondition
      metadata: { name: slow-burn }
      spec:
        severity: warning
        condition: { kind: burnrate, threshold: 1, lookbackWindow: 3d }
  notificationTargets:
    - targetRef: on-call
`;

const slo = (spec: string) => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
  displayName: Checkout availability
  labels: { tier: "1", tags: [payments, web] }
spec:
${spec}`;

const FULL = slo(`  service: checkout
  description: Requests that do not fail
  indicatorRef: checkout-errors
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good requests
      target: 0.995
  alertPolicies:
    - alertPolicyRef: checkout-burn
`);

describe("OpenSLO v1 documents as configuration", () => {
  it("maps an SLO with a referenced SLI, alert policy and conditions to a Nines SLO, and its Service to a Nines Service", () => {
    const result = validate(TEAM + SERVICE, `${SLI}---\n${POLICY}---\n${FULL}`);
    expect(result.problems.map(formatProblem)).toEqual([
      `f1.yaml:19:7: warning: OpenSLO DataSource "prom" is accepted and not used: Nines reads SLIs from its own metrics backend, so only its type (Prometheus) matters`,
    ]);
    const byKind = Object.fromEntries(result.documents.map((d) => [d.kind, d]));
    expect(byKind.Service).toEqual({
      apiVersion: "nines/v1",
      kind: "Service",
      metadata: { name: "checkout", annotations: { "nines.dev/owner-team": "ops" } },
      spec: { ownerTeam: "ops", tier: 3, description: "Checkout: Takes the money", dependsOn: [] },
    });
    expect(byKind.SLO?.metadata).toEqual({
      name: "checkout-availability",
      labels: { tier: "1", tags: "payments,web" },
    });
    expect(byKind.SLO?.spec).toMatchObject({
      service: "checkout",
      description: "Checkout availability: Requests that do not fail",
      sli: {
        ratio: {
          bad: 'sum(rate(http_requests_total{job="checkout", code=~"5.."}[{{.window}}]))',
          total: 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))',
        },
      },
      objective: 99.5,
      window: "28d",
      budgeting: { method: "occurrences" },
      alerting: {
        tiers: [
          { name: "fast-burn", severity: "page", factor: 14.4, longWindow: "1h", shortWindow: "5m" },
          { name: "slow-burn", severity: "ticket", factor: 1, longWindow: "3d", shortWindow: "6h" },
        ],
      },
    });
  });

  it("maps an inline SLI, a calendar window in a time zone and time-slice budgeting", () => {
    const result = validate(
      TEAM + SERVICE,
      slo(`  service: checkout
  indicator:
    metadata: { name: inline }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { type: prometheus, spec: { query: 'requests_total{code="200"}' } } }
        total: { metricSource: { type: Prometheus, spec: { query: requests_total } } }
  timeWindow:
    - duration: 1Q
      calendar: { startTime: "2024-04-01 00:00:00", timeZone: Europe/Berlin }
  budgetingMethod: Timeslices
  objectives:
    - targetPercent: 99
      timeSliceTarget: 0.9
      timeSliceWindow: 5
`),
    );
    expect(result.problems.map(formatProblem)).toEqual([]);
    expect(result.documents.find((d) => d.kind === "SLO")?.spec).toMatchObject({
      sli: {
        ratio: {
          good: 'sum(rate(requests_total{code="200"}[{{.window}}]))',
          total: "sum(rate(requests_total[{{.window}}]))",
        },
      },
      objective: 99,
      window: { calendar: "quarter", timezone: "Europe/Berlin" },
      budgeting: { method: "timeslices", slice: "5m", sliceTarget: 90 },
    });
  });

  it("says what cannot be mapped, at the line where it is written", () => {
    const threshold = slo(`  service: checkout
  indicator:
    metadata: { name: cpu }
    spec:
      thresholdMetric:
        metricSource: { type: Prometheus, spec: { query: cpu_seconds } }
  budgetingMethod: RatioTimeslices
  objectives: [{ target: 0.99 }, { target: 0.95 }]
`);
    expect(problems(TEAM + SERVICE, threshold)).toEqual([
      expect.stringMatching(/^f1\.yaml:12:7: error: thresholdMetric cannot be mapped: Nines SLIs are ratios/),
      expect.stringMatching(/^f1\.yaml:14:20: error: budgetingMethod RatioTimeslices .* cannot be mapped/),
      expect.stringMatching(/^f1\.yaml:15:34: error: a Nines SLO has one objective/),
    ]);
    const datadog = slo(`  service: checkout
  indicator:
    metadata: { name: dd }
    spec:
      ratioMetric:
        counter: false
        bad: { metricSource: { type: Datadog, spec: { query: "sum:errors{*}" } } }
        total: { metricSource: { type: Prometheus, spec: { query: sum(requests_total) } } }
  budgetingMethod: Occurrences
  objectives: [{ target: 0.99 }]
  timeWindow: [{ duration: 1M, isRolling: true }]
`);
    expect(problems(TEAM + SERVICE, datadog)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^f1\\.yaml:${lineOf(datadog, "Datadog")}:\\d+: error: metric source type "Datadog" cannot be mapped`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^f1\\.yaml:${lineOf(datadog, "sum(requests_total)")}:\\d+: error: without counter: true `,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^f1\\.yaml:${lineOf(datadog, "1M")}:\\d+: error: rolling window "1M" cannot be mapped`),
      ),
    ]);
  });

  it("reports a referenced SLI's or condition's errors once, at that document, and the reference that uses it", () => {
    const badCondition = POLICY.replace("severity: page", "severity: sev9").replace("op: gte", "op: lt");
    const file = `${SLI}---\n${badCondition}---\n${FULL}`;
    const at = (needle: string) => `f1.yaml:${lineOf(file, needle)}:`;
    expect(problems(TEAM + SERVICE, file)).toEqual([
      expect.stringMatching(/^f1\.yaml:19:7: warning: OpenSLO DataSource/),
      expect.stringMatching(`${at("sev9")}13: error: severity "sev9" cannot be mapped`),
      expect.stringMatching(`${at("op: lt")}36: error: op lt cannot be mapped`),
      expect.stringMatching(
        `${at("conditionRef: fast-burn")}21: error: conditionRef: OpenSLO AlertCondition "fast-burn" cannot be mapped; see its errors`,
      ),
      expect.stringMatching(
        `${at("alertPolicyRef")}23: error: alertPolicyRef: OpenSLO AlertPolicy "checkout-burn" cannot be mapped; see its errors`,
      ),
    ]);
  });

  it("points problems found in the translated SLO back at the OpenSLO fields", () => {
    const elsewhere = `${SLI}---\n${POLICY}---\n${FULL.replace("service: checkout", "service: payments")}`;
    expect(problems(TEAM + SERVICE, elsewhere)).toEqual([
      expect.stringMatching(/warning: OpenSLO DataSource/),
      `f1.yaml:${lineOf(elsewhere, "service: payments")}:12: error: SLO "checkout-availability" refers to Service "payments", which is not defined.`,
    ]);
    const certain = `${SLI}---\n${POLICY}---\n${FULL.replace("target: 0.995", "target: 1")}`;
    expect(problems(TEAM + SERVICE, certain)).toEqual([
      expect.stringMatching(/warning: OpenSLO DataSource/),
      expect.stringMatching(
        `^f1\\.yaml:${lineOf(certain, "target: 1")}:15: error: spec\\.objective: objective must be between 0 and 100`,
      ),
    ]);
  });

  it("needs an owner team for an OpenSLO Service unless a nines/v1 Service of that name exists", () => {
    const bare = SERVICE.replace("  annotations: { nines.dev/owner-team: ops }\n", "");
    expect(problems(TEAM + bare)).toEqual([
      expect.stringMatching(
        /^f0\.yaml:9:9: error: OpenSLO Service "checkout" cannot be mapped on its own: a Nines service needs an owner team/,
      ),
    ]);
    const nines = `${TEAM}apiVersion: nines/v1\nkind: Service\nmetadata: { name: checkout }\nspec: { ownerTeam: ops }\n---\n`;
    const result = validate(nines + bare);
    expect(result.problems).toEqual([]);
    expect(result.documents.filter((d) => d.kind === "Service")).toHaveLength(1);
  });
});
