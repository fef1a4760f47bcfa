import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { formatProblem } from "../src/config/index.js";
import { loadAlertmanagerConfig } from "../src/alerting/routing/am-config.js";
import { routeReceivers } from "../src/alerting/routing/route-tree.js";

/**
 * Nines's routing against Debian's amtool (prometheus-alertmanager): the same receivers in the same order
 * for realistic configurations and label sets, and the same verdict from `amtool check-config` on broken
 * files. amtool is installed if missing (as root); without it the suite is skipped, never passed.
 */
function findAmtool(): string | undefined {
  const has = () => spawnSync("amtool", ["--version"], { encoding: "utf8" }).status === 0;
  if (has()) return "amtool";
  if (process.getuid?.() === 0) {
    spawnSync("apt-get", ["install", "-y", "prometheus-alertmanager"], { stdio: "ignore", timeout: 300_000 });
    if (has()) return "amtool";
  }
  return undefined;
}

const amtool = findAmtool();
const dir = mkdtempSync(join(tmpdir(), "nines-am-compat-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeConfig(text: string): string {
  const file = join(dir, `am-${++counter}.yml`);
  writeFileSync(file, text);
  return file;
}

function amtoolRoutes(file: string, labels: Record<string, string>): string[] {
  const args = [
    "config",
    "routes",
    "test",
    `--config.file=${file}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ];
  const out = execFileSync(amtool ?? "amtool", args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return out.trim().split(",");
}

function amtoolAccepts(file: string): boolean {
  return spawnSync(amtool ?? "amtool", ["check-config", file], { encoding: "utf8" }).status === 0;
}

interface Case {
  name: string;
  config: string;
  labelSets: Array<Record<string, string>>;
}

const CASES: Case[] = [
  {
    name: "Prometheus's example: teams, regex services, continue to a catch-all log",
    config: `
global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'alertmanager@example.org'
route:
  receiver: team-X-mails
  group_by: ['alertname', 'cluster', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 3h
  routes:
    - matchers: [alertname="Audit"]
      receiver: audit-log
      continue: true
    - match_re:
        service: ^(foo1|foo2|baz)$
      receiver: team-X-mails
      routes:
        - matchers: [severity="critical"]
          receiver: team-X-pager
    - matchers: [service="files"]
      receiver: team-Y-mails
      routes:
        - matchers: [severity="critical"]
          receiver: team-Y-pager
    - matchers: [service="database"]
      receiver: team-DB-pager
      group_by: [alertname, cluster, database]
      routes:
        - matchers: [owner="team-X"]
          receiver: team-X-pager
          continue: true
        - matchers: [owner="team-Y"]
          receiver: team-Y-pager
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname, cluster, service]
receivers:
  - name: team-X-mails
    email_configs: [{ to: 'team-X+alerts@example.org' }]
  - name: team-X-pager
    pagerduty_configs: [{ service_key: '<team-X-key>' }]
  - name: team-Y-mails
    email_configs: [{ to: 'team-Y+alerts@example.org' }]
  - name: team-Y-pager
    pagerduty_configs: [{ service_key: '<team-Y-key>' }]
  - name: team-DB-pager
    pagerduty_configs: [{ service_key: '<team-DB-key>' }]
  - name: audit-log
    webhook_configs: [{ url: 'http://127.0.0.1:5001/audit' }]
`,
    labelSets: [
      { alertname: "Down", service: "foo1" },
      { alertname: "Down", service: "foo2", severity: "critical" },
      { alertname: "Down", service: "foo3" },
      { alertname: "Audit", service: "files", severity: "critical" },
      { alertname: "Lag", service: "database", owner: "team-X" },
      { alertname: "Lag", service: "database", owner: "team-Y" },
      { alertname: "Lag", service: "database", owner: "team-Z" },
    ],
  },
  {
    name: "kube-prometheus: Watchdog and InfoInhibitor to null, severities by matcher",
    config: `
route:
  receiver: default
  group_by: [namespace]
  routes:
    - receiver: "null"
      matchers: ['alertname =~ "InfoInhibitor|Watchdog"']
    - receiver: critical
      matchers: [severity = critical]
      continue: true
    - receiver: slack
      matchers: ['severity =~ "warning|critical"', 'namespace !~ "kube-.*"']
receivers:
  - name: default
  - name: "null"
  - name: critical
    webhook_configs: [{ url: 'http://pager.example.com/hook', send_resolved: true }]
  - name: slack
    slack_configs: [{ api_url: 'https://hooks.slack.com/services/T/B/C', channel: '#alerts' }]
inhibit_rules:
  - source_matchers: ['severity = critical']
    target_matchers: ['severity =~ warning|info']
    equal: [namespace, alertname]
  - source_matchers: ['alertname = InfoInhibitor']
    target_matchers: ['severity = info']
    equal: [namespace]
`,
    labelSets: [
      { alertname: "Watchdog", severity: "none" },
      { alertname: "KubePodCrashLooping", severity: "critical", namespace: "shop" },
      { alertname: "KubePodCrashLooping", severity: "critical", namespace: "kube-system" },
      { alertname: "KubeMemoryOvercommit", severity: "warning", namespace: "shop" },
      { alertname: "KubeMemoryOvercommit", severity: "info", namespace: "shop" },
    ],
  },
  {
    name: "nested tenants inheriting receivers, group_by '...' and timers",
    config: `
route:
  receiver: platform
  group_by: ['...']
  routes:
    - matchers: [tenant="acme"]
      receiver: acme
      routes:
        - matchers: [env="prod"]
          routes:
            - matchers: [severity="page"]
              receiver: acme-pager
            - matchers: [team="payments"]
        - matchers: [env="staging"]
          receiver: acme-staging
          continue: true
        - matchers: [env=~"staging|dev"]
          receiver: acme-nonprod
    - matchers: [tenant="globex"]
      receiver: globex
      group_by: [alertname]
      repeat_interval: 1h
receivers:
  - name: platform
  - name: acme
  - name: acme-pager
  - name: acme-staging
  - name: acme-nonprod
  - name: globex
`,
    labelSets: [
      { alertname: "X", tenant: "acme", env: "prod", severity: "page" },
      { alertname: "X", tenant: "acme", env: "prod", team: "payments" },
      { alertname: "X", tenant: "acme", env: "prod" },
      { alertname: "X", tenant: "acme", env: "staging" },
      { alertname: "X", tenant: "acme", env: "dev" },
      { alertname: "X", tenant: "globex", env: "prod" },
      { alertname: "X", tenant: "initech" },
    ],
  },
  {
    name: "time intervals on routes",
    config: `
route:
  receiver: default
  routes:
    - matchers: [team="web"]
      receiver: web
      mute_time_intervals: [weekends, holidays]
      continue: true
    - matchers: [team=~"web|ops"]
      receiver: ops
      active_time_intervals: [office-hours]
time_intervals:
  - name: weekends
    time_intervals:
      - weekdays: [saturday, sunday]
        location: Europe/Berlin
  - name: office-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{ start_time: '09:00', end_time: '17:30' }]
  - name: holidays
    time_intervals:
      - months: [december]
        days_of_month: ['24:26', '-1']
receivers: [{ name: default }, { name: web }, { name: ops }]
`,
    labelSets: [{ team: "web" }, { team: "ops" }, { team: "db" }],
  },
  {
    name: "regexes, comma-separated matchers and negative matchers",
    config: `
route:
  receiver: fallback
  routes:
    - matchers: ['service=~"api-.*", env!~"dev|test"']
      receiver: api-prod
    - matchers: ['service=~"(?i)WEB"']
      receiver: web
    - match_re: { path: '/v[0-9]+/.*' }
      match: { method: POST }
      receiver: writes
    - matchers: ['instance=~"10\\\\.0\\\\..*"']
      receiver: internal
receivers: [{ name: fallback }, { name: api-prod }, { name: web }, { name: writes }, { name: internal }]
`,
    labelSets: [
      { service: "api-orders", env: "prod" },
      { service: "api-orders", env: "dev" },
      { service: "web" },
      { service: "Web" },
      { path: "/v2/orders", method: "POST" },
      { path: "/v2/orders", method: "GET" },
      { instance: "10.0.3.4:9100" },
      { instance: "10.1.3.4:9100" },
    ],
  },
  {
    name: "empty values, absent labels and continue at several depths",
    config: `
route:
  receiver: root
  routes:
    - matchers: ['team=""']
      receiver: unowned
      continue: true
    - matchers: ['team!=""']
      receiver: owned
      continue: true
      routes:
        - matchers: [tier="1"]
          receiver: tier1
          continue: true
        - matchers: ['tier=~"1|2"']
          receiver: tier12
    - matchers: ['region=~".*"']
      receiver: any-region
      routes:
        - matchers: ['region!~".+"']
          receiver: no-region
receivers:
  - name: root
  - name: unowned
  - name: owned
  - name: tier1
  - name: tier12
  - name: any-region
  - name: no-region
`,
    labelSets: [
      { alertname: "A" },
      { alertname: "A", team: "db" },
      { alertname: "A", team: "db", tier: "1" },
      { alertname: "A", team: "db", tier: "2", region: "eu" },
      { alertname: "A", region: "eu" },
    ],
  },
];

const BROKEN: Array<{ name: string; config: string; message: RegExp }> = [
  {
    name: "unknown field",
    config: "route:\n  receiver: a\n  group_wiat: 1m\nreceivers: [{ name: a }]\n",
    message: /^x\.yml:3:3: .*group_wiat.*Did you mean "group_wait"/,
  },
  {
    name: "unknown top-level field",
    config: "route: { receiver: a }\nreceiver: [{ name: a }]\n",
    message: /^x\.yml:2:1: .*receiver/,
  },
  {
    name: "route to a missing receiver",
    config: "route:\n  receiver: a\n  routes:\n    - receiver: b\nreceivers: [{ name: a }]\n",
    message: /^x\.yml:4:17: .*undefined receiver "b"/,
  },
  {
    name: "bad regex in match_re",
    config:
      "route:\n  receiver: a\n  routes:\n    - match_re: { job: 'api(' }\n      receiver: a\nreceivers: [{ name: a }]\n",
    message: /^x\.yml:4:24: .*error parsing regexp/,
  },
  {
    name: "bad regex in matchers",
    config:
      "route:\n  receiver: a\n  routes:\n    - matchers: ['job=~\"[a-\"']\n      receiver: a\nreceivers: [{ name: a }]\n",
    message: /^x\.yml:4:18: .*error parsing regexp/,
  },
  {
    name: "bad regex in an inhibit rule",
    config:
      "route: { receiver: a }\nreceivers: [{ name: a }]\ninhibit_rules:\n  - source_matchers: ['a=~\"*\"']\n    target_matchers: [b=c]\n",
    message: /^x\.yml:4:23: .*error parsing regexp/,
  },
  {
    name: "no root receiver",
    config: "route:\n  group_by: [a]\nreceivers: [{ name: a }]\n",
    message: /root route must specify a default receiver/,
  },
  { name: "no route", config: "receivers: [{ name: a }]\n", message: /no route provided/ },
  {
    name: "matchers on the root",
    config: "route:\n  receiver: a\n  matchers: [x=y]\nreceivers: [{ name: a }]\n",
    message: /root route must not have any matchers/,
  },
  {
    name: "continue on the root",
    config: "route:\n  receiver: a\n  continue: true\nreceivers: [{ name: a }]\n",
    message: /cannot have continue in root route/,
  },
  {
    name: "duplicate receiver",
    config: "route: { receiver: a }\nreceivers: [{ name: a }, { name: a }]\n",
    message: /not unique/,
  },
  {
    name: "bad duration",
    config: "route:\n  receiver: a\n  group_wait: 30 seconds\nreceivers: [{ name: a }]\n",
    message: /not a valid duration/,
  },
  {
    name: "zero group_interval",
    config: "route:\n  receiver: a\n  group_interval: 0s\nreceivers: [{ name: a }]\n",
    message: /group_interval cannot be zero/,
  },
  {
    name: "'...' with other labels",
    config: "route:\n  receiver: a\n  group_by: ['...', job]\nreceivers: [{ name: a }]\n",
    message: /wildcard group_by/,
  },
  {
    name: "undefined time interval",
    config:
      "route:\n  receiver: a\n  routes:\n    - receiver: a\n      mute_time_intervals: [nights]\nreceivers: [{ name: a }]\n",
    message: /undefined time interval "nights"/,
  },
  {
    name: "time range backwards",
    config:
      "route: { receiver: a }\nreceivers: [{ name: a }]\ntime_intervals:\n  - name: n\n    time_intervals: [{ times: [{ start_time: '18:00', end_time: '08:00' }] }]\n",
    message: /start time cannot be equal or greater than end time/,
  },
  {
    name: "unknown weekday",
    config:
      "route: { receiver: a }\nreceivers: [{ name: a }]\ntime_intervals:\n  - name: n\n    time_intervals: [{ weekdays: [funday] }]\n",
    message: /funday is not a valid weekday/,
  },
  {
    name: "email without a smarthost",
    config:
      "route: { receiver: a }\nreceivers: [{ name: a, email_configs: [{ to: x@example.com, from: y@example.com }] }]\n",
    message: /no global SMTP smarthost set/,
  },
  {
    name: "webhook without url",
    config: "route: { receiver: a }\nreceivers: [{ name: a, webhook_configs: [{ send_resolved: true }] }]\n",
    message: /one of url or url_file must be configured/,
  },
  {
    name: "unknown field in an integration",
    config:
      "route: { receiver: a }\nreceivers: [{ name: a, webhook_configs: [{ url: 'http://x.example', sendresolved: true }] }]\n",
    message: /sendresolved.*Did you mean "send_resolved"/,
  },
  {
    name: "invalid label name in match",
    config:
      "route:\n  receiver: a\n  routes: [{ receiver: a, match: { 'bad-name': x } }]\nreceivers: [{ name: a }]\n",
    message: /invalid label name "bad-name"/,
  },
  {
    name: "YAML syntax",
    config: "route:\n  receiver: a\n   bad: indent\n",
    message: /^x\.yml:\d+:\d+: error: YAML/,
  },
];

describe.skipIf(amtool === undefined)("routing agrees with Debian's amtool", () => {
  for (const c of CASES) {
    it(`routes like amtool: ${c.name}`, () => {
      const file = writeConfig(c.config);
      expect(amtoolAccepts(file)).toBe(true);
      const loaded = loadAlertmanagerConfig(c.config, file);
      expect(loaded.problems.map(formatProblem)).toEqual([]);
      const route = loaded.config?.route;
      if (!route) throw new Error("no route");
      const ours = c.labelSets.map((labels) => routeReceivers(route, labels).join(","));
      const theirs = c.labelSets.map((labels) => amtoolRoutes(file, labels).join(","));
      expect(ours).toEqual(theirs);
    });
  }

  it("check-config and Nines agree that broken configs are broken, each with a position", () => {
    const verdicts = BROKEN.map((b) => {
      const file = writeConfig(b.config);
      const ours = loadAlertmanagerConfig(b.config, "x.yml").problems.map(formatProblem);
      return { name: b.name, amtool: amtoolAccepts(file), nines: ours.length === 0, message: ours[0] ?? "" };
    });
    expect(verdicts.map((v) => `${v.name}: amtool ${v.amtool} nines ${v.nines}`)).toEqual(
      BROKEN.map((b) => `${b.name}: amtool false nines false`),
    );
    for (const [i, v] of verdicts.entries()) expect(v.message, v.name).toMatch(BROKEN[i]?.message ?? /./);
  });
});
