import { describe, expect, it } from "vitest";
import { formatProblem } from "../../config/index.js";
import { DEFAULTS, loadAlertmanagerConfig } from "./am-config.js";
import { routeReceivers } from "./route-tree.js";

const errors = (text: string) => loadAlertmanagerConfig(text, "am.yml").problems.map(formatProblem);

describe("Alertmanager configuration", () => {
  it("fills in Alertmanager's defaults and lets child routes inherit", () => {
    const r = loadAlertmanagerConfig(`
route:
  receiver: ops
  group_by: [alertname]
  routes:
    - matchers: ['team="db"']
      receiver: db
      group_wait: 10s
      routes:
        - matchers: [severity="page"]
          group_by: ['...']
receivers:
  - name: ops
  - name: db
`);
    expect(r.problems).toEqual([]);
    const root = r.config?.route;
    expect(root?.groupWaitMs).toBe(DEFAULTS.groupWaitMs);
    expect(root?.groupIntervalMs).toBe(300_000);
    expect(root?.repeatIntervalMs).toBe(4 * 3_600_000);
    expect(r.config?.resolveTimeoutMs).toBe(300_000);
    const db = root?.routes[0];
    expect(db?.groupWaitMs).toBe(10_000);
    expect(db?.groupBy).toEqual(["alertname"]);
    const page = db?.routes[0];
    expect(page?.receiver).toBe("db");
    expect(page?.groupWaitMs).toBe(10_000);
    expect(page?.groupByAll).toBe(true);
    expect(page?.key).toBe('{}/{team="db"}/{severity="page"}');
  });

  it("reports an unknown field at its line and column with a suggestion", () => {
    expect(errors("route:\n  receiver: a\n  group_wiat: 1m\nreceivers:\n  - name: a\n")).toEqual([
      'am.yml:3:3: error: field group_wiat not found in route. Did you mean "group_wait"?',
    ]);
  });

  it("reports a route that names a missing receiver", () => {
    expect(
      errors(
        "route:\n  receiver: a\n  routes:\n    - receiver: opps\nreceivers:\n  - name: a\n  - name: ops\n",
      ),
    ).toEqual(['am.yml:4:17: error: undefined receiver "opps" used in route. Did you mean "ops"?']);
  });

  it("reports an invalid regex where it was written", () => {
    const out = errors(
      "route:\n  receiver: a\n  routes:\n    - match_re:\n        service: 'api(.*'\n      receiver: a\nreceivers:\n  - name: a\n",
    );
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^am\.yml:5:18: error: error parsing regexp: /);
  });

  it("reports a bad matcher, a bad duration and a zero repeat interval", () => {
    const out = errors(
      "route:\n  receiver: a\n  routes:\n    - matchers: ['team=~\"(\"']\n      group_interval: 5 minutes\n      repeat_interval: 0s\nreceivers:\n  - name: a\n",
    );
    expect(out).toEqual([
      expect.stringMatching(/^am\.yml:4:18: error: error parsing regexp/),
      'am.yml:5:23: error: not a valid duration string: "5 minutes"',
      "am.yml:6:24: error: repeat_interval cannot be zero",
    ]);
  });

  it("makes the checks of config.Load: root receiver, root matchers, continue, duplicate names, intervals", () => {
    expect(errors("route:\n  group_by: [a]\nreceivers:\n  - name: a\n")).toEqual([
      "am.yml:2:3: error: root route must specify a default receiver",
    ]);
    expect(
      errors("route:\n  receiver: a\n  matchers: [a=b]\n  continue: true\nreceivers:\n  - name: a\n"),
    ).toEqual([
      "am.yml:2:3: error: root route must not have any matchers",
      "am.yml:4:13: error: cannot have continue in root route",
    ]);
    expect(errors("route:\n  receiver: a\nreceivers:\n  - name: a\n  - name: a\n")).toEqual([
      'am.yml:5:11: error: notification config name "a" is not unique',
    ]);
    expect(errors("receivers:\n  - name: a\n")).toEqual([
      "am.yml:1:1: error: no route provided in config: add a route with a receiver",
    ]);
    expect(
      errors(
        "route:\n  receiver: a\n  routes:\n    - receiver: a\n      mute_time_intervals: [weekend]\nreceivers:\n  - name: a\n",
      ),
    ).toEqual(['am.yml:5:29: error: undefined time interval "weekend" used in route']);
  });

  it("validates the integrations Nines delivers", () => {
    const out = errors(`
route: { receiver: a }
receivers:
  - name: a
    email_configs: [{ to: ops@example.com }]
    pagerduty_configs: [{ description: x }]
    telegram_configs: [{ bot_token: t }]
    webhook_configs: [{ url: "ftp://example.com" }]
`);
    expect(out).toEqual([
      "am.yml:5:21: error: no global SMTP smarthost set",
      "am.yml:5:21: error: no global SMTP from set",
      "am.yml:6:25: error: missing service or routing key in PagerDuty config",
      "am.yml:7:24: error: missing chat_id on telegram_config",
      'am.yml:8:30: error: unsupported scheme "ftp" for URL',
    ]);
  });

  it("routes with matchers, continue and the deprecated match forms", () => {
    const r = loadAlertmanagerConfig(`
route:
  receiver: default
  routes:
    - match: { severity: page }
      receiver: pager
      continue: true
    - match_re: { team: "db|storage" }
      receiver: db
    - matchers: ['team!~"db|storage"', 'env="prod"']
      receiver: prod
receivers: [{ name: default }, { name: pager }, { name: db }, { name: prod }]
`);
    const route = r.config?.route;
    if (!route) throw new Error(r.problems.map(formatProblem).join("\n"));
    expect(routeReceivers(route, { severity: "page", team: "db" })).toEqual(["pager", "db"]);
    expect(routeReceivers(route, { severity: "page", env: "prod" })).toEqual(["pager", "prod"]);
    expect(routeReceivers(route, { team: "web", env: "dev" })).toEqual(["default"]);
    expect(routeReceivers(route, { severity: "page", team: "web" })).toEqual(["pager"]);
  });
});
