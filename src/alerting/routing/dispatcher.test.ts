import { describe, expect, it } from "vitest";
import { formatProblem } from "../../config/index.js";
import { ManualClock } from "../../platform/clock.js";
import type { IncomingAlert } from "../alert-model.js";
import { loadAlertmanagerConfig } from "./am-config.js";
import {
  AlertDispatcher,
  type NotificationRequest,
  type ReceiverOptions,
  type RoutingStateChanges,
  type SavedParts,
} from "./dispatcher.js";
import { fingerprint } from "./fingerprint.js";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC

function setup(yaml: string, receiverOptions?: Record<string, Partial<ReceiverOptions>>, start = T0) {
  const loaded = loadAlertmanagerConfig(yaml, "am.yml");
  if (!loaded.config) throw new Error(loaded.problems.map(formatProblem).join("\n"));
  const clock = new ManualClock(start);
  const sent: NotificationRequest[] = [];
  const options = { clock, config: loaded.config, notify: (r: NotificationRequest) => sent.push(r) };
  const d = new AlertDispatcher(receiverOptions ? { ...options, receiverOptions } : options);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    clock,
    d,
    sent,
    /** Moves the clock and performs the flushes that fell due. */
    advance(ms: number) {
      clock.advance(ms);
      d.runDue();
    },
    /** Fires alerts now, each with an endsAt 15 minutes ahead (Prometheus sends 4 × its resend delay). */
    fire(...labels: Array<Record<string, string>>) {
      const alerts: IncomingAlert[] = labels.map((l) => ({
        labels: l,
        annotations: {},
        startsAt: iso(clock.now()),
        endsAt: iso(clock.now() + 15 * M),
      }));
      return d.receive(alerts);
    },
    resolve(...labels: Array<Record<string, string>>) {
      return d.receive(
        labels.map((l) => ({
          labels: l,
          annotations: {},
          startsAt: iso(clock.now() - H),
          endsAt: iso(clock.now()),
        })),
      );
    },
    /** Notifications as "receiver firing-count/resolved-count @ offset". */
    summary() {
      return sent.map((n) => `${n.receiver} ${n.firingCount}/${n.resolvedCount} @${(n.at - start) / S}s`);
    },
  };
}

const BASIC = `
route:
  receiver: team
  group_by: [alertname]
receivers: [{ name: team, webhook_configs: [{ url: "http://127.0.0.1:9/hook" }] }]
`;

describe("grouping and timers as Alertmanager", () => {
  it("first notification after group_wait, changes batched until group_interval, repeats after repeat_interval", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "HighLatency", instance: "a" });
    h.advance(29 * S);
    expect(h.sent).toEqual([]);
    h.advance(1 * S);
    expect(h.summary()).toEqual(["team 1/0 @30s"]);
    // A second alert of the same group 10s later waits for the next group_interval tick (30s + 5m).
    h.advance(10 * S);
    h.fire({ alertname: "HighLatency", instance: "b" });
    h.advance(4 * M + 49 * S);
    expect(h.sent).toHaveLength(1);
    h.advance(1 * S);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 2/0 @330s"]);
    // Nothing changes: keep the alerts alive and wait for repeat_interval (4h). Alertmanager repeats at the
    // first flush strictly more than 4h after the last notification: 330s + 4h + 5m.
    for (let i = 0; i < 49; i++) {
      h.fire({ alertname: "HighLatency", instance: "a" }, { alertname: "HighLatency", instance: "b" });
      h.advance(5 * M);
    }
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 2/0 @330s", `team 2/0 @${330 + 4 * 3600 + 300}s`]);
  });

  it("computes the group key as Alertmanager does and sorts alerts by job, instance", () => {
    const h = setup(BASIC);
    h.fire(
      { alertname: "Down", instance: "b", job: "api" },
      { alertname: "Down", instance: "a", job: "api" },
    );
    h.advance(30 * S);
    const [n] = h.sent;
    expect(n?.groupKey).toBe('{}:{alertname="Down"}');
    expect(n?.groupLabels).toEqual({ alertname: "Down" });
    expect(n?.commonLabels).toEqual({ alertname: "Down", job: "api" });
    expect(n?.alerts.map((a) => a.labels.instance)).toEqual(["a", "b"]);
    expect(n?.alerts[0]?.fingerprint).toBe(fingerprint({ alertname: "Down", instance: "a", job: "api" }));
    expect(n?.alerts[0]?.endsAt).toBe(0);
  });

  it("nextWakeAt follows the earliest group through new groups, flushes and groups that leave", () => {
    const h = setup(BASIC);
    expect(h.d.nextWakeAt()).toBeUndefined();
    h.fire({ alertname: "A" });
    expect(h.d.nextWakeAt()).toBe(T0 + 30 * S);
    h.advance(10 * S);
    h.fire({ alertname: "B" });
    expect(h.d.nextWakeAt()).toBe(T0 + 30 * S);
    h.advance(20 * S); // A flushes; its next flush is 5 minutes on, after B's first
    expect(h.summary()).toEqual(["team 1/0 @30s"]);
    expect(h.d.nextWakeAt()).toBe(T0 + 40 * S);
    h.advance(10 * S);
    expect(h.d.nextWakeAt()).toBe(T0 + 30 * S + 5 * M);
    // Both resolve: each group flushes its resolve, then leaves; no timer is left.
    h.resolve({ alertname: "A" }, { alertname: "B" });
    h.advance(5 * M);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 1/0 @40s", "team 0/1 @330s", "team 0/1 @340s"]);
    expect(h.d.nextWakeAt()).toBeUndefined();
    // A restored dispatcher finds its groups' timers again.
    h.fire({ alertname: "C" });
    expect(h.d.nextWakeAt()).toBe(h.clock.now() + 30 * S);
    const copy = setup(BASIC, undefined, h.clock.now());
    copy.d.restore(h.d.snapshot());
    expect(copy.d.nextWakeAt()).toBe(h.clock.now() + 30 * S);
  });

  it("an alert that started long before flushes its new group at once", () => {
    const h = setup(BASIC);
    h.d.receive([
      { labels: { alertname: "Old" }, annotations: {}, startsAt: new Date(T0 - H).toISOString() },
    ]);
    h.advance(0);
    expect(h.summary()).toEqual(["team 1/0 @0s"]);
  });

  it("sends the resolve at the next group_interval, then forgets the group", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Disk" });
    h.advance(30 * S);
    h.advance(60 * S);
    h.resolve({ alertname: "Disk" });
    h.advance(4 * M);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 0/1 @330s"]);
    expect(h.sent[1]?.status).toBe("resolved");
    expect(h.d.groupsStatus()).toEqual([]);
  });

  it("an alert without endsAt resolves after resolve_timeout (default 5m)", () => {
    const h = setup(BASIC);
    h.d.receive([{ labels: { alertname: "Quiet" }, annotations: {} }]);
    h.advance(30 * S);
    h.advance(5 * M);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 0/1 @330s"]);
  });

  it("does not notify a group whose alerts all resolved before its first flush", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Blip" });
    h.advance(10 * S);
    h.resolve({ alertname: "Blip" });
    h.advance(5 * M);
    expect(h.sent).toEqual([]);
  });

  it("keeps the same idempotency key for the same flush", () => {
    const a = setup(BASIC);
    const b = setup(BASIC);
    for (const h of [a, b]) {
      h.fire({ alertname: "X" });
      h.advance(30 * S);
    }
    expect(a.sent[0]?.idempotencyKey).toBe(b.sent[0]?.idempotencyKey);
  });
});

describe("routing tree", () => {
  const TREE = `
route:
  receiver: default
  group_by: ['...']
  group_wait: 10s
  routes:
    - matchers: [severity="page"]
      receiver: pager
      continue: true
    - matchers: [team="db"]
      receiver: db
      group_by: [cluster]
receivers: [{ name: default }, { name: pager }, { name: db }]
`;

  it("continue sends one alert to every matching route, each with its own group", () => {
    const h = setup(TREE);
    h.fire({ alertname: "Lag", severity: "page", team: "db", cluster: "eu" });
    h.advance(10 * S);
    expect(h.sent.map((n) => [n.receiver, n.groupKey])).toEqual([
      ["pager", '{}/{severity="page"}:{alertname="Lag", cluster="eu", severity="page", team="db"}'],
      ["db", '{}/{team="db"}:{cluster="eu"}'],
    ]);
  });

  it("group_by ['...'] makes one group per label set", () => {
    const h = setup(TREE);
    h.fire({ alertname: "A", instance: "1" }, { alertname: "A", instance: "2" });
    h.advance(10 * S);
    expect(h.summary()).toEqual(["default 1/0 @10s", "default 1/0 @10s"]);
  });

  it("records the route, the group and the notification in the alert's trace", () => {
    const h = setup(TREE);
    const labels = { alertname: "Lag", team: "db", cluster: "eu" };
    h.fire(labels);
    h.advance(10 * S);
    const types = h.d.traceOf(fingerprint(labels))?.map((e) => e.type);
    expect(types).toEqual(["received", "routed", "grouped", "notified"]);
    const routed = h.d.traceOf(fingerprint(labels))?.[1];
    expect(routed).toMatchObject({ routes: [{ routeId: "0.1", receiver: "db" }] });
  });

  it("traces a still-firing alert's repeats and its group's repeat notifications as one run", () => {
    const h = setup(TREE);
    const labels = { alertname: "Lag", team: "db", cluster: "eu" };
    const fp = fingerprint(labels);
    h.fire(labels);
    h.advance(10 * S);
    for (let i = 1; i <= 3; i++) {
      // The sender repeats the alert (same start, new end), and a new alert joins its group.
      h.d.receive([
        {
          labels,
          annotations: {},
          startsAt: new Date(T0).toISOString(),
          endsAt: new Date(h.clock.now() + 15 * M).toISOString(),
        },
      ]);
      h.fire({ alertname: `New${i}`, team: "db", cluster: "eu" });
      h.advance(5 * M);
    }
    const carrying = h.sent.filter((n) => n.alerts.some((a) => a.fingerprint === fp));
    expect(carrying).toHaveLength(4);
    expect(h.d.traceOf(fp)?.map((e) => e.type)).toEqual(["received", "routed", "grouped", "notified"]);
    h.resolve(labels);
    h.advance(5 * M);
    expect(h.d.traceOf(fp)?.map((e) => (e.type === "notified" ? `notified ${e.status}` : e.type))).toEqual([
      "received",
      "routed",
      "grouped",
      "notified firing",
      "received",
      "routed",
      "grouped",
      "notified resolved",
    ]);
  });
});

describe("inhibition", () => {
  const INHIBIT = `
route: { receiver: team, group_by: [alertname], group_wait: 0s }
receivers: [{ name: team }]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [cluster]
`;

  it("a firing source alert mutes targets with equal labels only", () => {
    const h = setup(INHIBIT);
    h.fire({ alertname: "NodeDown", severity: "critical", cluster: "eu" });
    h.fire(
      { alertname: "HighLoad", severity: "warning", cluster: "eu" },
      { alertname: "HighCPU", severity: "warning", cluster: "us" },
    );
    h.advance(0);
    expect(h.sent.map((n) => n.groupLabels.alertname)).toEqual(["NodeDown", "HighCPU"]);
    const trace = h.d.traceOf(fingerprint({ alertname: "HighLoad", severity: "warning", cluster: "eu" }));
    expect(trace?.find((e) => e.type === "inhibited")).toMatchObject({
      rule: 0,
      source: fingerprint({ alertname: "NodeDown", severity: "critical", cluster: "eu" }),
    });
  });

  it("an alert matching both sides does not inhibit itself", () => {
    const h = setup(`
route: { receiver: team, group_wait: 0s }
receivers: [{ name: team }]
inhibit_rules:
  - source_matchers: [alertname="Both"]
    target_matchers: [alertname="Both"]
`);
    h.fire({ alertname: "Both" });
    h.advance(0);
    expect(h.sent).toHaveLength(1);
  });

  it("the target is notified once the source resolves", () => {
    const h = setup(INHIBIT);
    h.fire(
      { alertname: "NodeDown", severity: "critical", cluster: "eu" },
      { alertname: "HighLoad", severity: "warning", cluster: "eu" },
    );
    h.advance(0);
    expect(h.sent.map((n) => n.groupLabels.alertname)).toEqual(["NodeDown"]);
    h.resolve({ alertname: "NodeDown", severity: "critical", cluster: "eu" });
    h.fire({ alertname: "HighLoad", severity: "warning", cluster: "eu" });
    h.advance(5 * M);
    expect(h.sent.map((n) => `${n.groupLabels.alertname} ${n.status}`)).toEqual([
      "NodeDown firing",
      "NodeDown resolved",
      "HighLoad firing",
    ]);
  });
});

describe("silences", () => {
  it("a silenced alert is not notified while the silence is active", () => {
    const h = setup(BASIC);
    const s = h.d.addSilence({
      matchers: ['alertname="Noisy"'],
      endsAt: T0 + H,
      createdBy: "me",
      comment: "known",
    });
    expect(s.ok).toBe(true);
    h.fire({ alertname: "Noisy" });
    h.advance(30 * S);
    expect(h.sent).toEqual([]);
    expect(h.d.alerts()[0]).toMatchObject({ state: "suppressed", silencedBy: [s.ok ? s.id : ""] });
    // After the silence ends, the next flush notifies.
    for (let t = 0; t < 13; t++) {
      h.fire({ alertname: "Noisy" });
      h.advance(5 * M);
    }
    expect(h.summary()).toEqual(["team 1/0 @3630s"]);
  });

  it("a silenced alert still sends its resolve notification", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Flappy" });
    h.advance(30 * S);
    expect(h.d.addSilence({ matchers: ["alertname=Flappy"], endsAt: T0 + 2 * H }).ok).toBe(true);
    h.advance(60 * S);
    h.resolve({ alertname: "Flappy" });
    h.advance(4 * M);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 0/1 @330s"]);
    const notified = h.d.traceOf(fingerprint({ alertname: "Flappy" }))?.filter((e) => e.type === "notified");
    expect(notified?.[1]).toMatchObject({ status: "resolved", afterMute: true });
  });

  it("the resolve of a silenced alert is sent even after its group notified about other alerts", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Disk", instance: "a" });
    h.advance(30 * S);
    // While what was announced is what fires, the log entry keeps one list of fingerprints.
    const [a, b] = [
      fingerprint({ alertname: "Disk", instance: "a" }),
      fingerprint({ alertname: "Disk", instance: "b" }),
    ];
    expect(h.d.snapshot().log.map(([, e]) => e)).toEqual([{ firing: [a], resolved: [], at: T0 + 30 * S }]);
    h.d.addSilence({ matchers: ['instance="a"'], endsAt: T0 + 2 * H });
    h.fire({ alertname: "Disk", instance: "a" }, { alertname: "Disk", instance: "b" });
    h.advance(5 * M);
    // a is silenced, not resolved: the receiver still believes it fires.
    expect(h.d.snapshot().log.map(([, e]) => [e.firing, e.announced])).toEqual([[[b], [a, b]]]);
    h.resolve({ alertname: "Disk", instance: "a" });
    h.fire({ alertname: "Disk", instance: "b" });
    h.advance(5 * M);
    expect(h.sent.map((n) => n.alerts.map((a) => `${a.labels.instance} ${a.status}`).join(", "))).toEqual([
      "a firing",
      "b firing",
      "b firing, a resolved",
    ]);
  });

  it("with sendResolvedAfterMute: false the resolve is swallowed, as in Alertmanager", () => {
    const h = setup(BASIC, { team: { sendResolvedAfterMute: false } });
    h.fire({ alertname: "Flappy" });
    h.advance(30 * S);
    h.d.addSilence({ matchers: ["alertname=Flappy"], endsAt: T0 + 2 * H });
    h.advance(60 * S);
    h.resolve({ alertname: "Flappy" });
    h.advance(4 * M);
    expect(h.summary()).toEqual(["team 1/0 @30s"]);
  });

  it("refuses a silence without a matcher that excludes the empty string", () => {
    const h = setup(BASIC);
    expect(h.d.addSilence({ matchers: ['team=~".*"'], endsAt: T0 + H })).toEqual({
      ok: false,
      problems: ["at least one matcher must not match the empty string"],
    });
  });

  it("a recurring silence by cron mutes only inside its window", () => {
    const h = setup(BASIC, undefined, Date.UTC(2026, 0, 5, 1, 50));
    // Nightly maintenance 02:00–03:00 Berlin time (01:00–02:00 UTC in winter).
    const r = h.d.addSilence({
      matchers: ["alertname=Backup"],
      endsAt: Date.UTC(2027, 0, 1),
      recurrence: { cron: "0 2 * * *", duration: "1h", timezone: "Europe/Berlin" },
    });
    expect(r.ok).toBe(true);
    h.fire({ alertname: "Backup" });
    h.advance(30 * S); // 01:50:30 UTC: inside the window
    expect(h.sent).toEqual([]);
    for (let t = 0; t < 3; t++) {
      h.fire({ alertname: "Backup" });
      h.advance(5 * M);
    }
    // Flushes at 01:55:30 (muted) and 02:00:30 UTC (window over).
    expect(h.sent.map((n) => new Date(n.at).toISOString())).toEqual(["2026-01-05T02:00:30.000Z"]);
  });
});

describe("time intervals on routes", () => {
  const TI = `
route:
  receiver: default
  group_wait: 0s
  routes:
    - matchers: [team="web"]
      receiver: web
      mute_time_intervals: [weekends]
    - matchers: [team="ops"]
      receiver: ops
      active_time_intervals: [office-hours]
time_intervals:
  - name: weekends
    time_intervals:
      - weekdays: [saturday, sunday]
        location: America/New_York
  - name: office-hours
    time_intervals:
      - weekdays: ['monday:friday']
        times: [{ start_time: "09:00", end_time: "17:00" }]
        location: Europe/Berlin
receivers: [{ name: default }, { name: web }, { name: ops }]
`;

  it("mute_time_intervals silence a route on weekends in its own time zone", () => {
    // Monday 03:00 UTC is still Sunday 22:00 in New York.
    const h = setup(TI, undefined, Date.UTC(2026, 0, 5, 3, 0));
    h.fire({ alertname: "Err", team: "web" });
    h.advance(0);
    expect(h.sent).toEqual([]);
    expect(h.d.traceOf(fingerprint({ alertname: "Err", team: "web" }))?.at(-1)).toMatchObject({
      type: "time-muted",
    });
    // At 05:00 UTC (Monday 00:00 in New York) the mute ends: the flush at 05:00 notifies.
    for (let t = 0; t < 24; t++) {
      h.fire({ alertname: "Err", team: "web" });
      h.advance(5 * M);
    }
    expect(h.sent.map((n) => new Date(n.at).toISOString())).toEqual(["2026-01-05T05:00:00.000Z"]);
  });

  it("a resolve that happens inside a mute interval is sent when the interval ends", () => {
    // Saturday 04:00 UTC is Friday 23:00 in New York: not muted yet.
    const run = (options?: Record<string, Partial<ReceiverOptions>>) => {
      const h = setup(TI, options, Date.UTC(2026, 0, 10, 4, 0));
      const endsAt = new Date(Date.UTC(2026, 0, 10, 8, 0)).toISOString();
      h.d.receive([{ labels: { alertname: "Err", team: "web" }, annotations: {}, endsAt }]);
      h.advance(0);
      h.advance(2 * H);
      h.resolve({ alertname: "Err", team: "web" });
      h.advance(2 * 24 * H);
      return h.sent.map((n) => `${n.status} ${new Date(n.at).toISOString()}`);
    };
    expect(run()).toEqual(["firing 2026-01-10T04:00:00.000Z", "resolved 2026-01-12T05:00:00.000Z"]);
    // Alertmanager drops it.
    expect(run({ web: { sendResolvedAfterMute: false } })).toEqual(["firing 2026-01-10T04:00:00.000Z"]);
  });

  it("active_time_intervals let a route notify only during office hours", () => {
    // Monday 07:58 UTC = 08:58 Berlin: not yet office hours.
    const h = setup(TI, undefined, Date.UTC(2026, 0, 5, 7, 58));
    h.fire({ alertname: "Ticket", team: "ops" });
    h.advance(0);
    expect(h.sent).toEqual([]);
    h.advance(5 * M);
    expect(h.sent.map((n) => new Date(n.at).toISOString())).toEqual(["2026-01-05T08:03:00.000Z"]);
  });
});

describe("state", () => {
  /** Records a successful save of `changes` in `saved`, as the alerting runtime does. */
  function recordSave(saved: SavedParts, changes: RoutingStateChanges): void {
    for (const { kind, id, token } of [...changes.changed, ...changes.unchanged]) saved[kind].set(id, token);
    for (const { kind, id } of changes.removed) saved[kind].delete(id);
  }
  const emptySaved = (): SavedParts => ({ group: new Map(), log: new Map(), alert: new Map() });

  it("a save between periodic ones lists the notification log only; the next periodic save lists the rest", () => {
    const h = setup(BASIC);
    const saved = emptySaved();
    h.fire({ alertname: "A" }, { alertname: "B" });
    h.advance(30 * S);
    const between = h.d.changesSince(saved, { periodic: false });
    expect(new Set(between.changed.map((c) => c.kind))).toEqual(new Set(["log"]));
    recordSave(saved, between);
    const periodic = h.d.changesSince(saved, { periodic: true });
    expect(periodic.changed.filter((c) => c.kind === "alert")).toHaveLength(2);
    expect(periodic.changed.filter((c) => c.kind === "group").length).toBeGreaterThan(0);
    expect(periodic.changed.filter((c) => c.kind === "log")).toEqual([]);
    recordSave(saved, periodic);
    expect(h.d.changesSince(saved).changed).toEqual([]);
  });

  it("a save lists only what changed, and the record of a collected alert until a save removed it", () => {
    const h = setup(BASIC);
    const saved = emptySaved();
    h.fire({ alertname: "A" }, { alertname: "B" });
    h.advance(30 * S);
    const first = h.d.changesSince(saved);
    expect(first.changed.filter((c) => c.kind === "alert").map((c) => c.id)).toHaveLength(2);
    recordSave(saved, first);
    expect(h.d.changesSince(saved).changed).toEqual([]);

    h.resolve({ alertname: "A" });
    h.advance(5 * M);
    // Resolved, notified and past the retention: garbage collection drops A's alert and, a day later, its trace.
    h.advance(25 * H);
    const fpA = fingerprint({ alertname: "A" });
    const failed = h.d.changesSince(saved);
    expect(failed.removed.map((r) => r.id)).toContain(fpA);
    // That save failed (saved unchanged): the next one lists the removal again.
    const retried = h.d.changesSince(saved);
    expect(retried.removed.map((r) => r.id)).toContain(fpA);
    recordSave(saved, retried);
    expect(h.d.changesSince(saved).removed).toEqual([]);

    // A dispatcher that takes over compares every saved record once: a record it has no alert for goes.
    const loaded = loadAlertmanagerConfig(BASIC);
    if (!loaded.config) throw new Error("config");
    const d2 = new AlertDispatcher({ clock: h.clock, config: loaded.config, notify: () => {} });
    const stale = emptySaved();
    stale.alert.set("0123456789abcdef", "{}");
    expect(d2.changesSince(stale).removed.map((r) => r.id)).toEqual(["0123456789abcdef"]);
  });

  it("resumes from a snapshot without notifying twice", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Persist" });
    h.advance(30 * S);
    h.d.addSilence({ matchers: ["alertname=Other"], endsAt: T0 + H });
    const snapshot = JSON.parse(JSON.stringify(h.d.snapshot()));
    const loaded = loadAlertmanagerConfig(BASIC);
    if (!loaded.config) throw new Error("config");
    const sent: NotificationRequest[] = [];
    const d2 = new AlertDispatcher({ clock: h.clock, config: loaded.config, notify: (r) => sent.push(r) });
    d2.restore(snapshot);
    expect(d2.silences()).toHaveLength(1);
    h.clock.advance(5 * M);
    d2.receive([
      {
        labels: { alertname: "Persist" },
        annotations: {},
        endsAt: new Date(h.clock.now() + 15 * M).toISOString(),
      },
    ]);
    d2.runDue();
    expect(sent).toEqual([]);
    d2.receive([
      { labels: { alertname: "Persist" }, annotations: {}, endsAt: new Date(h.clock.now()).toISOString() },
    ]);
    h.clock.advance(5 * M);
    d2.runDue();
    expect(sent.map((n) => n.status)).toEqual(["resolved"]);
  });

  it("a configuration reload regroups alerts without notifying again", () => {
    const h = setup(BASIC);
    h.fire({ alertname: "Keep" });
    h.advance(30 * S);
    const reloaded = loadAlertmanagerConfig(
      BASIC.replace("group_by: [alertname]", "group_by: [alertname]\n  group_interval: 1m"),
    );
    if (!reloaded.config) throw new Error("config");
    h.advance(60 * S);
    h.d.setConfig(reloaded.config);
    h.advance(60 * S);
    h.fire({ alertname: "Keep" }, { alertname: "Keep", instance: "new" });
    h.advance(60 * S);
    expect(h.summary()).toEqual(["team 1/0 @30s", "team 2/0 @210s"]);
  });

  it("refuses alerts Alertmanager refuses and keeps the valid ones of the batch", () => {
    const h = setup(BASIC);
    const r = h.d.receive([
      { labels: {}, annotations: {} },
      { labels: { "bad-name": "x" }, annotations: {} },
      {
        labels: { alertname: "Ok" },
        annotations: {},
        startsAt: "2026-01-05T10:00:00Z",
        endsAt: "2026-01-05T09:00:00Z",
      },
      { labels: { alertname: "Ok" }, annotations: {} },
    ]);
    expect(r).toEqual({
      accepted: 1,
      rejected: [
        { index: 0, reason: "at least one label pair required" },
        { index: 1, reason: 'invalid name "bad-name"' },
        { index: 2, reason: "start time must be before end time" },
      ],
    });
  });
});
