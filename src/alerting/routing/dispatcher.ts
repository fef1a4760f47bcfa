import { createHash } from "node:crypto";
import type { AlertIntakeResult, IncomingAlert } from "../alert-model.js";
import type { Clock } from "../../platform/clock.js";
import type { RouteNode, RoutingConfig } from "./am-config.js";
import { encodeAlertRecord } from "./alert-record.js";
import { compareGo, fingerprint, type LabelSet, labelSetString, sortedLabelNames } from "./fingerprint.js";
import { type Inhibition, InhibitionIndex } from "./inhibitor.js";
import { isValidLabelName } from "./matchers.js";
import { allRoutes, matchRoutes } from "./route-tree.js";
import {
  parseSilence,
  type Silence,
  type SilenceInput,
  silenceActiveAt,
  silenceMatches,
} from "./silences.js";
import { anyIntervalContains } from "./time-intervals.js";

/**
 * The routing pipeline of Alertmanager (dispatch/dispatch.go, notify/notify.go) in simulated time: alerts
 * are routed to aggregation groups; a new group flushes after group_wait, then every group_interval; each
 * flush drops inhibited, time-muted and silenced alerts and asks the notification log whether the receiver
 * must hear about the group (new firing alerts, newly resolved ones, or repeat_interval elapsed). Nothing
 * reads the wall clock: runDue() performs every flush that is due by clock.now(), each at its own due time.
 */

export interface Alert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number;
  /** endsAt was set by resolve_timeout, not by the sender. */
  timeout: boolean;
  generatorURL?: string;
  updatedAt: number;
  /** Increases on every update; a flush deletes a resolved alert only if it did not change meanwhile. */
  version: number;
}

/** An alert as sent to a receiver: endsAt is 0 while it fires, as Alertmanager sends the zero time. */
export interface NotifiedAlert {
  fingerprint: string;
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number;
  generatorURL?: string;
}

export interface NotificationRequest {
  /** Same for the same flush of the same group to the same receiver, also after a restart. */
  idempotencyKey: string;
  receiver: string;
  /** Alertmanager's group key: `<route key>:<group labels>`. */
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  status: "firing" | "resolved";
  /** Firing first, then resolved, each in Alertmanager's order (job, instance, labels). */
  alerts: NotifiedAlert[];
  firingCount: number;
  resolvedCount: number;
  routeId: string;
  /** The flush that produced it, in ms. */
  at: number;
}

/** Nines's per-receiver behaviour beyond Alertmanager. */
export interface ReceiverOptions {
  /**
   * After a firing notification went out for an alert, send its resolve even if the alert was silenced or
   * inhibited since. Default true; false is Alertmanager's behaviour (the resolve is never sent).
   */
  sendResolvedAfterMute: boolean;
  /** Whether the receiver wants resolved alerts at all (Alertmanager's send_resolved; any integration's). */
  sendResolved: boolean;
}

export type TraceEvent =
  | { at: number; type: "received"; startsAt: number; endsAt: number; timeout: boolean }
  | { at: number; type: "routed"; routes: Array<{ routeId: string; receiver: string }> }
  | { at: number; type: "grouped"; routeId: string; receiver: string; groupKey: string; newGroup: boolean }
  | { at: number; type: "silenced"; silenceIds: string[] }
  | { at: number; type: "unsilenced" }
  | { at: number; type: "inhibited"; rule: number; ruleName?: string; source: string }
  | { at: number; type: "uninhibited" }
  | { at: number; type: "time-muted"; receiver: string; groupKey: string; reason: string }
  /**
   * The first notification of a run to one receiver's group; the run goes on, without further events, while
   * the group's notifications carry the alert with the same status (the trace API lists them from the outbox).
   */
  | {
      at: number;
      type: "notified";
      receiver: string;
      groupKey: string;
      status: "firing" | "resolved";
      idempotencyKey: string;
      afterMute?: boolean;
    }
  | { at: number; type: "rejected"; reason: string };

export interface AlertStatus {
  alert: Alert;
  state: "active" | "suppressed" | "resolved";
  silencedBy: string[];
  inhibitedBy: string[];
  receivers: string[];
}

export interface GroupStatus {
  groupKey: string;
  routeId: string;
  receiver: string;
  labels: Record<string, string>;
  alerts: string[];
  nextFlushAt: number;
  hasFlushed: boolean;
}

interface Group {
  id: string;
  routeId: string;
  routeKey: string;
  key: string;
  receiver: string;
  labels: Record<string, string>;
  /** fingerprint → version of the alert when it last entered the group. */
  alerts: Map<string, number>;
  nextFlushAt: number;
  hasFlushed: boolean;
  createdSeq: number;
}

interface LogEntry {
  firing: string[];
  resolved: string[];
  at: number;
  /**
   * Alerts whose firing the receiver was told and whose resolve it was not told yet; absent when that is
   * `firing` (nearly always): the entry is saved with every notification, and a second copy of a large
   * group's fingerprints doubled what a save wrote.
   */
  announced?: string[];
}

interface Muters {
  silences: Silence[];
  inhibitions: InhibitionIndex;
}

interface MuteState {
  silencedBy: string[];
  inhibitedBy?: Inhibition;
}

/** The state of every alert while nothing can mute (shared: never edit it). */
const UNMUTED: MuteState = Object.freeze({ silencedBy: Object.freeze([]) as unknown as string[] });

export interface RoutingSnapshot {
  version: 1;
  seq: number;
  alerts: Alert[];
  groups: Array<Omit<Group, "alerts"> & { alerts: Array<[string, number]> }>;
  log: Array<[string, LogEntry]>;
  silences: Silence[];
  traces: Array<[string, TraceEvent[]]>;
  mutes: Array<[string, MuteState]>;
}

/** What routing keeps of one alert between restarts; its labels, annotations and URL are in the alerts table. */
export interface SavedAlertRecord {
  alert?: Omit<Alert, "fingerprint" | "labels" | "annotations" | "generatorURL">;
  mute?: RoutingSnapshot["mutes"][number][1];
  trace?: TraceEvent[];
}

/** A saved part as last written: the references and values it is compared by, or its JSON as read back. */
export type SavedPartToken = readonly unknown[] | string;

/**
 * The parts of the routing state as last saved, by kind and id: aggregation groups by group id
 * (`<route id>|<group labels fingerprint>`), notification log entries by `<receiver>|<group key>`, and each
 * alert's record by fingerprint.
 */
export interface SavedParts {
  group: Map<string, SavedPartToken>;
  log: Map<string, SavedPartToken>;
  alert: Map<string, SavedPartToken>;
}

export type PartKind = keyof SavedParts;

export interface RoutingStateChanges {
  seq: number;
  /** New or changed parts as JSON, and the token to remember once they are written. */
  changed: Array<{ kind: PartKind; id: string; key: string; json: string; token: readonly unknown[] }>;
  /** Parts read back at start that are still the same: only their token is remembered. */
  unchanged: Array<{ kind: PartKind; id: string; token: readonly unknown[] }>;
  /** Parts saved before and gone now. */
  removed: Array<{ kind: PartKind; id: string; key: string }>;
}

/** Longer keys are hashed, so a group key with long label values still fits a database index entry. */
export const PART_KEY_MAX = 400;

/** A part's storage key: `<kind>:<id>`, or `<kind>#<sha-256 of id>` when that would be longer than PART_KEY_MAX. */
export function partKey(kind: PartKind, id: string): string {
  return id.length <= PART_KEY_MAX - kind.length - 1
    ? `${kind}:${id}`
    : `${kind}#${createHash("sha256").update(id).digest("hex")}`;
}

/**
 * Alert revisions count across every dispatcher of the process: a dispatcher that takes over another's
 * state (a configuration reload) never reuses a number the other one saved.
 */
let alertRevisionSeq = 0;

function muteKey(mute: MuteState): string {
  return `${mute.silencedBy.join(",")}|${mute.inhibitedBy?.rule}|${mute.inhibitedBy?.source}`;
}

/** Earlier due time first; among groups due at once, the older group first. */
function byDueOrder(a: Group, b: Group): number {
  return a.nextFlushAt - b.nextFlushAt || a.createdSeq - b.createdSeq;
}

function sameToken(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function savedAlertRecord(
  alert: Alert | undefined,
  mute: MuteState | undefined,
  trace: TraceEvent[] | undefined,
): SavedAlertRecord {
  const record: SavedAlertRecord = {};
  if (alert !== undefined) {
    const {
      fingerprint: _fp,
      labels: _labels,
      annotations: _annotations,
      generatorURL: _url,
      ...own
    } = alert;
    record.alert = own;
  }
  if (mute !== undefined) record.mute = mute;
  if (trace !== undefined) record.trace = trace;
  return record;
}

/**
 * An alert after Alertmanager's API defaults and validation (the intake's validateAlert): labels without
 * empty values, times in ms; endsAt is null while the resolve timeout runs (the sender gave no end).
 */
export interface CheckedAlert {
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number | null;
  generatorURL: string | null;
}

export interface DispatcherOptions {
  clock: Clock;
  config: RoutingConfig;
  notify: (request: NotificationRequest) => void;
  /** Per receiver name; unnamed receivers get the defaults (both true, or send_resolved from the config). */
  receiverOptions?: Readonly<Record<string, Partial<ReceiverOptions>>>;
  /** Events kept per alert fingerprint; default 200. */
  traceLimit?: number;
  /** How long a trace is kept after the alert's last event; default 24h. */
  traceRetentionMs?: number;
  /** How long notification log entries are kept; default 120h (Alertmanager's --data.retention). */
  logRetentionMs?: number;
}

/** send_resolved defaults of Alertmanager's integrations (config/notifiers.go). */
export const SEND_RESOLVED_DEFAULT = {
  webhook_configs: true,
  slack_configs: false,
  email_configs: false,
  pagerduty_configs: true,
  opsgenie_configs: true,
  telegram_configs: true,
  discord_configs: true,
  msteams_configs: true,
  msteamsv2_configs: true,
  ntfy_configs: true,
  pushover_configs: true,
  victorops_configs: true,
  sns_configs: true,
  wechat_configs: false,
  webex_configs: true,
  jira_configs: true,
  rocketchat_configs: true,
  mattermost_configs: true,
  incidentio_configs: true,
} satisfies Record<string, boolean>;

const LABEL_VALUE_MAX = 1 << 20;

/** types.AlertSlice order: job, then instance, then the label sets. */
function compareAlerts(a: LabelSet, b: LabelSet): number {
  for (const key of ["job", "instance"]) {
    const av = a[key];
    const bv = b[key];
    if (av === undefined && bv === undefined) continue;
    if (av === undefined) return 1;
    if (bv === undefined) return -1;
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return labelSetBefore(a, b) ? -1 : labelSetBefore(b, a) ? 1 : 0;
}

function labelSetBefore(a: LabelSet, b: LabelSet): boolean {
  const an = Object.keys(a).length;
  const bn = Object.keys(b).length;
  if (an !== bn) return an < bn;
  const names = [...Object.keys(a), ...Object.keys(b)].sort(compareGo);
  for (const name of names) {
    const av = a[name];
    if (av === undefined) return true;
    const bv = b[name];
    if (bv === undefined) return false;
    if (av !== bv) return av < bv;
  }
  return false;
}

function common(records: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = records;
  if (first === undefined) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((r) => r[k] === v)) out[k] = v;
  return out;
}

const isSubset = (sup: ReadonlySet<string>, sub: Iterable<string>) => {
  for (const x of sub) if (!sup.has(x)) return false;
  return true;
};

/** What a log entry's receiver was told is firing, and had not heard resolved yet. */
const announcedOf = (entry: LogEntry | undefined): readonly string[] =>
  entry?.announced ?? entry?.firing ?? [];

export class AlertDispatcher {
  private readonly clock: Clock;
  private config: RoutingConfig;
  private readonly notify: (request: NotificationRequest) => void;
  private readonly receiverOptions: Readonly<Record<string, Partial<ReceiverOptions>>>;
  private readonly traceLimit: number;
  private readonly traceRetentionMs: number;
  private readonly logRetentionMs: number;
  private routesById = new Map<string, RouteNode>();
  private seq = 0;
  private readonly alertsByFp = new Map<string, Alert>();
  private readonly groups = new Map<string, Group>();
  /**
   * The earliest nextFlushAt of any group (Infinity with none; -Infinity when not known, after a restore or a
   * reload): intake runs runDue() for every request, and walking a storm's thousand groups each time to find
   * nothing due was measurable.
   */
  private earliestDue = Number.NEGATIVE_INFINITY;
  private readonly log = new Map<string, LogEntry>();
  private readonly silencesById = new Map<string, Silence>();
  private readonly traces = new Map<string, TraceEvent[]>();
  private readonly mutes = new Map<string, MuteState>();
  private lastGcAt: number | undefined;
  private mutersCache: { at: number; seq: number; muters: Muters } | undefined;
  /** Per alert, bumped on every change to its saved record, so that a save skips the unchanged ones. */
  private readonly alertRevisions = new Map<string, number>();
  /** Alerts touched since a save recorded their revision (changesSince empties it as saves succeed). */
  private readonly unsavedAlerts = new Set<string>();
  /** The next changesSince compares every saved alert record (after construction and restore). */
  private compareAllSaved = true;
  /** Bumped on every change to a group, so that a save compares groups without serialising each one. */
  private readonly groupRevisions = new WeakMap<Group, number>();
  private readonly groupKeyHashes = new WeakMap<Group, string>();
  /** optionsFor() by receiver, for the current configuration (setConfig clears it). */
  private receiverOptionsCache = new Map<string, ReceiverOptions>();
  /**
   * Each alert version as sent, firing and resolved: every flush of every group that holds the version
   * shares one object, so the outbox renders its JSON once (stored-request.ts), not once per notification.
   */
  /** A log entry's firing fingerprints as the Set its flush built, for the next flush's dedup check. */
  private readonly logFiring = new WeakMap<LogEntry, ReadonlySet<string>>();
  private readonly notifiedVersions = new WeakMap<
    Alert,
    { firing?: NotifiedAlert; resolved?: NotifiedAlert }
  >();

  constructor(options: DispatcherOptions) {
    this.clock = options.clock;
    this.config = options.config;
    this.notify = options.notify;
    this.receiverOptions = options.receiverOptions ?? {};
    this.traceLimit = options.traceLimit ?? 200;
    this.traceRetentionMs = options.traceRetentionMs ?? 24 * 3_600_000;
    this.logRetentionMs = options.logRetentionMs ?? 120 * 3_600_000;
    this.indexRoutes();
  }

  private indexRoutes(): void {
    this.routesById = new Map(allRoutes(this.config.route).map((r) => [r.id, r]));
  }

  // ---- intake ------------------------------------------------------------------------------------------

  /**
   * Validates and stores alerts as Alertmanager's POST /api/v2/alerts does (empty labels dropped, startsAt
   * defaulted, endsAt = now + resolve_timeout when absent, overlapping updates merged) and routes them.
   */
  receive(alerts: readonly IncomingAlert[]): AlertIntakeResult {
    this.runDue();
    const now = this.clock.now();
    const rejected: AlertIntakeResult["rejected"] = [];
    let accepted = 0;
    alerts.forEach((incoming, index) => {
      const result = this.validate(incoming, now);
      if (typeof result === "string") {
        rejected.push({ index, reason: result });
        return;
      }
      accepted++;
      this.put(result, now);
    });
    return { accepted, rejected };
  }

  /**
   * Routes alerts the intake already validated and stored (validateAlert), without parsing their times and
   * labels or computing their fingerprints again. An alert that would end before it starts once its resolve
   * timeout is applied is left out, as receive() refuses it.
   */
  receiveChecked(alerts: readonly CheckedAlert[]): void {
    this.runDue();
    const now = this.clock.now();
    for (const checked of alerts) {
      const endsAt = checked.endsAt ?? now + this.config.resolveTimeoutMs;
      if (endsAt < checked.startsAt) continue;
      const alert: Alert = {
        fingerprint: checked.fingerprint,
        labels: checked.labels,
        annotations: { ...checked.annotations },
        startsAt: checked.startsAt,
        endsAt,
        timeout: checked.endsAt === null,
        updatedAt: now,
        version: 0,
      };
      if (checked.generatorURL) alert.generatorURL = checked.generatorURL;
      this.put(alert, now);
    }
  }

  private validate(incoming: IncomingAlert, now: number): Alert | string {
    const labels: Record<string, string> = {};
    for (const [name, value] of Object.entries(incoming.labels ?? {})) {
      if (value === "") continue;
      if (!isValidLabelName(name)) return `invalid name "${name}"`;
      if (typeof value !== "string" || value.length > LABEL_VALUE_MAX)
        return `invalid value "${String(value)}"`;
      labels[name] = value;
    }
    if (Object.keys(labels).length === 0) return "at least one label pair required";
    for (const name of Object.keys(incoming.annotations ?? {})) {
      if (!isValidLabelName(name)) return `invalid name "${name}"`;
    }
    const parse = (text: string | undefined, field: string): number | string | undefined => {
      if (text === undefined || text === "" || text.startsWith("0001-01-01")) return undefined;
      const t = Date.parse(text);
      return Number.isNaN(t) ? `${field}: not an RFC 3339 time: ${text}` : t;
    };
    const starts = parse(incoming.startsAt, "startsAt");
    const ends = parse(incoming.endsAt, "endsAt");
    if (typeof starts === "string") return starts;
    if (typeof ends === "string") return ends;
    const startsAt = starts ?? ends ?? now;
    const timeout = ends === undefined;
    const endsAt = ends ?? now + this.config.resolveTimeoutMs;
    if (endsAt < startsAt) return "start time must be before end time";
    const alert: Alert = {
      fingerprint: fingerprint(labels),
      labels,
      annotations: { ...(incoming.annotations ?? {}) },
      startsAt,
      endsAt,
      timeout,
      updatedAt: now,
      version: 0,
    };
    if (incoming.generatorURL) alert.generatorURL = incoming.generatorURL;
    return alert;
  }

  /** provider/mem Put and types.Alert.Merge: the younger alert wins, the earliest start is kept. */
  private put(incoming: Alert, now: number): void {
    let alert = incoming;
    const old = this.alertsByFp.get(alert.fingerprint);
    if (
      old &&
      ((alert.endsAt > old.startsAt && alert.endsAt < old.endsAt) ||
        (alert.startsAt > old.startsAt && alert.startsAt < old.endsAt))
    ) {
      const merged: Alert = { ...alert };
      if (old.startsAt < alert.startsAt) merged.startsAt = old.startsAt;
      const incomingResolved = alert.endsAt <= now;
      if (incomingResolved) {
        if (old.endsAt <= now && old.endsAt > alert.endsAt) merged.endsAt = old.endsAt;
      } else if (old.endsAt > alert.endsAt && !old.timeout) {
        merged.endsAt = old.endsAt;
        merged.timeout = false;
      }
      alert = merged;
    }
    // Senders repeat a firing alert on every evaluation (Prometheus: each minute, with a new endsAt). Such a
    // refresh is not traced: a trace says when the alert started, resolved, moved or was muted, and an alert
    // firing for days would otherwise fill its trace with copies and rewrite its saved record on every post.
    const refresh =
      old !== undefined &&
      !this.isResolvedAt(old, now) &&
      !this.isResolvedAt(alert, now) &&
      alert.startsAt === old.startsAt;
    alert.version = ++this.seq;
    this.alertsByFp.set(alert.fingerprint, alert);
    this.touchAlert(alert.fingerprint);
    if (!refresh)
      this.trace(alert.fingerprint, {
        at: now,
        type: "received",
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        timeout: alert.timeout,
      });
    this.route(alert, now, refresh);
  }

  /** Puts the alert in the groups of the routes it matches; a refresh traces only what changed. */
  private route(alert: Alert, now: number, refresh = false): void {
    const routes = matchRoutes(this.config.route, alert.labels);
    const routed = routes.map((r) => ({ routeId: r.id, receiver: r.receiver }));
    const last = this.traces.get(alert.fingerprint)?.findLast((e) => e.type === "routed");
    const sameRoutes =
      last?.type === "routed" &&
      last.routes.map((r) => r.routeId).join(",") === routed.map((r) => r.routeId).join(",");
    if (!refresh || !sameRoutes) this.trace(alert.fingerprint, { at: now, type: "routed", routes: routed });
    for (const route of routes) this.insert(route, alert, now, refresh && sameRoutes);
  }

  /** The alert's labels named in the route's group_by, in Go's name order (fingerprint() need not sort). */
  private groupLabels(route: RouteNode, labels: LabelSet): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of sortedLabelNames(labels)) {
      if (route.groupByAll || route.groupBy.includes(name)) out[name] = labels[name] as string;
    }
    return out;
  }

  private insert(route: RouteNode, alert: Alert, now: number, refresh = false): void {
    const labels = this.groupLabels(route, alert.labels);
    const id = `${route.id}|${fingerprint(labels)}`;
    let group = this.groups.get(id);
    const newGroup = group === undefined;
    if (group === undefined) {
      group = {
        id,
        routeId: route.id,
        routeKey: route.key,
        key: `${route.key}:${labelSetString(labels)}`,
        receiver: route.receiver,
        labels,
        alerts: new Map(),
        nextFlushAt: now + route.groupWaitMs,
        hasFlushed: false,
        createdSeq: ++this.seq,
      };
      this.groups.set(id, group);
    }
    group.alerts.set(alert.fingerprint, alert.version);
    // An alert that started long ago need not wait: the group flushes at once (aggrGroup.insert).
    if (!group.hasFlushed && alert.startsAt + route.groupWaitMs < now) group.nextFlushAt = now;
    if (group.nextFlushAt < this.earliestDue) this.earliestDue = group.nextFlushAt;
    this.touchGroup(group);
    if (refresh && !newGroup) return;
    this.trace(alert.fingerprint, {
      at: now,
      type: "grouped",
      routeId: route.id,
      receiver: route.receiver,
      groupKey: group.key,
      newGroup,
    });
  }

  // ---- time ----------------------------------------------------------------------------------------------

  /** When the next flush is due (ms), if any group exists. */
  nextWakeAt(): number | undefined {
    if (this.earliestDue === Number.NEGATIVE_INFINITY) {
      let next = Number.POSITIVE_INFINITY;
      for (const g of this.groups.values()) if (g.nextFlushAt < next) next = g.nextFlushAt;
      this.earliestDue = next;
    }
    return this.earliestDue === Number.POSITIVE_INFINITY ? undefined : this.earliestDue;
  }

  /** Performs every flush due by now, in time order, each at its own due time; returns how many ran. */
  runDue(): number {
    const now = this.clock.now();
    let ran = 0;
    // One pass over the groups, then a queue in due order: a flush changes no other group's timer, and a group
    // that is due again before now (a long pause) goes back into the queue at its place.
    const queue: Group[] = [];
    let notDue = Number.POSITIVE_INFINITY;
    const scan = now >= this.earliestDue;
    if (scan) {
      for (const g of this.groups.values()) {
        if (g.nextFlushAt <= now) queue.push(g);
        else if (g.nextFlushAt < notDue) notDue = g.nextFlushAt;
      }
      queue.sort(byDueOrder);
    }
    for (let i = 0; i < queue.length; i++) {
      const due = queue[i];
      if (due === undefined || this.groups.get(due.id) !== due) continue;
      const at = due.nextFlushAt;
      const route = this.routesById.get(due.routeId);
      due.nextFlushAt = at + (route?.groupIntervalMs ?? 300_000);
      due.hasFlushed = true;
      this.touchGroup(due);
      this.flush(due, at);
      ran++;
      if (due.nextFlushAt <= now && this.groups.get(due.id) === due) {
        let j = i + 1;
        for (let next = queue[j]; next !== undefined && byDueOrder(next, due) <= 0; next = queue[++j]);
        queue.splice(j, 0, due);
      }
    }
    if (scan) {
      // A flush creates and moves no group but its own (and may delete it).
      for (const g of queue)
        if (this.groups.get(g.id) === g && g.nextFlushAt < notDue) notDue = g.nextFlushAt;
      this.earliestDue = notDue;
    }
    // Garbage collection walks every alert and trace: at most once a minute of (simulated) time.
    if (this.lastGcAt === undefined || now - this.lastGcAt >= 60_000 || now < this.lastGcAt) {
      this.lastGcAt = now;
      this.collectGarbage(now);
    }
    return ran;
  }

  private isResolvedAt(alert: Alert, at: number): boolean {
    return alert.endsAt <= at;
  }

  private optionsFor(receiver: string): ReceiverOptions {
    let options = this.receiverOptionsCache.get(receiver);
    if (options === undefined) {
      options = this.computeOptionsFor(receiver);
      this.receiverOptionsCache.set(receiver, options);
    }
    return options;
  }

  private computeOptionsFor(receiver: string): ReceiverOptions {
    const configured = this.config.receivers.get(receiver);
    let sendResolved = true;
    if (configured) {
      const flags: boolean[] = [];
      for (const [field, def] of Object.entries(SEND_RESOLVED_DEFAULT)) {
        const list = (configured as Record<string, unknown>)[field];
        if (!Array.isArray(list)) continue;
        for (const integration of list) {
          const flag = (integration as { send_resolved?: unknown }).send_resolved;
          flags.push(typeof flag === "boolean" ? flag : def);
        }
      }
      if (flags.length > 0) sendResolved = flags.some(Boolean);
    }
    const own = this.receiverOptions[receiver] ?? {};
    return {
      sendResolvedAfterMute: own.sendResolvedAfterMute ?? true,
      sendResolved: own.sendResolved ?? sendResolved,
    };
  }

  /** What can mute alerts at an instant: the active silences and the firing alerts (inhibition sources). */
  private muters(at: number): Muters {
    // Groups that flush at the same instant share one view; any alert or silence change bumps seq.
    if (this.mutersCache?.at === at && this.mutersCache.seq === this.seq) return this.mutersCache.muters;
    const silences = [...this.silencesById.values()].filter((s) =>
      silenceActiveAt(s, at, this.config.timeIntervals),
    );
    // Without inhibit rules the firing alerts are not needed: no walk over every alert at each flush instant.
    const firing =
      this.config.inhibitRules.length === 0
        ? []
        : [...this.alertsByFp.values()].filter((a) => !this.isResolvedAt(a, at));
    const inhibitions = new InhibitionIndex(this.config.inhibitRules, firing);
    const muters = { silences, inhibitions };
    this.mutersCache = { at, seq: this.seq, muters };
    return muters;
  }

  private muteState(alert: Alert, muters: Muters): MuteState {
    if (muters.silences.length === 0 && muters.inhibitions.isEmpty()) return UNMUTED;
    const silencedBy = muters.silences.filter((s) => silenceMatches(s, alert.labels)).map((s) => s.id);
    const inhibitedBy = muters.inhibitions.find(alert.labels);
    return inhibitedBy ? { silencedBy, inhibitedBy } : { silencedBy };
  }

  private recordMute(alert: Alert, state: MuteState, at: number): void {
    const stored = this.mutes.get(alert.fingerprint);
    // Most alerts are never muted: they keep no mute state (none means not muted), and a flush that finds
    // them still not muted does nothing here.
    const unmuted = state.silencedBy.length === 0 && state.inhibitedBy === undefined;
    if (unmuted && stored === undefined) return;
    const before = stored ?? { silencedBy: [] };
    const fp = alert.fingerprint;
    // A new object on every flush: the saved record changes only when what it says does.
    if (stored === undefined || muteKey(stored) !== muteKey(state)) this.touchAlert(fp);
    if (state.silencedBy.join(",") !== before.silencedBy.join(",")) {
      this.trace(
        fp,
        state.silencedBy.length > 0
          ? { at, type: "silenced", silenceIds: state.silencedBy }
          : { at, type: "unsilenced" },
      );
    }
    const was = before.inhibitedBy;
    const now = state.inhibitedBy;
    if (now && (!was || was.source !== now.source || was.rule !== now.rule)) {
      const event: TraceEvent = { at, type: "inhibited", rule: now.rule, source: now.source };
      if (now.ruleName !== undefined) event.ruleName = now.ruleName;
      this.trace(fp, event);
    } else if (!now && was) this.trace(fp, { at, type: "uninhibited" });
    if (unmuted) this.mutes.delete(fp);
    else this.mutes.set(fp, state);
  }

  private flush(group: Group, at: number): void {
    const route = this.routesById.get(group.routeId);
    const present: Alert[] = [];
    for (const fp of group.alerts.keys()) {
      const alert = this.alertsByFp.get(fp);
      if (alert !== undefined) present.push(alert);
    }
    present.sort((a, b) => compareAlerts(a.labels, b.labels));
    const logKey = `${group.receiver}|${group.key}`;
    const entry = this.log.get(logKey);
    const options = this.optionsFor(group.receiver);
    // Asked only about muted or time-muted alerts: most flushes never build it.
    let announcedSet: Set<string> | undefined;
    const isAnnounced = (fp: string): boolean => {
      if (announcedSet === undefined) announcedSet = new Set(announcedOf(entry));
      return announcedSet.has(fp);
    };

    // Mute stages: inhibition and silences per alert; Nines keeps the resolve of an alert it had announced.
    let kept: Alert[] = present;
    const keptAfterMute = new Set<string>();
    const muters = this.muters(at);
    if (muters.silences.length > 0 || !muters.inhibitions.isEmpty() || this.mutes.size > 0) {
      kept = [];
      for (const alert of present) {
        const state = this.muteState(alert, muters);
        this.recordMute(alert, state, at);
        const muted = state.inhibitedBy !== undefined || state.silencedBy.length > 0;
        if (!muted) kept.push(alert);
        else if (
          options.sendResolvedAfterMute &&
          this.isResolvedAt(alert, at) &&
          isAnnounced(alert.fingerprint)
        ) {
          kept.push(alert);
          keptAfterMute.add(alert.fingerprint);
        }
      }
    }

    const outcome = this.notifyGroup(group, route, kept, keptAfterMute, entry, options, at);
    // Resolved alerts leave the group once a flush saw them, unless they changed since (DeleteIfNotModified).
    // Nines holds back an announced alert's resolve while a time interval mutes the route, to send it after.
    const after = this.log.get(logKey);
    for (const alert of present) {
      const fp = alert.fingerprint;
      if (!this.isResolvedAt(alert, at) || group.alerts.get(fp) !== alert.version) continue;
      if (outcome === "time-muted" && options.sendResolvedAfterMute && isAnnounced(fp)) continue;
      group.alerts.delete(fp);
      this.touchGroup(group);
      const stillAnnounced = announcedOf(after);
      if (after !== undefined && stillAnnounced.includes(fp))
        after.announced = stillAnnounced.filter((x) => x !== fp);
    }
    if (group.alerts.size === 0) this.groups.delete(group.id);
  }

  /** The notification stages after muting: time intervals, dedup against the notification log, emission. */
  private notifyGroup(
    group: Group,
    route: RouteNode | undefined,
    kept: readonly Alert[],
    keptAfterMute: ReadonlySet<string>,
    entry: LogEntry | undefined,
    options: ReceiverOptions,
    at: number,
  ): "nothing" | "time-muted" | "deduplicated" | "notified" {
    if (kept.length === 0) return "nothing";
    if (route && this.timeMuted(route, at, group, kept)) return "time-muted";
    const logKey = `${group.receiver}|${group.key}`;

    const firing: Alert[] = [];
    const resolved: Alert[] = [];
    for (const a of kept) (this.isResolvedAt(a, at) ? resolved : firing).push(a);
    const firingSet = new Set<string>();
    for (const a of firing) firingSet.add(a.fingerprint);
    const resolvedSet = new Set<string>();
    for (const a of resolved) resolvedSet.add(a.fingerprint);
    if (
      !this.needsUpdate(entry, firingSet, resolvedSet, options.sendResolved, route?.repeatIntervalMs ?? 0, at)
    )
      return "deduplicated";

    const next: LogEntry = { firing: [...firingSet], resolved: [...resolvedSet], at };
    // Announced now: what was announced before and what fires now, less what is resolved now. Unless an
    // announced alert neither fires nor resolves here (it left the group muted), that is what fires now.
    const before = announcedOf(entry);
    if (before.some((fp) => !firingSet.has(fp) && !resolvedSet.has(fp))) {
      const stillAnnounced = new Set(before);
      for (const fp of firingSet) stillAnnounced.add(fp);
      for (const fp of resolvedSet) stillAnnounced.delete(fp);
      next.announced = [...stillAnnounced];
    }
    this.log.set(logKey, next);
    this.logFiring.set(next, firingSet);
    const sent = options.sendResolved ? [...firing, ...resolved] : firing;
    if (sent.length > 0) {
      const idempotencyKey = `${this.groupKeyHash(group)}-${at}`;
      const alerts = sent.map((a) => this.notifiedVersion(a, this.isResolvedAt(a, at)));
      const request: NotificationRequest = {
        idempotencyKey,
        receiver: group.receiver,
        groupKey: group.key,
        groupLabels: group.labels,
        commonLabels: common(sent.map((a) => a.labels)),
        commonAnnotations: common(sent.map((a) => a.annotations)),
        status: firing.length > 0 ? "firing" : "resolved",
        alerts,
        firingCount: firing.length,
        resolvedCount: sent.length - firing.length,
        routeId: group.routeId,
        at,
      };
      for (const a of sent) {
        const status = this.isResolvedAt(a, at) ? "resolved" : "firing";
        const afterMute = keptAfterMute.has(a.fingerprint);
        if (this.continuesRun(a.fingerprint, group, status, afterMute)) continue;
        const event: TraceEvent = {
          at,
          type: "notified",
          receiver: group.receiver,
          groupKey: group.key,
          status,
          idempotencyKey,
        };
        if (afterMute) event.afterMute = true;
        this.trace(a.fingerprint, event);
      }
      this.notify(request);
    }
    return "notified";
  }

  /** The fingerprint of (receiver, group key) that a group's idempotency keys start with, kept per group. */
  private groupKeyHash(group: Group): string {
    let hash = this.groupKeyHashes.get(group);
    if (hash === undefined) {
      hash = fingerprint({ receiver: group.receiver, groupKey: group.key });
      this.groupKeyHashes.set(group, hash);
    }
    return hash;
  }

  /** The alert as sent with this status; the same object for the same alert version (never edit it). */
  private notifiedVersion(a: Alert, isResolved: boolean): NotifiedAlert {
    let versions = this.notifiedVersions.get(a);
    if (versions === undefined) {
      versions = {};
      this.notifiedVersions.set(a, versions);
    }
    const cached = isResolved ? versions.resolved : versions.firing;
    if (cached !== undefined) return cached;
    const n: NotifiedAlert = {
      fingerprint: a.fingerprint,
      status: isResolved ? "resolved" : "firing",
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.startsAt,
      endsAt: isResolved ? a.endsAt : 0,
    };
    if (a.generatorURL !== undefined) n.generatorURL = a.generatorURL;
    if (isResolved) versions.resolved = n;
    else versions.firing = n;
    return n;
  }

  /**
   * True when the alert's trace already holds a "notified" event for this receiver's group with the same
   * status, and only notifications of other groups came after it: this notification belongs to that run.
   * Recording every repeat made each flush of a group rewrite the saved record of every alert in it.
   */
  private continuesRun(fp: string, group: Group, status: "firing" | "resolved", afterMute: boolean): boolean {
    const events = this.traces.get(fp);
    if (events === undefined) return false;
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      if (e?.type !== "notified") return false;
      if (e.receiver === group.receiver && e.groupKey === group.key)
        return e.status === status && (e.afterMute ?? false) === afterMute;
    }
    return false;
  }

  /** TimeActiveStage and TimeMuteStage: outside its active intervals or inside a mute one, a route is quiet. */
  private timeMuted(route: RouteNode, at: number, group: Group, alerts: readonly Alert[]): boolean {
    const intervals = this.config.timeIntervals;
    let reason: string | undefined;
    if (
      route.activeTimeIntervals.length > 0 &&
      !route.activeTimeIntervals.some((n) => anyIntervalContains(intervals.get(n) ?? [], at))
    ) {
      reason = `outside active_time_intervals ${route.activeTimeIntervals.join(", ")}`;
    } else {
      const mute = route.muteTimeIntervals.find((n) => anyIntervalContains(intervals.get(n) ?? [], at));
      if (mute !== undefined) reason = `inside mute_time_interval ${mute}`;
    }
    if (reason === undefined) return false;
    for (const a of alerts) {
      const events = this.traces.get(a.fingerprint);
      const last = events?.[events.length - 1];
      if (last?.type === "time-muted" && last.groupKey === group.key) continue;
      this.trace(a.fingerprint, {
        at,
        type: "time-muted",
        receiver: group.receiver,
        groupKey: group.key,
        reason,
      });
    }
    return true;
  }

  /** DedupStage.needsUpdate from notify/notify.go. */
  private needsUpdate(
    entry: LogEntry | undefined,
    firing: ReadonlySet<string>,
    resolved: ReadonlySet<string>,
    sendResolved: boolean,
    repeatMs: number,
    at: number,
  ): boolean {
    if (entry === undefined) return firing.size > 0;
    if (!isSubset(this.logFiring.get(entry) ?? new Set(entry.firing), firing)) return true;
    // All alerts resolved: notify (send_resolved or not) so the receiver's view of firing alerts is cleared.
    if (firing.size === 0) return entry.firing.length > 0;
    if (sendResolved && !isSubset(new Set(entry.resolved), resolved)) return true;
    return entry.at < at - repeatMs;
  }

  private collectGarbage(now: number): void {
    const grouped = new Set<string>();
    for (const g of this.groups.values()) for (const fp of g.alerts.keys()) grouped.add(fp);
    for (const [fp, a] of this.alertsByFp) {
      if (a.endsAt <= now && !grouped.has(fp)) {
        this.alertsByFp.delete(fp);
        this.mutes.delete(fp);
        this.touchAlert(fp);
      }
    }
    for (const [key, e] of this.log) if (e.at < now - this.logRetentionMs) this.log.delete(key);
    for (const [fp, events] of this.traces) {
      const last = events[events.length - 1];
      if (!this.alertsByFp.has(fp) && (last === undefined || last.at < now - this.traceRetentionMs)) {
        this.traces.delete(fp);
        this.unsavedAlerts.add(fp);
      }
    }
    for (const fp of this.alertRevisions.keys())
      if (!this.alertsByFp.has(fp) && !this.traces.has(fp) && !this.mutes.has(fp))
        this.alertRevisions.delete(fp);
    for (const [id, s] of this.silencesById)
      if (s.endsAt < now - this.logRetentionMs) this.silencesById.delete(id);
  }

  private trace(fp: string, event: TraceEvent): void {
    let events = this.traces.get(fp);
    if (events === undefined) {
      events = [];
      this.traces.set(fp, events);
    }
    events.push(event);
    if (events.length > this.traceLimit) events.splice(0, events.length - this.traceLimit);
    this.touchAlert(fp);
  }

  // ---- silences ------------------------------------------------------------------------------------------

  /** Adds or replaces a silence; expected problems are returned, not thrown. */
  addSilence(input: SilenceInput): { ok: true; id: string } | { ok: false; problems: string[] } {
    const now = this.clock.now();
    const parsed = parseSilence(
      input,
      now,
      () => `s-${now.toString(36)}-${(++this.seq).toString(36)}`,
      new Set(this.config.timeIntervals.keys()),
    );
    if (!parsed.silence) return { ok: false, problems: parsed.problems };
    this.silencesById.set(parsed.silence.id, parsed.silence);
    this.seq++;
    return { ok: true, id: parsed.silence.id };
  }

  /** Ends a silence now; false when there is none with that id. */
  expireSilence(id: string): boolean {
    const s = this.silencesById.get(id);
    if (!s) return false;
    const now = this.clock.now();
    if (s.startsAt > now) s.startsAt = now;
    s.endsAt = now;
    this.seq++;
    return true;
  }

  silences(): Silence[] {
    return [...this.silencesById.values()];
  }

  // ---- reading -----------------------------------------------------------------------------------------

  /** Every alert with its state as of now, as Alertmanager's GET /api/v2/alerts reports it. */
  alerts(): AlertStatus[] {
    const now = this.clock.now();
    const muters = this.muters(now);
    return [...this.alertsByFp.values()].map((alert) => {
      const state = this.muteState(alert, muters);
      const receivers = matchRoutes(this.config.route, alert.labels).map((r) => r.receiver);
      const inhibitedBy = state.inhibitedBy ? [state.inhibitedBy.source] : [];
      const resolved = this.isResolvedAt(alert, now);
      return {
        alert,
        state: resolved
          ? "resolved"
          : state.silencedBy.length > 0 || inhibitedBy.length > 0
            ? "suppressed"
            : "active",
        silencedBy: state.silencedBy,
        inhibitedBy,
        receivers,
      };
    });
  }

  groupsStatus(): GroupStatus[] {
    return [...this.groups.values()].map((g) => ({
      groupKey: g.key,
      routeId: g.routeId,
      receiver: g.receiver,
      labels: g.labels,
      alerts: [...g.alerts.keys()],
      nextFlushAt: g.nextFlushAt,
      hasFlushed: g.hasFlushed,
    }));
  }

  /** The history of one alert (by Alertmanager fingerprint): routes, groups, silences, inhibitions, notifications. */
  traceOf(fp: string): TraceEvent[] | undefined {
    const events = this.traces.get(fp);
    return events ? [...events] : undefined;
  }

  // ---- configuration and persistence ---------------------------------------------------------------------

  /**
   * Applies a new configuration as Alertmanager's reload does: groups are rebuilt from the stored alerts
   * (an alert older than group_wait flushes at once), the notification log is kept so nothing repeats early.
   */
  setConfig(config: RoutingConfig): void {
    this.runDue();
    this.config = config;
    this.mutersCache = undefined;
    this.receiverOptionsCache = new Map();
    this.indexRoutes();
    this.groups.clear();
    this.earliestDue = Number.NEGATIVE_INFINITY;
    const now = this.clock.now();
    for (const alert of this.alertsByFp.values()) if (!this.isResolvedAt(alert, now)) this.route(alert, now);
  }

  /** Plain JSON of the whole state, to store and resume after a restart. */
  snapshot(): RoutingSnapshot {
    return structuredClone({
      version: 1 as const,
      seq: this.seq,
      alerts: [...this.alertsByFp.values()],
      groups: [...this.groups.values()].map((g) => ({ ...g, alerts: [...g.alerts.entries()] })),
      log: [...this.log.entries()],
      silences: [...this.silencesById.values()],
      traces: [...this.traces.entries()],
      mutes: [...this.mutes.entries()],
    });
  }

  /** Records that an alert's saved record (alert, mute or trace) changed; returns its new revision. */
  private touchAlert(fp: string): number {
    const revision = ++alertRevisionSeq;
    this.alertRevisions.set(fp, revision);
    this.unsavedAlerts.add(fp);
    return revision;
  }

  private touchGroup(group: Group): void {
    this.groupRevisions.set(group, (this.groupRevisions.get(group) ?? 0) + 1);
  }

  /**
   * The parts of the state that differ from what `saved` says was last written, so that a save writes only
   * those. Alerts and log entries are replaced on change, never edited, and a trace only grows, so they are
   * compared by reference; a group and an alert's record by their revision (touchGroup, touchAlert); a part
   * read back at start (a JSON token) by its JSON, once. Without `periodic`, aggregation groups and alert
   * records are left for a later save (their changes are neither listed nor forgotten): only the notification
   * log.
   */
  changesSince(saved: Readonly<SavedParts>, options: { periodic?: boolean } = {}): RoutingStateChanges {
    const periodic = options.periodic ?? true;
    const changes: RoutingStateChanges = { seq: this.seq, changed: [], unchanged: [], removed: [] };
    const visit = (kind: PartKind, id: string, token: readonly unknown[], json: () => string) => {
      const before = saved[kind].get(id);
      if (typeof before === "object" && sameToken(before, token)) return;
      const text = json();
      if (before === text) changes.unchanged.push({ kind, id, token });
      else changes.changed.push({ kind, id, key: partKey(kind, id), json: text, token });
    };
    // The same two references as saved: unchanged, checked before building a token (thousands per save).
    const same = (before: SavedPartToken | undefined, a: unknown, b: unknown) =>
      typeof before === "object" && before.length === 2 && before[0] === a && before[1] === b;
    if (periodic)
      for (const g of this.groups.values()) {
        const revision = this.groupRevisions.get(g) ?? 0;
        if (same(saved.group.get(g.id), g, revision)) continue;
        visit("group", g.id, [g, revision], () => JSON.stringify({ ...g, alerts: [...g.alerts.entries()] }));
      }
    for (const [key, entry] of this.log) {
      if (same(saved.log.get(key), entry, entry.announced)) continue;
      visit("log", key, [entry, entry.announced], () => JSON.stringify({ key, entry }));
    }
    const gone = (kind: PartKind, exists: (id: string) => boolean) => {
      for (const id of saved[kind].keys())
        if (!exists(id)) changes.removed.push({ kind, id, key: partKey(kind, id) });
    };
    gone("log", (id) => this.log.has(id));
    if (!periodic) return changes;
    gone("group", (id) => this.groups.has(id));
    const exists = (fp: string) => this.alertsByFp.has(fp) || this.traces.has(fp) || this.mutes.has(fp);
    // A new or restored dispatcher does not know what `saved` holds: its first save compares every saved
    // alert once. After that only alerts touched since (garbage collection touches what it deletes) can
    // differ, so a save costs what changed, not the number of alerts.
    if (this.compareAllSaved) {
      for (const fp of saved.alert.keys()) if (!exists(fp)) this.unsavedAlerts.add(fp);
      this.compareAllSaved = false;
    }
    // One whose saved token is its revision was saved (the save after the touch succeeded) and leaves the
    // set; one that is gone stays until a save removed its record.
    for (const fp of this.unsavedAlerts) {
      if (!exists(fp)) {
        if (saved.alert.has(fp)) changes.removed.push({ kind: "alert", id: fp, key: partKey("alert", fp) });
        else this.unsavedAlerts.delete(fp);
        continue;
      }
      const revision = this.alertRevisions.get(fp) ?? this.touchAlert(fp);
      const before = saved.alert.get(fp);
      if (typeof before === "object" && before.length === 1 && before[0] === revision) {
        this.unsavedAlerts.delete(fp);
        continue;
      }
      visit("alert", fp, [revision], () =>
        encodeAlertRecord(savedAlertRecord(this.alertsByFp.get(fp), this.mutes.get(fp), this.traces.get(fp))),
      );
    }
    return changes;
  }

  /**
   * Resumes from a snapshot under the current configuration. Groups whose route still exists with the same
   * matchers keep their timers (a flush missed while down runs once, now); other alerts are routed afresh.
   */
  restore(snapshot: RoutingSnapshot): void {
    const now = this.clock.now();
    const copy = structuredClone(snapshot);
    this.mutersCache = undefined;
    this.seq = Math.max(this.seq, copy.seq);
    this.alertsByFp.clear();
    for (const a of copy.alerts) this.alertsByFp.set(a.fingerprint, a);
    this.log.clear();
    for (const [k, e] of copy.log) this.log.set(k, e);
    this.silencesById.clear();
    for (const s of copy.silences) this.silencesById.set(s.id, s);
    this.traces.clear();
    for (const [fp, events] of copy.traces) this.traces.set(fp, events);
    this.mutes.clear();
    for (const [fp, m] of copy.mutes) this.mutes.set(fp, m);
    this.alertRevisions.clear();
    this.unsavedAlerts.clear();
    this.compareAllSaved = true;
    for (const fp of [...this.alertsByFp.keys(), ...this.traces.keys(), ...this.mutes.keys()])
      this.touchAlert(fp);
    this.groups.clear();
    this.earliestDue = Number.NEGATIVE_INFINITY;
    const covered = new Set<string>();
    for (const g of copy.groups) {
      const route = this.routesById.get(g.routeId);
      if (!route || route.key !== g.routeKey || route.receiver !== g.receiver) continue;
      const group: Group = { ...g, alerts: new Map(g.alerts), nextFlushAt: Math.max(g.nextFlushAt, now) };
      this.groups.set(group.id, group);
      for (const fp of group.alerts.keys()) covered.add(`${route.id}|${fp}`);
    }
    for (const alert of this.alertsByFp.values()) {
      if (this.isResolvedAt(alert, now)) continue;
      for (const route of matchRoutes(this.config.route, alert.labels)) {
        if (!covered.has(`${route.id}|${alert.fingerprint}`)) this.insert(route, alert, now);
      }
    }
  }
}
