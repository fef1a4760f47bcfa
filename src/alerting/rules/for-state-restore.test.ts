import { describe, expect, it } from "vitest";
import { ManualClock } from "../../platform/clock.js";
import { labelsFrom } from "../../promql/index.js";
import { localBackend, MemoryMetricsStore } from "../../tsdb/index.js";
import type { AlertIntakeResult, AlertSink, AlertSource, IncomingAlert } from "../alert-model.js";
import { restoredActiveAt } from "./for-state-restore.js";
import { parseRuleFile } from "./rule-file.js";
import { RuleManager, type RuleManagerOptions } from "./rule-manager.js";

const MIN = 60_000;

function rules(forDuration: string) {
  const { groups, problems } = parseRuleFile(
    "disk.yml",
    `
groups:
  - name: disk
    interval: 1m
    rules:
      - alert: DiskFilling
        expr: disk_free < 10
        for: ${forDuration}
        labels: { severity: page }
`,
  );
  expect(problems).toEqual([]);
  return groups;
}

class RecordingSink implements AlertSink {
  firingAt: number[] = [];
  constructor(private readonly clock: ManualClock) {}
  async receive(alerts: readonly IncomingAlert[], _source: AlertSource): Promise<AlertIntakeResult> {
    if (alerts.some((a) => Date.parse(a.endsAt ?? "") > this.clock.now()))
      this.firingAt.push(this.clock.now());
    return { accepted: alerts.length, rejected: [] };
  }
}

/** One metrics store that outlives rule managers, as the embedded TSDB outlives a process restart. */
function world(diskFree: (minute: number) => number) {
  const clock = new ManualClock(0);
  const store = new MemoryMetricsStore();
  const backend = localBackend(store);
  const app = store.appender();
  for (let m = 0; m <= 120; m++)
    app.add(labelsFrom({ __name__: "disk_free", mount: "/" }), m * MIN, diskFree(m));
  const committed = app.commit();
  const manager = (forDuration: string, options: Partial<RuleManagerOptions> = {}) => {
    const sink = new RecordingSink(clock);
    const instance = new RuleManager({
      backend,
      clock,
      sink,
      schedule: false,
      load: async () => rules(forDuration),
      ...options,
    });
    const evalAt = async (minute: number) => {
      clock.set(minute * MIN);
      expect(await instance.evaluateAt(minute * MIN)).toEqual([]);
    };
    const state = () => {
      const rule = instance.ruleGroups()[0]?.rules[0];
      return rule !== undefined && "state" in rule ? rule.state : "none";
    };
    return { instance, sink, evalAt, state };
  };
  /** The minutes at which a manager that was started at `from` first sees the alert firing. */
  const firstFiring = async (m: ReturnType<typeof manager>, from: number, to: number) => {
    for (let minute = from; minute <= to; minute++) {
      await m.evalAt(minute);
      if (m.state() === "firing") return minute;
    }
    return undefined;
  };
  const alertsSeries = async (minute: number) => {
    const { value } = await backend.instantQuery({ query: "ALERTS", time: minute * MIN });
    return value.type === "vector" ? value.samples.length : -1;
  };
  return { clock, committed, manager, firstFiring, alertsSeries };
}

/** The first life of the process: evaluates minutes 0..lastMinute, then stops (no staleness markers). */
async function runUntil(w: ReturnType<typeof world>, forDuration: string, lastMinute: number) {
  await w.committed;
  const first = w.manager(forDuration);
  // No start(): this process has run for long, its state is not being restored.
  await first.instance.sync(rules(forDuration));
  for (let m = 0; m <= lastMinute; m++) await first.evalAt(m);
  await first.instance.stop();
  return first;
}

describe("restoring the for state of alerts after a restart", () => {
  it("fires an alert pending 8 of its 10 minutes 2 minutes after the restore, not 10 (grace period 1m)", async () => {
    const w = world(() => 5);
    const before = await runUntil(w, "10m", 8);
    expect(before.state()).toBe("pending");

    const after = w.manager("10m", { forGracePeriodMs: MIN });
    await after.instance.start();
    // Restored after the second evaluation (minute 10); the 2 minutes it was down do not count as pending.
    expect(await w.firstFiring(after, 9, 30)).toBe(12);
    expect(after.sink.firingAt).toEqual([12 * MIN]);
    await after.instance.stop();

    // The same restart without the stored state would have waited the full 10 minutes.
    const fresh = world(() => 5);
    await fresh.committed;
    const unrestored = fresh.manager("10m", { forGracePeriodMs: MIN });
    await unrestored.instance.start();
    expect(await fresh.firstFiring(unrestored, 9, 30)).toBe(19);
  });

  it("waits the default 10m grace period after the restore when less than that was left, as Prometheus", async () => {
    const w = world(() => 5);
    await runUntil(w, "10m", 8);
    const after = w.manager("10m");
    await after.instance.start();
    expect(await w.firstFiring(after, 9, 40)).toBe(20);
  });

  it("fires again at the first evaluation after the restore an alert that was firing when it went down", async () => {
    const w = world(() => 5);
    const before = await runUntil(w, "10m", 12);
    expect(before.state()).toBe("firing");
    const after = w.manager("10m");
    await after.instance.start();
    await after.evalAt(13);
    await after.evalAt(14);
    // ALERTS is not written until the state is restored, so the last one stored is still the state before.
    expect(await w.alertsSeries(14)).toBe(1);
    expect(after.state()).toBe("pending");
    await after.evalAt(15);
    expect(after.state()).toBe("firing");
    expect(after.sink.firingAt).toEqual([15 * MIN]);
  });

  it("does not restore state older than the outage tolerance", async () => {
    const w = world(() => 5);
    await runUntil(w, "10m", 8);
    const after = w.manager("10m", { forGracePeriodMs: MIN });
    await after.instance.start();
    // Down from minute 8 to 70: the last ALERTS_FOR_STATE is more than 1h old at the restore (minute 71).
    expect(await w.firstFiring(after, 70, 100)).toBe(80);
  });

  it("does not restore an alert that resolved before the restart (its series was marked stale)", async () => {
    // Condition true 0..7, false at 8 (the alert resolves and its series goes stale), true again from 9.
    const w = world((m) => (m === 8 ? 50 : 5));
    await runUntil(w, "10m", 8);
    const after = w.manager("10m", { forGracePeriodMs: MIN });
    await after.instance.start();
    expect(await w.firstFiring(after, 9, 30)).toBe(19);
  });

  it("leaves alerts whose for is shorter than the grace period to wait their for", async () => {
    const w = world(() => 5);
    await runUntil(w, "5m", 3);
    const after = w.manager("5m");
    await after.instance.start();
    // Restoring would make it wait the 10m grace period; unrestored it fires 5m after the restart.
    expect(await w.firstFiring(after, 4, 30)).toBe(9);
  });

  it("computes Prometheus's three cases in whole seconds", () => {
    const stored = { sampleAt: 8 * MIN + 700, activeAt: 1_500 };
    const now = 10 * MIN + 250;
    // 8 minutes (less a second) spent, more than the grace period left: shifted by the 2 minutes down.
    expect(restoredActiveAt({ stored, now, holdMs: 10 * MIN, gracePeriodMs: MIN })).toBe(
      1_000 + (now - 8 * MIN),
    );
    expect(restoredActiveAt({ stored, now, holdMs: 10 * MIN, gracePeriodMs: 10 * MIN })).toBe(now);
    expect(restoredActiveAt({ stored, now, holdMs: 5 * MIN, gracePeriodMs: MIN })).toBe(1_000);
  });
});
