import { describe, expect, it } from "vitest";
import type { NotificationRequest } from "../alerting/routing/index.js";
import { goTime, renderText } from "./notify-template.js";

const at = (iso: string) => Date.parse(iso);

/**
 * The notification that Debian's Alertmanager 0.25 rendered these templates for (a slack_configs text sent to
 * a local sink): three DiskFull alerts grouped by alertname for receiver "team.ops", two firing and one
 * resolved, with --web.external-url=http://am.example:9093/.
 */
const REQUEST: NotificationRequest = {
  idempotencyKey: "k",
  receiver: "team.ops",
  groupKey: '{}:{alertname="DiskFull"}',
  groupLabels: { alertname: "DiskFull" },
  commonLabels: { alertname: "DiskFull", job: "node", severity: "page" },
  commonAnnotations: { summary: "disk full" },
  status: "firing",
  alerts: [
    {
      fingerprint: "a2a5d69704db9517",
      status: "firing",
      labels: { alertname: "DiskFull", instance: "db1", job: "node", severity: "page" },
      annotations: { summary: "disk full", description: "db1 at 99%" },
      startsAt: at("2026-11-30T21:32:58.123Z"),
      endsAt: 0,
      generatorURL: "http://prom.example/graph?g0.expr=x",
    },
    {
      fingerprint: "1b83509b98d0a5ca",
      status: "firing",
      labels: { alertname: "DiskFull", instance: "db2", job: "node", severity: "page" },
      annotations: { summary: "disk full", description: "db2 at 97%" },
      startsAt: at("2026-11-30T21:32:58.123Z"),
      endsAt: 0,
    },
    {
      fingerprint: "4db53ed555b14709",
      status: "resolved",
      labels: { alertname: "DiskFull", instance: "db3", job: "node", severity: "page" },
      annotations: { summary: "disk full" },
      startsAt: at("2026-11-30T21:27:58Z"),
      endsAt: at("2026-11-30T21:37:58.5Z"),
    },
  ],
  firingCount: 2,
  resolvedCount: 1,
  routeId: "0",
  at: at("2026-11-30T21:42:58.611Z"),
};

const render = (template: string) =>
  renderText(template, () => "(default)", REQUEST, "http://am.example:9093");

// [template, what Alertmanager 0.25 wrote for it]
const ALERTMANAGER_OUTPUT: Array<[string, string]> = [
  [
    "T1={{ range .Alerts.Firing }}{{ .Labels.alertname }}/{{ .Labels.instance }} {{ end }}",
    "T1=DiskFull/db1 DiskFull/db2 ",
  ],
  [
    "T2={{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}",
    "T2=alertname=DiskFull job=node severity=page ",
  ],
  ['T3={{ .CommonLabels.Remove (stringSlice "alertname") }}', "T3=map[job:node severity:page]"],
  [
    "T4={{ .CommonLabels }}|{{ .GroupLabels.SortedPairs }}|{{ .CommonAnnotations }}",
    "T4=map[alertname:DiskFull job:node severity:page]|[{alertname DiskFull}]|map[summary:disk full]",
  ],
  [
    'T5={{ join ", " .CommonLabels.Names }}|{{ .CommonLabels.Values | join "," }}|{{ .CommonLabels.SortedPairs.Values }}',
    "T5=alertname, job, severity|DiskFull,node,page|[DiskFull node page]",
  ],
  [
    "T6={{ len .Alerts }} {{ len .Alerts.Firing }} {{ len .Alerts.Resolved }} {{ .Alerts.Firing | len }}",
    "T6=3 2 1 2",
  ],
  ["T7={{ .Receiver }}|{{ .Status }}|{{ .ExternalURL }}", "T7=team\\.ops|firing|http://am.example:9093"],
  [
    'T8={{ title "hello WORLD foo-bar don\'t x.y_z" }}|{{ toUpper "ab" }}|{{ toLower "AB" }}|{{ reReplaceAll "(a)b" "x$1" "abab" }}|{{ match "^a" "abc" }}|{{ safeHtml "<b>" }}',
    "T8=Hello World Foo-Bar Don't X.y_z|AB|ab|xaxa|true|<b>",
  ],
  [
    'T9={{ range .Alerts }}{{ .StartsAt }}#{{ .EndsAt }}#{{ .StartsAt.Format "2006-01-02T15:04:05Z07:00 Mon Jan _2 3:04PM .000" }}#{{ .StartsAt.Unix }};{{ end }}',
    "T9=2026-11-30 21:32:58.123 +0000 UTC#0001-01-01 00:00:00 +0000 UTC#2026-11-30T21:32:58Z Mon Nov 30 9:32PM .123#1796074378;2026-11-30 21:32:58.123 +0000 UTC#0001-01-01 00:00:00 +0000 UTC#2026-11-30T21:32:58Z Mon Nov 30 9:32PM .123#1796074378;2026-11-30 21:27:58 +0000 UTC#2026-11-30 21:37:58.5 +0000 UTC#2026-11-30T21:27:58Z Mon Nov 30 9:27PM .000#1796074078;",
  ],
  [
    "T10={{ range .Alerts }}{{ .Status }}:{{ .Fingerprint }}:{{ .GeneratorURL }} {{ end }}",
    "T10=firing:a2a5d69704db9517:http://prom.example/graph?g0.expr=x firing:1b83509b98d0a5ca: resolved:4db53ed555b14709: ",
  ],
  [
    "T11={{ (index .Alerts 0).Labels.SortedPairs.Names }}|{{ (index .Alerts 0).Labels.Names }}|{{ (index .Alerts 0).Annotations.SortedPairs }}",
    "T11=[alertname instance job severity]|[alertname instance job severity]|[{description db1 at 99%} {summary disk full}]",
  ],
  ["T12={{ range .Alerts.Resolved }}{{ .EndsAt.Sub .StartsAt }}{{ end }}", "T12=10m0.5s"],
  ["T13={{ range $i, $a := .Alerts }}{{ $i }}={{ $a.Labels.instance }} {{ end }}", "T13=0=db1 1=db2 2=db3 "],
  [
    'T14={{ with .CommonLabels.Remove (stringSlice "alertname" "job") }}{{ range .SortedPairs }}{{ .Name }}{{ end }}{{ else }}empty{{ end }}',
    "T14=severity",
  ],
  [
    "T15={{ if .Alerts.Resolved }}has-resolved{{ end }}|{{ (index .Alerts.Firing 0).Labels.alertname }}",
    "T15=has-resolved|DiskFull",
  ],
];

describe("custom notification templates written for Alertmanager", () => {
  it.each(ALERTMANAGER_OUTPUT)("%s renders as Alertmanager 0.25 renders it", (template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it("renders a whole multi-line template as Alertmanager does", () => {
    const template = ALERTMANAGER_OUTPUT.map(([t]) => t).join("\n");
    expect(render(template)).toBe(ALERTMANAGER_OUTPUT.map(([, out]) => out).join("\n"));
  });

  it("reports a misused method or function in the message instead of dropping the notification", () => {
    expect(render("{{ .Alerts.Firing 1 }}")).toMatch(
      /^\(default\)\n\n\(template error: .*wrong number of args for Firing: want 0 got 1/,
    );
    expect(render('{{ join "," .CommonLabels }}')).toMatch(/join needs a list of strings/);
    expect(render("{{ .Receiver.Name }}")).toMatch(/can't evaluate field Name in type string/);
    expect(render('{{ .CommonLabels.job "x" }}')).toMatch(/job is not a method but has arguments/);
  });

  it("calls templates defined in Alertmanager template files and inline, as Alertmanager 0.25 does", () => {
    const library = [
      {
        name: "my.tmpl",
        text: [
          '{{ define "myorg.alert" }}[{{ .Status | toUpper }}] {{ .Labels.alertname }} on {{ .Labels.instance }}{{ end }}',
          '{{ define "myorg.text" }}{{ range .Alerts.Firing }}{{ template "myorg.alert" . }}',
          '{{ end }}{{ template "myorg.count" .Alerts.Resolved }}{{ end }}',
          '{{ define "myorg.count" }}{{ len . }} resolved{{ end }}',
          '{{ define "slack.default.title" }}custom title {{ .GroupLabels.alertname }}{{ end }}',
        ].join("\n"),
      },
    ];
    const text =
      '{{ template "myorg.text" . }}|{{ block "inline" .CommonLabels }}{{ .severity }}{{ end }}|{{ define "local" }}L{{ . }}{{ end }}{{ template "local" .Status }}';
    const renderWith = (template: string) =>
      renderText(template, () => "(default)", REQUEST, "http://am.example:9093", library);
    expect(renderWith(text)).toBe(
      "[FIRING] DiskFull on db1\n[FIRING] DiskFull on db2\n1 resolved|page|Lfiring",
    );
    // A file that redefines one of Alertmanager's default templates is used where that default is named.
    expect(renderWith('{{ template "slack.default.title" . }}')).toBe("custom title DiskFull");
    expect(renderWith('{{ template "slack.default.text" . }}')).toBe("(default)");
    expect(renderWith('{{ template "myorg.missing" . }}')).toMatch(/template "myorg.missing" not defined/);
    expect(render('{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}')).toMatch(
      /exceeded maximum template depth/,
    );
  });

  it("renders the example of docs/alerting.md as documented", () => {
    const title =
      '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ len .Alerts.Firing }}{{ end }}] {{ .CommonLabels.alertname }}';
    // The YAML `>-` block folds its two lines into one, joined by a space.
    const text = [
      '{{ range .Alerts.Firing }}{{ .Labels.instance }} since {{ .StartsAt.Format "15:04" }}',
      '{{ end }}{{ range (.CommonLabels.Remove (stringSlice "alertname")).SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}',
    ].join(" ");
    expect(render(title)).toBe("[FIRING:2] DiskFull");
    expect(render(text)).toBe("db1 since 21:32 db2 since 21:32 job=node severity=page ");
  });

  it("gives trimSpace, which Alertmanager added after 0.25", () => {
    expect(render('{{ trimSpace "  x  " }}|{{ .CommonAnnotations.summary | toUpper }}')).toBe("x|DISK FULL");
  });
});

describe("goTime", () => {
  it("writes times as Go's encoding/json does: the fraction without trailing zeros, the zero time for 0", () => {
    expect(goTime(0)).toBe("0001-01-01T00:00:00Z");
    expect(goTime(at("2026-03-29T01:02:03Z"))).toBe("2026-03-29T01:02:03Z");
    expect(goTime(at("2026-03-29T01:02:03.5Z"))).toBe("2026-03-29T01:02:03.5Z");
    expect(goTime(at("2026-03-29T01:02:03.25Z"))).toBe("2026-03-29T01:02:03.25Z");
    expect(goTime(at("2026-03-29T01:02:03.125Z"))).toBe("2026-03-29T01:02:03.125Z");
    expect(goTime(at("2026-03-29T01:02:03.007Z"))).toBe("2026-03-29T01:02:03.007Z");
    expect(goTime(at("2026-03-29T01:02:03.070Z"))).toBe("2026-03-29T01:02:03.07Z");
    expect(goTime(at("1969-12-31T23:59:59.500Z"))).toBe("1969-12-31T23:59:59.5Z");
    expect(goTime(at("1969-12-31T23:59:59Z"))).toBe("1969-12-31T23:59:59Z");
  });
});
