import { describe, expect, it } from "vitest";
import { ConfigService, formatProblem, KindRegistry } from "../config/index.js";
import { scrapeConfigKind, scrapeTimeoutMs } from "./scrape-config-kind.js";
import type { ScrapeConfigSpec } from "./scrape-config-kind.js";

const service = new ConfigService(new KindRegistry([scrapeConfigKind]));
const HEAD = `apiVersion: nines/v1
kind: ScrapeConfig
metadata: { name: node }
spec:
  static_configs:
    - targets: ["127.0.0.1:9100"]
`;
const validate = (spec: string) => service.validate([{ path: "scrape.yaml", content: HEAD + spec }]);
const problems = (spec: string) => validate(spec).problems.map(formatProblem);

describe("the ScrapeConfig kind", () => {
  it("accepts Prometheus's scrape_configs fields and fills in Prometheus's defaults", () => {
    const result = validate(`    - targets: ["db:9187"]
      labels: { env: prod }
  params: { module: [http_2xx] }
  basic_auth: { username: prom, password: "\${NODE_PASSWORD}" }
  metric_relabel_configs:
    - source_labels: [__name__]
      regex: "go_.*"
      action: drop
`);
    expect(result.problems).toEqual([]);
    const spec = result.documents[0]?.spec as ScrapeConfigSpec;
    expect(spec).toMatchObject({
      scrape_interval: "1m",
      metrics_path: "/metrics",
      scheme: "http",
      honor_labels: false,
      honor_timestamps: true,
      sample_limit: 0,
      body_size_limit: "16MiB",
    });
    expect(spec.metric_relabel_configs[0]).toMatchObject({ separator: ";", replacement: "$1" });
    expect(scrapeTimeoutMs(spec)).toBe(10_000);
    expect(scrapeTimeoutMs({ ...spec, scrape_interval: "5s" })).toBe(5000);
  });

  it("reports a scrape_timeout longer than the interval with its file and line", () => {
    expect(problems(`  scrape_interval: 15s\n  scrape_timeout: 20s\n`)).toEqual([
      "scrape.yaml:8:19: error: spec.scrape_timeout: scrape_timeout (20s) must not be longer than scrape_interval (15s)",
    ]);
  });

  it("reports a bad regex in metric_relabel_configs with its file and line", () => {
    const found = problems(
      `  metric_relabel_configs:\n    - source_labels: [job]\n      regex: "a(b"\n      action: keep\n`,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^scrape\.yaml:9:14: error: spec\.metric_relabel_configs\.0\.regex: not a valid regular expression/,
    );
  });

  it("rejects unknown fields, literal secrets, bad durations and targets with a scheme", () => {
    expect(problems(`  scrape_intervall: 15s\n`)[0]).toMatch(
      /^scrape\.yaml:7:\d+: error: .*scrape_intervall/,
    );
    expect(problems(`  bearer_token: hunter2\n`)[0]).toMatch(
      /^scrape\.yaml:7:17: error: spec\.bearer_token: a reference to an environment variable/,
    );
    expect(problems(`  scrape_interval: 1.5m\n`)[0]).toMatch(/spec\.scrape_interval: a Prometheus duration/);
    expect(
      service
        .validate([
          { path: "s.yaml", content: HEAD.replace("127.0.0.1:9100", "http://127.0.0.1:9100/metrics") },
        ])
        .problems.map(formatProblem)[0],
    ).toMatch(/^s\.yaml:6:17: error: spec\.static_configs\.0\.targets\.0: host:port/);
    expect(problems(`  bearer_token: "\${A}"\n  authorization: { credentials: "\${B}" }\n`)[0]).toMatch(
      /use only one of basic_auth, bearer_token and authorization/,
    );
  });
});
