import { describe, expect, it } from "vitest";
import {
  expandAlertTemplate,
  humanize,
  humanize1024,
  humanizeDuration,
  parseAlertTemplate,
} from "./alert-template.js";
import { formatGoG, sprintfGo } from "./go-format.js";
import { TemplateError } from "./go-template.js";

const data = {
  labels: { __name__: "up", instance: "db1:9100", job: "node" },
  externalLabels: { cluster: "eu-1" },
  externalURL: "http://prom.example",
  value: 0.8734,
};
const expand = (text: string, value = data.value) => expandAlertTemplate(text, "Test", { ...data, value });

describe("alert templates", () => {
  it("reads labels, value and external labels through $vars and .Fields", () => {
    expect(
      expand("{{ $labels.instance }} of {{ .Labels.job }} is {{ $value }} in {{ $externalLabels.cluster }}"),
    ).toBe("db1:9100 of node is 0.8734 in eu-1");
    expect(expand("{{ .Value }} {{ $externalURL }}")).toBe("0.8734 http://prom.example");
  });

  it("calls templates defined in the same text, each with the dot it is given", () => {
    expect(
      expand(
        '{{ define "where" }}{{ .Labels.instance }} ({{ .Labels.job }}){{ end }}down: {{ template "where" . }}',
      ),
    ).toBe("down: db1:9100 (node)");
    // A called template does not see the caller's variables, as in Go.
    expect(expand('{{ define "v" }}{{ $value }}{{ end }}{{ template "v" . }}')).toMatch(
      /^<error expanding template: .*undefined variable: \$value>$/,
    );
  });

  it("prints a label the series lacks as empty text, as Prometheus's missingkey=zero", () => {
    expect(expand("[{{ $labels.nope }}]")).toBe("[]");
  });

  it("formats values as Go prints float64", () => {
    expect(expand("{{ $value }}", 1e6)).toBe("1e+06");
    expect(expand("{{ $value }}", 123456)).toBe("123456");
    expect(expand("{{ $value }}", 0.00001)).toBe("1e-05");
    expect(expand("{{ $value }}", Number.POSITIVE_INFINITY)).toBe("+Inf");
  });

  it("pipes into humanize functions and printf", () => {
    expect(expand("{{ $value | humanizePercentage }}")).toBe("87.34%");
    expect(expand('{{ printf "%.2f" $value }}')).toBe("0.87");
    expect(expand("{{ humanize 1234567 }} {{ humanize1024 2048 }} {{ 90061 | humanizeDuration }}")).toBe(
      "1.235M 2ki 1d 1h 1m 1s",
    );
    expect(expand("{{ humanizeTimestamp 1700000000.25 }}")).toBe("2023-11-14 22:13:20.25 +0000 UTC");
    expect(expand('{{ title "disk full" }} {{ toUpper "a" }} {{ toLower "B" }}')).toBe("Disk Full A b");
  });

  it("supports if/else if/else, with and range over labels", () => {
    const t = "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}ok{{ end }}";
    expect(expand(t)).toBe("warning");
    expect(expand(t, 0.95)).toBe("critical");
    expect(expand("{{ with $labels.job }}job={{ . }}{{ else }}none{{ end }}")).toBe("job=node");
    expect(expand("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}")).toBe(
      "__name__=up;instance=db1:9100;job=node;",
    );
    expect(expand("{{- $x := 5 -}}  {{ $x }}")).toBe("5");
  });

  it("turns an execution error into Prometheus's error text instead of failing the rule", () => {
    expect(expand('{{ humanize "abc" }}')).toMatch(
      /^<error expanding template: template: __alert_Test: .*error calling humanize: strconv.ParseFloat: parsing "abc": invalid syntax>$/,
    );
  });

  it("rejects unknown functions and unclosed blocks when parsed", () => {
    expect(() => parseAlertTemplate("A", "{{ nosuch $value }}")).toThrow(TemplateError);
    expect(() => parseAlertTemplate("A", "{{ if $value }}x")).toThrow(/unexpected EOF/);
    expect(() => parseAlertTemplate("A", "{{ $value ")).toThrow(/unclosed action/);
  });
});

describe("Go number formatting", () => {
  it("matches Go's %g and %.4g", () => {
    expect(formatGoG(100, 4)).toBe("100");
    expect(formatGoG(12345, 4)).toBe("1.234e+04");
    expect(formatGoG(0.5)).toBe("0.5");
    expect(humanize(0)).toBe("0");
    expect(humanize(0.0042)).toBe("4.2m");
    expect(humanize1024(1)).toBe("1");
    expect(humanizeDuration(0.05)).toBe("50ms");
    expect(humanizeDuration(59)).toBe("59s");
  });

  it("renders printf verbs and mismatches as Go does", () => {
    expect(sprintfGo("%5.1f|%d|%s|%q|%v|%%", [3.25, 42n, "x", "q", 7])).toBe('  3.2|42|x|"q"|7|%');
    expect(sprintfGo("%d", [1.5])).toBe("%!d(float64=1.5)");
    expect(sprintfGo("%.2f %.0f %.1e", [0.125, 2.5, 1.25])).toBe("0.12 2 1.2e+00");
    expect(sprintfGo("%s %s", ["a"])).toBe("a %!s(MISSING)");
  });
});
