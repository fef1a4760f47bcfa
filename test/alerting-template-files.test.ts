import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerConfigKind, receiverKind } from "../src/alerting/routing/index.js";
import {
  type ConfigProblem,
  ConfigService,
  formatProblem,
  KindRegistry,
  readConfigPath,
} from "../src/config/index.js";
import { type TemplateFileAccess, templateFilesTranslator } from "../src/notify/index.js";
import { systemActor } from "../src/platform/context.js";
import { DIALECTS } from "./support/databases.js";
import { FakeProvider } from "./support/fake-provider.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

/** The header text and the first section's text of a Slack message with blocks. */
function slackTexts(message: Record<string, unknown>): { header: string; section: string } {
  const blocks = message.blocks as Array<{ type: string; text?: { text: string } }>;
  return {
    header: blocks.find((b) => b.type === "header")?.text?.text ?? "",
    section: blocks.find((b) => b.type === "section")?.text?.text ?? "",
  };
}

function amConfig(slackUrl: string, templates: string[] = ["templates/*.tmpl"]): string {
  return `apiVersion: nines/v1
kind: AlertmanagerConfig
metadata: { name: default }
spec:
  alertmanager:
    templates:
${templates.map((t) => `      - ${JSON.stringify(t)}`).join("\n")}
    route:
      receiver: chat
      group_by: [alertname]
      group_wait: 0s
      group_interval: 1m
    receivers:
      - name: chat
        slack_configs:
          - api_url: ${JSON.stringify(slackUrl)}
            text: '{{ template "mine.text" . }}'
`;
}

// Redefines one of Alertmanager's default names (the Slack title is left unset in the config) and adds one.
const GOOD_TEMPLATES = `{{ define "slack.default.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} on {{ .CommonLabels.service }}{{ end }}
{{ define "mine.text" }}{{ range .Alerts.Firing }}* {{ .Annotations.summary }} ({{ .Labels.SortedPairs.Values | join "/" }})
{{ end }}{{ end }}
`;

const BROKEN_TEMPLATES = `{{ define "slack.default.title" }}fine{{ end }}

{{ define "mine.text" }}{{ .Alerts | nosuchfunction }}{{ end }}
`;

const registry = (access: TemplateFileAccess) =>
  new KindRegistry([alertmanagerConfigKind, receiverKind], [templateFilesTranslator(access)]);

const dirs: string[] = [];
/** A local stand-in for Slack's incoming webhook: records each message and answers "ok". */
const fake = new FakeProvider();
const slackUrl = () => `${fake.url}/services/T0/B0/x`;
const messages = () => fake.requests.map((r) => JSON.parse(r.body) as Record<string, unknown>);
beforeAll(() => fake.start());
afterAll(() => fake.stop());
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nines-templates-"));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

async function validate(path: string, access: TemplateFileAccess = { read: "anywhere" }) {
  const read = await readConfigPath(path);
  expect(read.problems).toEqual([]);
  return new ConfigService(registry(access)).validate(read.sources);
}

const errors = (problems: readonly ConfigProblem[]) =>
  problems.filter((p) => p.severity === "error").map(formatProblem);

describe("reading templates: files when the configuration is loaded", () => {
  it("stores the text of every file the globs match, relative to the config file's directory", async () => {
    const root = configDir({
      "alerting.yaml": amConfig(slackUrl()),
      "templates/a.tmpl": GOOD_TEMPLATES,
      "templates/b.tmpl": '{{ define "other" }}x{{ end }}',
      "templates/notes.txt": "not a template",
    });
    const { documents, problems } = await validate(root);
    expect(problems).toEqual([]);
    const spec = documents[0]?.spec as { templateFiles?: Array<{ name: string; text: string }> };
    expect(spec.templateFiles?.map((f) => f.name)).toEqual(["templates/a.tmpl", "templates/b.tmpl"]);
    expect(spec.templateFiles?.[0]?.text).toBe(GOOD_TEMPLATES);
  });

  it("reports a template syntax error at the templates: entry, with the template file's own line", async () => {
    const root = configDir({
      "alerting.yaml": amConfig(slackUrl()),
      "templates/broken.tmpl": BROKEN_TEMPLATES,
    });
    const { problems } = await validate(root);
    expect(errors(problems)).toEqual([
      `${join(root, "alerting.yaml")}:7:9: error: templates[0] "templates/*.tmpl": template: templates/broken.tmpl:3: function "nosuchfunction" not defined`,
    ]);
  });

  it("accepts a glob that matches nothing, as Alertmanager does, with a warning; a malformed glob is an error", async () => {
    const root = configDir({ "alerting.yaml": amConfig(slackUrl(), ["none/*.tmpl", "bad[.tmpl"]) });
    const { problems } = await validate(root);
    expect(problems.map(formatProblem)).toEqual([
      `${join(root, "alerting.yaml")}:7:9: warning: templates[0] "none/*.tmpl": matches no file`,
      `${join(root, "alerting.yaml")}:8:9: error: templates[1] "bad[.tmpl": syntax error in pattern "${join(root, "bad[.tmpl")}": unclosed or empty [ ] class`,
    ]);
  });

  it("on a server, reads template files only below its --config path", async () => {
    const outside = mkdtempSync(join(tmpdir(), "nines-outside-"));
    try {
      writeFileSync(join(outside, "secret.tmpl"), '{{ define "x" }}server secret{{ end }}');
      const root = configDir({ "alerting.yaml": amConfig(slackUrl(), [join(outside, "*.tmpl")]) });
      const served = await validate(root, { read: "under", path: root });
      expect(errors(served.problems)).toEqual([
        expect.stringContaining(`secret.tmpl is outside the server's --config path`),
      ]);
      expect(JSON.stringify(served.documents)).not.toContain("server secret");
      // Over the API a client names the server's own file but sends other content: no file is read for it.
      const inside = configDir({ "alerting.yaml": amConfig(slackUrl()), "templates/a.tmpl": GOOD_TEMPLATES });
      const claimed = new ConfigService(registry({ read: "under", path: inside })).validate([
        { path: join(inside, "alerting.yaml"), content: amConfig(slackUrl(), ["../*/*.tmpl"]) },
      ]);
      expect(errors(claimed.problems)).toEqual([expect.stringContaining("as it is written there")]);
      const none = await validate(root, { read: "nowhere" });
      expect(errors(none.problems)).toEqual([expect.stringContaining("this server has none")]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("over the API, where no file exists, asks for the templates' text in spec.templateFiles and checks it", () => {
    const service = new ConfigService(registry({ read: "under", path: tmpdir() }));
    const fromClient = service.validate([{ path: "client/alerting.yaml", content: amConfig(slackUrl()) }]);
    expect(errors(fromClient.problems)).toEqual([
      expect.stringMatching(
        /^client\/alerting\.yaml:7:9: error: .*client\/alerting\.yaml is not a file here/,
      ),
    ]);
    const inline = `${amConfig(slackUrl())}  templateFiles:
    - name: chat.tmpl
      text: |
        {{ define "mine.text" }}{{ .Alerts | nosuch }}{{ end }}
`;
    const checked = service.validate([{ path: "client/alerting.yaml", content: inline }]);
    expect(errors(checked.problems)).toEqual([
      'client/alerting.yaml:20:13: error: template: chat.tmpl:1: function "nosuch" not defined',
    ]);
  });
});

describe.each(DIALECTS)("template files in delivery (%s)", (dialect) => {
  let test: TestApp | undefined;
  afterEach(async () => {
    await test?.close();
    test = undefined;
  });

  async function waitForMessages(count: number): Promise<void> {
    // Bounded wait for the delivery worker; the assertion is on the content, not on the time taken.
    for (let i = 0; i < 200 && fake.requests.length < count; i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.requests.length).toBe(count);
  }

  it("a Slack receiver renders with the config's template files; a broken file leaves the running config in force", async () => {
    fake.requests.length = 0;
    const root = configDir({ "alerting.yaml": amConfig(slackUrl()), "templates/chat.tmpl": GOOD_TEMPLATES });
    test = await startTestApp(dialect, { listen: true });
    const { app } = test;
    const config = new ConfigService(registry({ read: "under", path: root }));
    const apply = async () =>
      config.apply({
        ctx: app.ctx(systemActor("config-reload")),
        input: { sources: (await readConfigPath(root)).sources, dryRun: false, source: "reload" },
      });
    const first = await apply();
    expect(first.problems).toEqual([]);
    expect(first.applied).toBe(true);

    const labels = { alertname: "HighLatency", service: "api", env: "prod" };
    await app.alerting.receive([{ labels, annotations: { summary: "p99 above 1s" } }], "api");
    await waitForMessages(1);
    expect(slackTexts(messages()[0] ?? {})).toEqual({
      header: "[FIRING] HighLatency on api",
      section: "* p99 above 1s (HighLatency/prod/api)\n",
    });

    writeFileSync(join(root, "templates/chat.tmpl"), BROKEN_TEMPLATES);
    const second = await apply();
    expect(second.ok).toBe(false);
    expect(errors(second.problems)).toEqual([
      expect.stringContaining('templates[0] "templates/*.tmpl": template: templates/chat.tmpl:3:'),
    ]);
    await app.alerting.receive(
      [{ labels: { ...labels, alertname: "DiskFull" }, annotations: { summary: "disk 95%" } }],
      "api",
    );
    await waitForMessages(2);
    expect(slackTexts(messages()[1] ?? {})).toEqual({
      header: "[FIRING] DiskFull on api",
      section: "* disk 95% (DiskFull/prod/api)\n",
    });
  });
});
