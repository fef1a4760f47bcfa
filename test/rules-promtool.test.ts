import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRuleUnitTests } from "../src/alerting/rules/index.js";

/**
 * `nines test rules` against Debian's `promtool test rules` (Prometheus 2.42) on the same files: the same
 * verdict per file and, for failing files, the same failing test cases. Nines's side runs through
 * runRuleUnitTests, the function behind the command, in this process.
 *
 * Known difference kept out of these files: Nines's engine has Prometheus 3's left-open windows, so a
 * sample exactly 5m (lookback) or exactly one range (x[1m]) before the evaluation is not seen, where 2.42 sees it.
 */

interface Case {
  name: string;
  rules: string;
  test: string;
  /** What promtool is expected to say, so a case that stops testing anything is noticed. */
  passes: boolean;
}

const CASES: Case[] = [
  {
    name: "recording-rules",
    passes: true,
    rules: `
groups:
  - name: rec
    rules:
      - record: job:requests:rate2m
        expr: sum by (job) (rate(requests_total[2m]))
      - record: job:requests:rate2m_x2
        expr: job:requests:rate2m * 2
        labels:
          kind: doubled
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'requests_total{job="api", instance="a"}'
        values: '0+60x10'
      - series: 'requests_total{job="api", instance="b"}'
        values: '0+120x10'
      - series: 'requests_total{job="web", instance="c"}'
        values: '0 30 60 90 120 150'
    promql_expr_test:
      - expr: job:requests:rate2m
        eval_time: 5m
        exp_samples:
          - labels: 'job:requests:rate2m{job="api"}'
            value: 3
          - labels: 'job:requests:rate2m{job="web"}'
            value: 0.5
      - expr: job:requests:rate2m_x2
        eval_time: 5m
        exp_samples:
          - labels: 'job:requests:rate2m_x2{job="api", kind="doubled"}'
            value: 6
          - labels: 'job:requests:rate2m_x2{job="web", kind="doubled"}'
            value: 1
`,
  },
  {
    name: "for-pending-then-firing",
    passes: true,
    rules: `
groups:
  - name: avail
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "Instance {{ $labels.instance }} down"
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'up{job="node", instance="a:9100"}'
        values: '1 1 0 0 0 0 0 0 0 0 0 0'
      - series: 'up{job="node", instance="b:9100"}'
        values: '1x11'
    alert_rule_test:
      - eval_time: 4m
        alertname: InstanceDown
        exp_alerts: []
      - eval_time: 7m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: { severity: page, instance: "a:9100", job: node }
            exp_annotations:
              summary: "Instance a:9100 down"
    promql_expr_test:
      - expr: ALERTS
        eval_time: 3m
        exp_samples:
          - labels: 'ALERTS{alertname="InstanceDown", alertstate="pending", instance="a:9100", job="node", severity="page"}'
            value: 1
      - expr: ALERTS_FOR_STATE
        eval_time: 8m
        exp_samples:
          - labels: 'ALERTS_FOR_STATE{alertname="InstanceDown", instance="a:9100", job="node", severity="page"}'
            value: 120
`,
  },
  {
    name: "keep-firing-for",
    passes: true,
    rules: `
groups:
  - name: flap
    rules:
      - alert: Errors
        expr: errors > 0
        keep_firing_for: 3m
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'errors{instance="a"}'
        values: '1 1 1 1 0 0 0 0 0 0 0'
    alert_rule_test:
      - eval_time: 3m
        alertname: Errors
        exp_alerts:
          - exp_labels: { instance: a }
      - eval_time: 6m
        alertname: Errors
        exp_alerts:
          - exp_labels: { instance: a }
      - eval_time: 7m
        alertname: Errors
        exp_alerts: []
`,
  },
  {
    name: "templates",
    passes: true,
    rules: `
groups:
  - name: tmpl
    rules:
      - alert: DiskFilling
        expr: disk_used_bytes / disk_size_bytes > 0.5
        for: 1m
        labels:
          severity: '{{ if gt $value 0.8 }}critical{{ else }}warning{{ end }}'
          team: '{{ $labels.team | toUpper }}'
        annotations:
          summary: '{{ $labels.instance }} is {{ humanizePercentage $value }} full'
          value: '{{ printf "%.2f" $value }} / {{ $value }}'
          sizes: '{{ humanize 1234567 }} {{ humanize1024 1073741824 }} {{ humanize 0.0042 }}'
          durations: '{{ humanizeDuration 93784 }} {{ humanizeDuration 0.05 }} {{ 125 | humanizeDuration }}'
          when: '{{ humanizeTimestamp 1700000000 }}'
          text: '{{ title "disk filling up" }} {{ toLower "LOUD" }} [{{ $labels.missing }}] {{ .Labels.instance }}'
          cluster: '{{ $externalLabels.cluster }}'
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    external_labels:
      cluster: eu-1
    input_series:
      - series: 'disk_used_bytes{instance="db1", team="storage"}'
        values: '60 60 60 90 90'
      - series: 'disk_size_bytes{instance="db1", team="storage"}'
        values: '100x4'
    alert_rule_test:
      - eval_time: 2m
        alertname: DiskFilling
        exp_alerts:
          - exp_labels: { instance: db1, team: STORAGE, severity: warning }
            exp_annotations:
              summary: "db1 is 60% full"
              value: "0.60 / 0.6"
              sizes: "1.235M 1Gi 4.2m"
              durations: "1d 2h 3m 4s 50ms 2m 5s"
              when: "2023-11-14 22:13:20 +0000 UTC"
              text: "Disk Filling Up loud [] db1"
              cluster: "eu-1"
`,
  },
  {
    name: "wrong-expected-value",
    passes: false,
    rules: `
groups:
  - name: rec
    rules:
      - record: total:sum
        expr: sum(x)
`,
    test: `
rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'x{i="1"}'
        values: '1 2 3'
      - series: 'x{i="2"}'
        values: '10 20 30'
    promql_expr_test:
      - expr: total:sum
        eval_time: 1m
        exp_samples:
          - labels: 'total:sum'
            value: 22
      - expr: total:sum
        eval_time: 2m
        exp_samples:
          - labels: 'total:sum'
            value: 40
`,
  },
  {
    name: "wrong-expected-alert",
    passes: false,
    rules: `
groups:
  - name: a
    rules:
      - alert: High
        expr: load > 2
        labels: { severity: warning }
        annotations: { summary: "load {{ $value }}" }
`,
    test: `
rule_files: [rules.yml]
tests:
  - interval: 1m
    name: load tests
    input_series:
      - series: 'load{host="h1"}'
        values: '1 3 3 3'
      - series: 'load{host="h2"}'
        values: '3 3 1 1'
    alert_rule_test:
      - eval_time: 1m
        alertname: High
        exp_alerts:
          - exp_labels: { host: h1, severity: warning }
            exp_annotations: { summary: "load 3" }
          - exp_labels: { host: h2, severity: warning }
            exp_annotations: { summary: "load 3" }
      - eval_time: 2m
        alertname: High
        exp_alerts:
          - exp_labels: { host: h1, severity: critical }
            exp_annotations: { summary: "load 3" }
      - eval_time: 3m
        alertname: High
        exp_alerts:
          - exp_labels: { host: h1, severity: warning }
            exp_annotations: { summary: "load 3" }
`,
  },
  {
    name: "staleness",
    passes: true,
    rules: `
groups:
  - name: stale
    rules:
      - record: job:x:max
        expr: max by (job) (x)
      - alert: XMissing
        expr: absent(x{job="a"})
`,
    test: `
rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'x{job="a"}'
        values: '5 6 7 stale'
    alert_rule_test:
      - eval_time: 2m
        alertname: XMissing
        exp_alerts: []
      - eval_time: 4m
        alertname: XMissing
        exp_alerts:
          - exp_labels: { job: a }
    promql_expr_test:
      - expr: job:x:max
        eval_time: 2m
        exp_samples:
          - labels: 'job:x:max{job="a"}'
            value: 7
      - expr: job:x:max
        eval_time: 4m
        exp_samples: []
      - expr: x
        eval_time: 3m
        exp_samples: []
`,
  },
  {
    name: "group-order-and-external-labels",
    passes: true,
    rules: `
groups:
  - name: second
    rules:
      - record: y
        expr: x * 2
  - name: first
    rules:
      - record: x
        expr: vector(21)
      - alert: Answer
        expr: y == 42
        labels: { cluster: '{{ $externalLabels.cluster }}' }
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 30s
group_eval_order: [first, second]
tests:
  - interval: 30s
    external_labels: { cluster: c1 }
    alert_rule_test:
      - eval_time: 1m
        alertname: Answer
        exp_alerts:
          - exp_labels: { cluster: c1 }
    promql_expr_test:
      - expr: y
        eval_time: 0s
        exp_samples:
          - labels: 'y'
            value: 42
`,
  },
  {
    name: "rule-evaluation-error",
    passes: false,
    rules: `
groups:
  - name: dup
    rules:
      - record: flat
        expr: x
        labels: { i: same }
`,
    test: `
rule_files: [rules.yml]
tests:
  - interval: 1m
    input_series:
      - series: 'x{i="1"}'
        values: '1 1'
      - series: 'x{i="2"}'
        values: '2 2'
    promql_expr_test:
      - expr: flat
        eval_time: 1m
        exp_samples: []
`,
  },
  {
    // promtool 2.42 gives a test group without interval no default: every value lands at time 0.
    name: "no-test-interval",
    passes: true,
    rules: `
groups: []
`,
    test: `
rule_files: [rules.yml]
evaluation_interval: 30s
tests:
  - input_series:
      - series: 'x'
        values: '1 2 3'
    promql_expr_test:
      - expr: x
        eval_time: 1m
        exp_samples:
          - labels: 'x'
            value: 1
`,
  },
];

/** The headers of promtool's failure entries: which alert test, expression or rule failed, and when. */
function failingCases(output: string): string[] {
  return output
    .split("\n")
    .filter((l) => /^ {4}(name: |alertname: |expr: |rule: )/.test(l))
    .map((l) => l.trim().replace(/,\s*$/, ""))
    .sort();
}

function ensurePromtool(): string {
  const found = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  if (found.status === 0) return found.stdout.trim();
  const install = spawnSync("apt-get", ["install", "-y", "prometheus"], { encoding: "utf8" });
  const again = spawnSync("sh", ["-c", "command -v promtool"], { encoding: "utf8" });
  if (again.status !== 0)
    throw new Error(`promtool is missing and apt-get install -y prometheus failed:\n${install.stderr}`);
  return again.stdout.trim();
}

describe("nines test rules reaches promtool's verdicts", () => {
  let dir: string;
  let promtool: string;

  beforeAll(() => {
    promtool = ensurePromtool();
    dir = mkdtempSync(join(tmpdir(), "nines-rules-"));
    for (const c of CASES) {
      mkdirSync(join(dir, c.name));
      writeFileSync(join(dir, c.name, "rules.yml"), c.rules);
      writeFileSync(join(dir, c.name, "test.yml"), c.test);
    }
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: same verdict and failing cases as promtool test rules`, async () => {
      const file = join(dir, c.name, "test.yml");
      const reference = spawnSync(promtool, ["test", "rules", file], { encoding: "utf8" });
      const promtoolOutput = `${reference.stdout}${reference.stderr}`;
      expect(reference.status, promtoolOutput).toBe(c.passes ? 0 : 1);

      let ninesOutput = "";
      const code = await runRuleUnitTests([file], {
        stdout: (t) => {
          ninesOutput += t;
        },
        stderr: (t) => {
          ninesOutput += t;
        },
      });
      expect(code, ninesOutput).toBe(reference.status);
      expect(failingCases(ninesOutput)).toEqual(failingCases(promtoolOutput));
      if (!c.passes) expect(failingCases(ninesOutput).length).toBeGreaterThan(0);
    });
  }
});
