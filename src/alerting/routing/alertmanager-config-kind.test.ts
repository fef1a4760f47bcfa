import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type ConfigObject, formatProblem, KindRegistry } from "../../config/index.js";
import { validateSources } from "../../config/validate.js";
import {
  type AlertmanagerConfigSpec,
  alertingSetupFrom,
  alertmanagerConfigKind,
  type ReceiverSpec,
  receiverKind,
} from "./alertmanager-config-kind.js";
import { importAlertmanagerConfig } from "./alertmanager-import.js";

const registry = new KindRegistry([alertmanagerConfigKind, receiverKind]);
const validate = (content: string) => validateSources([{ path: "nines.yml", content }], registry);

const AM_FILE = `
global:
  resolve_timeout: 10m
route:
  receiver: "Team Ops"
  group_by: [alertname, cluster]
  routes:
    - matchers: [severity="page"]
      receiver: pager
inhibit_rules:
  - source_match: { severity: page }
    target_match_re: { severity: "warn|info" }
    equal: [cluster]
receivers:
  - name: "Team Ops"
    webhook_configs: [{ url: "https://hooks.example.com/ops" }]
  - name: pager
    pagerduty_configs: [{ routing_key: abc123 }]
  - name: blackhole
`;

describe("AlertmanagerConfig and Receiver kinds", () => {
  it("imports an Alertmanager file as Receiver objects and one AlertmanagerConfig that validate", () => {
    const imported = importAlertmanagerConfig(AM_FILE, "alertmanager.yml");
    expect(imported.problems).toEqual([]);
    const yaml = imported.yaml ?? "";
    expect(yaml).toContain("kind: Receiver\nmetadata:\n  name: team-ops\n");
    const result = validate(yaml);
    expect(result.problems.map(formatProblem)).toEqual([]);
    const config = result.documents.find((d) => d.object.kind === "AlertmanagerConfig")
      ?.object as ConfigObject<AlertmanagerConfigSpec>;
    const receivers = result.documents
      .filter((d) => d.object.kind === "Receiver")
      .map((d) => d.object as ConfigObject<ReceiverSpec>);
    const setup = alertingSetupFrom(config, receivers);
    if ("problems" in setup) throw new Error(setup.problems.join("\n"));
    expect(setup.config.resolveTimeoutMs).toBe(600_000);
    expect(setup.deliveries.get("Team Ops")?.webhook_configs?.[0]?.url).toBe("https://hooks.example.com/ops");
    expect(setup.deliveries.get("pager")?.pagerduty_configs?.[0]?.routing_key).toBe("abc123");
    expect(setup.deliveries.get("blackhole")).toEqual({});
  });

  it("accepts an Alertmanager file as it is inside spec.alertmanager", () => {
    const indented = AM_FILE.split("\n")
      .map((l) => `    ${l}`)
      .join("\n");
    const result = validate(
      `apiVersion: nines/v1\nkind: AlertmanagerConfig\nmetadata: { name: default }\nspec:\n  alertmanager:\n${indented}\n`,
    );
    expect(result.problems.map(formatProblem)).toEqual([]);
  });

  it("reports Alertmanager's errors at their position in the Nines document", () => {
    const result = validate(`apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    route:
      receiver: ops
      routes:
        - receiver: nobody
          matchers: ['team=~"("']
    receivers: [{ name: ops }]
  recurringSilences:
    - name: backups
      matchers: [job="backup"]
      cron: "0 2 * * *"
`);
    expect(result.problems.map(formatProblem)).toEqual([
      'nines.yml:9:21: error: spec.alertmanager.route.routes.0.receiver: undefined receiver "nobody" used in route',
      expect.stringMatching(
        /^nines\.yml:10:22: error: spec\.alertmanager\.route\.routes\.0\.matchers\.0: error parsing regexp/,
      ),
      "nines.yml:13:7: error: spec.recurringSilences.0.duration: a cron recurrence needs a duration, e.g. 2h",
    ]);
  });

  it("a Receiver needs an integration and valid fields", () => {
    const result = validate(`apiVersion: nines/v1
kind: Receiver
metadata: { name: chat }
spec:
  telegram_configs:
    - bot_token: x
      chat_id: 42
      parse_mode: Markdown
      disable_notification: true
`);
    expect(result.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /^nines\.yml:9:7: error: unknown field "disable_notification".*Did you mean "disable_notifications"\?/,
      ),
    ]);
  });

  it("every receiver, its own or a Receiver object's, delivers with the config's template files", () => {
    const result = validate(`apiVersion: nines/v1
kind: Receiver
metadata: { name: chat }
spec:
  slack_configs: [{ api_url: "https://hooks.slack.example/x" }]
---
apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    templates: ["templates/*.tmpl"]
    route: { receiver: ops }
    receivers:
      - name: ops
        webhook_configs: [{ url: "https://hooks.example.com/ops" }]
      - name: chat
  receiverOptions:
    chat: { receiver: chat }
  templateFiles:
    - name: templates/team.tmpl
      text: '{{ define "slack.default.title" }}team{{ end }}'
`);
    expect(result.problems.map(formatProblem)).toEqual([]);
    const config = result.documents.find((d) => d.object.kind === "AlertmanagerConfig")
      ?.object as ConfigObject<AlertmanagerConfigSpec>;
    const receivers = result.documents
      .filter((d) => d.object.kind === "Receiver")
      .map((d) => d.object as ConfigObject<ReceiverSpec>);
    const setup = alertingSetupFrom(config, receivers);
    if ("problems" in setup) throw new Error(setup.problems.join("\n"));
    const library = [
      { name: "templates/team.tmpl", text: '{{ define "slack.default.title" }}team{{ end }}' },
    ];
    expect(setup.deliveries.get("ops")?.templates).toEqual(library);
    expect(setup.deliveries.get("chat")?.templates).toEqual(library);
    expect(setup.deliveries.get("chat")?.slack_configs).toHaveLength(1);
  });

  it("import keeps templates: as written and says where they are read from", () => {
    const imported = importAlertmanagerConfig(
      "templates:\n  - 'tmpl/*.tmpl'\nroute:\n  receiver: ops\nreceivers:\n  - name: ops\n",
      "alertmanager.yml",
    );
    expect(imported.problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^alertmanager\.yml:2:3: warning: templates are read relative to the directory/),
    ]);
    expect(imported.yaml).toContain("templates:\n      - tmpl/*.tmpl\n");
  });

  it("the examples in docs/alert-routing.md validate", () => {
    const doc = readFileSync(new URL("../../../docs/alert-routing.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1] ?? "")
      .filter((b) => b.startsWith("apiVersion: nines/v1"));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) expect(validate(block).problems.map(formatProblem)).toEqual([]);
    const imported = importAlertmanagerConfig(
      "route:\n  receiver: Team Ops\nreceivers:\n  - name: Team Ops\n    webhook_configs:\n      - url: https://hooks.example.com/ops\n",
      "alertmanager.yml",
    );
    expect(blocks).toContain(imported.yaml);
  });
});
