import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../app/registry.js";
import { ConfigService } from "../config/config-service.js";
import { formatProblem } from "../config/problems.js";
import { sloTarget } from "./slo-kind.js";
import type { SloSpec } from "./slo-kind.js";

const service = new ConfigService(createKindRegistry());
const PREFIX = `apiVersion: nines/v1
kind: Team
metadata: { name: ops }
spec: {}
---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec: { ownerTeam: ops }
---
apiVersion: nines/v1
kind: Check
metadata: { name: health }
spec:
  service: api
  interval: 5m
  probe: { type: http, url: "https://example.com/health" }
---
apiVersion: nines/v1
kind: SLO
metadata: { name: api-availability }
spec:
  service: api
`;
const validate = (spec: string) => service.validate([{ path: "slo.yaml", content: PREFIX + spec }]);
const problems = (spec: string) => validate(spec).problems.map(formatProblem);

const RATIO = `  sli:
    ratio:
      bad: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}]))
`;

describe("the SLO kind", () => {
  it("accepts a ratio SLO with Sloth-style queries and fills in the workbook's tiers", () => {
    const result = validate(`${RATIO}  objective: 99.9\n`);
    expect(result.problems).toEqual([]);
    const spec = result.documents[3]?.spec as SloSpec;
    expect(spec.window).toBe("30d");
    expect(sloTarget(spec).tiers.map((t) => t.factor)).toEqual([14.4, 6, 3, 1]);
  });

  it("rejects an objective outside (0, 100) and a window under an hour, at their lines", () => {
    expect(problems(`${RATIO}  objective: 100\n  window: 30m\n`)).toEqual([
      expect.stringMatching(/^slo\.yaml:28:14: error: spec\.objective: objective must be between 0 and 100/),
      expect.stringMatching(/^slo\.yaml:29:11: error: spec\.window: window must be at least 1h/),
    ]);
  });

  it("rejects a groupBy label the SLI query does not keep, and a query that returns several series without groupBy", () => {
    const grouped = `  sli:
    ratio:
      bad: sum by (route) (rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum by (route) (rate(http_requests_total[{{.window}}]))
  objective: 99
`;
    expect(problems(`${grouped}  groupBy: [region]\n`)).toEqual([
      expect.stringMatching(
        /slo\.yaml:26:12: .*groupBy label "region" is not kept by the query, which aggregates by \(route\)/,
      ),
      expect.stringMatching(/slo\.yaml:27:14: .*groupBy label "region" is not kept/),
    ]);
    expect(problems(grouped)[0]).toMatch(/returns one series per route; .* set groupBy: \[route\]/);
    expect(problems(`${grouped}  groupBy: [route]\n`)).toEqual([]);
  });

  it("rejects PromQL that does not parse, with the parser's position", () => {
    expect(
      problems(
        `  sli:\n    ratio:\n      good: sum(rate(x[5m])\n      total: sum(rate(x[5m]))\n  objective: 99\n`,
      )[0],
    ).toMatch(/slo\.yaml:26:13: error: spec\.sli\.ratio\.good: not valid PromQL: 1:\d+: parse error/);
  });

  it("rejects a composite SLO that refers to itself", () => {
    expect(
      problems(`  composite:\n    components: [{ slo: api-availability, weight: 1 }]\n  objective: 99\n`)[0],
    ).toMatch(/slo\.yaml:25:25: error: dependency cycle: api-availability → api-availability/);
  });

  it("warns when a tier fires on a single failure at the check's rate and when one can never fire", () => {
    const checkSli = "  sli:\n    checkAvailability: { check: health }\n";
    const low = validate(`${checkSli}  objective: 99.9\n`).problems;
    expect(low.every((p) => p.severity === "warning")).toBe(true);
    expect(low.map(formatProblem).join("\n")).toMatch(
      /page-fast fires on a single failure at the expected 12 events an hour/,
    );
    expect(problems(`${checkSli}  objective: 90\n  alerting: { minEvents: 100000 }\n`)).toEqual([
      expect.stringMatching(/warning: .*page-fast can never fire/),
    ]);
  });

  it("takes calendar windows in a time zone and rejects an unknown zone", () => {
    expect(
      problems(`${RATIO}  objective: 99.5\n  window: { calendar: month, timezone: Europe/Berlin }\n`),
    ).toEqual([]);
    expect(
      problems(`${RATIO}  objective: 99.5\n  window: { calendar: month, timezone: Mars/Olympus }\n`)[0],
    ).toMatch(/unknown time zone "Mars\/Olympus"/);
  });
});
