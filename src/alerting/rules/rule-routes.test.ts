import { describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.js";
import { type Ctx, systemActor } from "../../platform/context.js";
import type { RouteSpec } from "../../platform/route.js";
import { labelsFrom } from "../../promql/index.js";
import { localBackend, MemoryMetricsStore } from "../../tsdb/index.js";
import { parseRuleFile } from "./rule-file.js";
import { RuleManager } from "./rule-manager.js";
import { ruleRoutes } from "./rule-routes.js";

const RULES = `
groups:
  - name: node
    interval: 30s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: Down
        expr: up == 0
        for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.instance }} down" }
`;

describe("GET /api/v1/rules and /api/v1/alerts", () => {
  it("show groups, rules, health and alerts in Prometheus's shape", async () => {
    const store = new MemoryMetricsStore();
    const app = store.appender();
    app.add(labelsFrom({ __name__: "up", job: "node", instance: "a" }), 0, 0);
    await app.commit();
    const manager = new RuleManager({
      backend: localBackend(store),
      clock: new ManualClock(0),
      schedule: false,
    });
    await manager.sync(parseRuleFile("node.yml", RULES).groups);
    await manager.evaluateAt(30_000);
    const [rules, alerts] = ruleRoutes(manager) as RouteSpec[];
    const ctx = { actor: systemActor("test"), anonymousRead: false } as unknown as Ctx;
    const body = await rules?.handler({ ctx, body: undefined, query: {}, params: {} });
    const parsed = rules?.response.parse(body);
    expect(parsed).toMatchObject({
      status: "success",
      data: {
        groups: [
          {
            name: "node",
            file: "node.yml",
            interval: 30,
            limit: 0,
            lastEvaluation: "1970-01-01T00:00:30Z",
            rules: [
              { name: "job:up:sum", query: "sum by (job) (up)", health: "ok", labels: {}, type: "recording" },
              {
                state: "pending",
                name: "Down",
                query: "up == 0",
                duration: 60,
                keepFiringFor: 0,
                labels: { severity: "page" },
                annotations: { summary: "{{ $labels.instance }} down" },
                health: "ok",
                type: "alerting",
                alerts: [
                  {
                    labels: { alertname: "Down", instance: "a", job: "node", severity: "page" },
                    annotations: { summary: "a down" },
                    state: "pending",
                    activeAt: "1970-01-01T00:00:30Z",
                    value: "0e+00",
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const onlyRecording = await rules?.handler({
      ctx,
      body: undefined,
      query: { type: "record" },
      params: {},
    });
    const recordingOnly = rules?.response.parse(onlyRecording) as {
      data: { groups: Array<{ rules: unknown[] }> };
    };
    expect(recordingOnly.data.groups[0]?.rules).toHaveLength(1);
    const alertList = alerts?.response.parse(
      await alerts.handler({ ctx, body: undefined, query: {}, params: {} }),
    ) as { data: { alerts: Array<{ state: string }> } };
    expect(alertList.data.alerts.map((a) => a.state)).toEqual(["pending"]);
  });
});
