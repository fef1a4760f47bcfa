import { describe, expect, it } from "vitest";
import { parseRuleFile } from "./rule-file.js";
import { RuleGroupSpec } from "./rule-group-kind.js";

describe("rule files", () => {
  it("reads groups, intervals and both kinds of rule", () => {
    const { groups, problems } = parseRuleFile(
      "r.yml",
      `groups:
  - name: g
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.instance }} down" }
`,
    );
    expect(problems).toEqual([]);
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ name: "g", file: "r.yml", intervalMs: 30_000, limit: 0 });
    expect(groups[0]?.rules.map((r) => [r.kind, r.name, r.forMs, r.keepFiringForMs])).toEqual([
      ["recording", "job:up:sum", 0, 0],
      ["alerting", "Down", 300_000, 60_000],
    ]);
  });

  it("reports a PromQL error at the line and column where the expression goes wrong", () => {
    const { groups, problems } = parseRuleFile(
      "r.yml",
      `groups:
  - name: g
    rules:
      - record: x
        expr: sum(rate(foo[5m])
`,
    );
    expect(groups).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: "r.yml", line: 5, severity: "error" });
    expect(problems[0]?.column).toBeGreaterThan(15);
    expect(problems[0]?.message).toMatch(/^could not parse expression: /);
  });

  it("reports rulefmt's validation errors at their fields", () => {
    const { problems } = parseRuleFile(
      "r.yml",
      `groups:
  - name: g
    rules:
      - record: x
        expr: up
        for: 5m
      - alert: A
        record: b
        expr: up
      - alert: T
        expr: up
        annotations:
          s: "{{ nosuch }}"
        bogus: 1
  - name: g
    rules: []
`,
    );
    const lines = problems.map((p) => `${p.line}: ${p.message}`);
    expect(lines).toContain("6: invalid field 'for' in recording rule");
    expect(lines).toContain("8: only one of 'record' and 'alert' must be set");
    expect(lines.some((l) => l.startsWith('13: template: __alert_T:1: function "nosuch" not defined'))).toBe(
      true,
    );
    expect(lines).toContain("14: field bogus not found in type rulefmt.Rule");
    expect(lines).toContain('15: groupname: "g" is repeated in the same file');
  });

  it("validates a RuleGroup object's rules with paths for config errors", () => {
    const result = RuleGroupSpec.safeParse({ rules: [{ alert: "A", expr: "up ==" }] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["rules", 0, "expr"]);
    expect(RuleGroupSpec.safeParse({ interval: "1m", rules: [{ record: "r", expr: "up" }] }).success).toBe(
      true,
    );
  });
});
