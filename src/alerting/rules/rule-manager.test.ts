import { describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.js";
import { isStaleNaN, labelsFrom } from "../../promql/index.js";
import { localBackend, MemoryMetricsStore } from "../../tsdb/index.js";
import type { AlertIntakeResult, AlertSink, AlertSource, IncomingAlert } from "../alert-model.js";
import { parseRuleFile, type RuleGroupDefinition } from "./rule-file.js";
import { RuleManager } from "./rule-manager.js";

const MIN = 60_000;

class FakeSink implements AlertSink {
  batches: Array<{ at: number; alerts: IncomingAlert[] }> = [];
  constructor(private readonly clock: ManualClock) {}
  async receive(alerts: readonly IncomingAlert[], _source: AlertSource): Promise<AlertIntakeResult> {
    this.batches.push({ at: this.clock.now(), alerts: [...alerts] });
    return { accepted: alerts.length, rejected: [] };
  }
}

function groups(yaml: string): RuleGroupDefinition[] {
  const { groups, problems } = parseRuleFile("rules.yml", yaml);
  expect(problems).toEqual([]);
  return groups;
}

async function setup(yaml: string) {
  const clock = new ManualClock(0);
  const store = new MemoryMetricsStore();
  const backend = localBackend(store);
  const sink = new FakeSink(clock);
  const manager = new RuleManager({
    backend,
    clock,
    sink,
    schedule: false,
    externalLabels: { cluster: "c1" },
  });
  await manager.sync(groups(yaml));
  const write = async (name: string, labels: Record<string, string>, t: number, v: number) => {
    const app = store.appender();
    app.add(labelsFrom({ __name__: name, ...labels }), t, v);
    await app.commit();
  };
  const evalAt = async (t: number) => {
    clock.set(t);
    return manager.evaluateAt(t);
  };
  const query = async (q: string, t: number) => {
    const { value } = await backend.instantQuery({ query: q, time: t });
    return value.type === "vector"
      ? value.samples.map((s) => ({
          labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])),
          f: s.f,
        }))
      : [];
  };
  return { clock, store, backend, sink, manager, write, evalAt, query };
}

const ALERT = `
groups:
  - name: g
    interval: 1m
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.instance }} down ({{ $value }})" }
`;

describe("alerting rules in simulated time", () => {
  it("goes pending, fires after `for`, and resolves; ALERTS follows and goes stale", async () => {
    const t = await setup(ALERT);
    for (let m = 0; m <= 10; m++) await t.write("up", { instance: "a" }, m * MIN, m >= 1 && m <= 5 ? 0 : 1);
    const rule = () => t.manager.ruleGroups()[0]?.rules[0];
    const states: string[] = [];
    for (let m = 0; m <= 7; m++) {
      expect(await t.evalAt(m * MIN)).toEqual([]);
      const r = rule();
      states.push(r !== undefined && "state" in r ? r.state : "?");
    }
    // up is 0 from 1m to 5m: pending at 1m and 2m, firing from 3m (held 2m), resolved at 6m.
    expect(states).toEqual([
      "inactive",
      "pending",
      "pending",
      "firing",
      "firing",
      "firing",
      "inactive",
      "inactive",
    ]);
    expect(await t.query("ALERTS", 2 * MIN)).toEqual([
      {
        labels: {
          __name__: "ALERTS",
          alertname: "Down",
          alertstate: "pending",
          instance: "a",
          severity: "page",
        },
        f: 1,
      },
    ]);
    expect(await t.query("ALERTS", 4 * MIN)).toEqual([
      {
        labels: {
          __name__: "ALERTS",
          alertname: "Down",
          alertstate: "firing",
          instance: "a",
          severity: "page",
        },
        f: 1,
      },
    ]);
    expect(await t.query("ALERTS_FOR_STATE", 4 * MIN)).toEqual([
      { labels: { __name__: "ALERTS_FOR_STATE", alertname: "Down", instance: "a", severity: "page" }, f: 60 },
    ]);
    // The stale marker written at 6m hides the firing series at once, not after the 5m lookback.
    expect(await t.query("ALERTS", 6 * MIN)).toEqual([]);
    const raw = t.store.select({
      matchers: [{ op: "=", name: "alertstate", value: "firing" }],
      minT: 0,
      maxT: 10 * MIN,
    });
    const values = raw[0]?.values ?? [];
    expect(isStaleNaN(values[values.length - 1] as number)).toBe(true);
  });

  it("sends firing alerts once per resend delay and the resolve at once, with Prometheus's endsAt", async () => {
    const t = await setup(ALERT);
    for (let m = 0; m <= 12; m++) await t.write("up", { instance: "a" }, m * MIN, m <= 6 ? 0 : 1);
    for (let m = 0; m <= 8; m++) await t.evalAt(m * MIN);
    const sent = t.sink.batches.map((b) => ({
      at: b.at / MIN,
      endsAt: b.alerts.map((a) => (Date.parse(a.endsAt ?? "") - b.at) / MIN),
    }));
    // Fires at 2m; resend delay 1m means again only when more than 1m has passed (4m, 6m); resolved at 7m.
    expect(sent).toEqual([
      { at: 2, endsAt: [4] },
      { at: 4, endsAt: [4] },
      { at: 6, endsAt: [4] },
      { at: 7, endsAt: [0] },
    ]);
    const first = t.sink.batches[0]?.alerts[0];
    expect(first?.labels).toEqual({ alertname: "Down", instance: "a", severity: "page", cluster: "c1" });
    expect(first?.annotations).toEqual({ summary: "a down (0)" });
    expect(first?.startsAt).toBe(new Date(2 * MIN).toISOString());
    expect(first?.generatorURL).toBe("/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
  });

  it("keeps firing for keep_firing_for after the condition clears, and a pending alert simply vanishes", async () => {
    const t = await setup(`
groups:
  - name: g
    rules:
      - alert: Hot
        expr: temp > 50
        keep_firing_for: 2m
      - alert: Slow
        expr: temp > 50
        for: 10m
`);
    for (let m = 0; m <= 8; m++) await t.write("temp", { room: "r" }, m * MIN, m <= 1 ? 60 : 20);
    const snapshot: string[] = [];
    for (let m = 0; m <= 5; m++) {
      await t.evalAt(m * MIN);
      const [hot, slow] = t.manager.ruleGroups()[0]?.rules ?? [];
      snapshot.push(`${hot && "state" in hot ? hot.state : ""}/${slow && "state" in slow ? slow.state : ""}`);
    }
    expect(snapshot).toEqual([
      "firing/pending",
      "firing/pending",
      "firing/inactive",
      "firing/inactive",
      "inactive/inactive",
      "inactive/inactive",
    ]);
  });

  it("records results with the rule's labels and marks them stale when the input goes away", async () => {
    const t = await setup(`
groups:
  - name: rec
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
        labels: { team: core }
`);
    await t.write("x", { job: "a" }, 0, 1);
    await t.write("x", { job: "b" }, 0, 2);
    await t.write("x", { job: "a" }, MIN, 3);
    await t.evalAt(0);
    expect(await t.query("job:x:sum", 0)).toEqual([
      { labels: { __name__: "job:x:sum", job: "a", team: "core" }, f: 1 },
      { labels: { __name__: "job:x:sum", job: "b", team: "core" }, f: 2 },
    ]);
    const app = t.store.appender();
    app.add(labelsFrom({ __name__: "x", job: "b" }), MIN, Number.NaN);
    app.rollback();
    // x{job="b"} is still within the lookback at 1m; at 6m only job a has a recent sample.
    await t.write("x", { job: "a" }, 6 * MIN, 4);
    await t.evalAt(6 * MIN);
    expect(await t.query("job:x:sum", 6 * MIN)).toEqual([
      { labels: { __name__: "job:x:sum", job: "a", team: "core" }, f: 4 },
    ]);
    const b = t.store.select({
      matchers: [
        { op: "=", name: "job", value: "b" },
        { op: "=", name: "__name__", value: "job:x:sum" },
      ],
      minT: 0,
      maxT: 6 * MIN,
    });
    expect(isStaleNaN((b[0]?.values ?? [])[1] as number)).toBe(true);
  });

  it("keeps alert state across a reload that changes the group, and marks a removed group's series stale", async () => {
    const t = await setup(ALERT);
    for (let m = 0; m <= 5; m++) await t.write("up", { instance: "a" }, m * MIN, 0);
    await t.evalAt(0);
    await t.evalAt(2 * MIN);
    await t.manager.sync(
      groups(ALERT.replace("down (", "is down (").replace("interval: 1m", "interval: 30s")),
    );
    const rule = t.manager.ruleGroups()[0]?.rules[0];
    expect(rule && "state" in rule ? rule.state : "").toBe("firing");
    await t.evalAt(3 * MIN);
    t.clock.set(3 * MIN + 1000);
    await t.manager.sync([]);
    expect(await t.query("ALERTS", 3 * MIN + 1000)).toEqual([]);
  });

  it("reports a failing rule's error and keeps evaluating the others", async () => {
    const t = await setup(`
groups:
  - name: g
    rules:
      - record: bad
        expr: x
        labels: { i: same }
      - record: good
        expr: vector(1)
`);
    await t.write("x", { i: "1" }, 0, 1);
    await t.write("x", { i: "2" }, 0, 1);
    expect(await t.evalAt(0)).toEqual([
      {
        group: "g",
        rule: "bad",
        error: "vector contains metrics with the same labelset after applying rule labels",
      },
    ]);
    expect(await t.query("good", 0)).toEqual([{ labels: { __name__: "good" }, f: 1 }]);
  });

  it("evaluates each group at a stable offset within its interval", async () => {
    const t = await setup(ALERT);
    const group = t.manager.ruleGroups()[0];
    const offset = group?.offsetMs() ?? -1;
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(MIN);
    expect(group?.evalTimestamp(10 * MIN + offset + 5)).toBe(10 * MIN + offset);
    expect(group?.evalTimestamp(10 * MIN + offset - 5)).toBe(9 * MIN + offset);
  });
});
