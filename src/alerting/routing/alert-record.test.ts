import { describe, expect, it } from "vitest";
import { decodeAlertRecord, encodeAlertRecord } from "./alert-record.js";
import type { SavedAlertRecord, TraceEvent } from "./dispatcher.js";

const T = Date.UTC(2026, 11, 1, 7);
const KEY = '{}/{severity="critical"}:{alertname="Disk", cluster="c1"}';

/** One event of every type, with and without their optional fields. */
const EVERY_EVENT: TraceEvent[] = [
  { at: T, type: "received", startsAt: T, endsAt: T + 300_000, timeout: true },
  { at: T, type: "received", startsAt: T - 5, endsAt: T + 5, timeout: false },
  {
    at: T,
    type: "routed",
    routes: [
      { routeId: "0.1", receiver: "critical" },
      { routeId: "0.2", receiver: "team" },
    ],
  },
  { at: T, type: "routed", routes: [] },
  { at: T, type: "grouped", routeId: "0.1", receiver: "critical", groupKey: KEY, newGroup: true },
  { at: T + 1, type: "grouped", routeId: "0.1", receiver: "critical", groupKey: KEY, newGroup: false },
  { at: T + 2, type: "silenced", silenceIds: ["s1", "s2"] },
  { at: T + 3, type: "unsilenced" },
  { at: T + 4, type: "inhibited", rule: 0, source: "abc" },
  { at: T + 5, type: "inhibited", rule: 2, ruleName: "node down", source: "def" },
  { at: T + 6, type: "uninhibited" },
  { at: T + 7, type: "time-muted", receiver: "team", groupKey: KEY, reason: 'mute_time_intervals "night"' },
  {
    at: T + 8,
    type: "notified",
    receiver: "critical",
    groupKey: KEY,
    status: "firing",
    idempotencyKey: "e79babe0b9593f00-1796083200000",
  },
  {
    at: T + 9,
    type: "notified",
    receiver: "team",
    groupKey: KEY,
    status: "resolved",
    idempotencyKey: "k-2",
    afterMute: true,
  },
  {
    at: T + 10,
    type: "notified",
    receiver: "team",
    groupKey: KEY,
    status: "firing",
    idempotencyKey: "k-3",
    afterMute: false,
  },
  { at: T + 11, type: "rejected", reason: "invalid label set" },
];

describe("saved alert records", () => {
  it("read back every trace event, the alert's state and its mute state as written", () => {
    const record: SavedAlertRecord = {
      alert: { startsAt: T, endsAt: T + 300_000, timeout: true, updatedAt: T, version: 7 },
      mute: { silencedBy: ["s1"], inhibitedBy: { rule: 1, source: "abc" } },
      trace: EVERY_EVENT,
    };
    expect(decodeAlertRecord(encodeAlertRecord(record))).toEqual(record);
    expect(decodeAlertRecord(encodeAlertRecord({}))).toEqual({});
    expect(decodeAlertRecord(encodeAlertRecord({ trace: [] }))).toEqual({ trace: [] });
  });

  it("write each route, receiver and group key once, in far fewer bytes than plain JSON", () => {
    const record: SavedAlertRecord = { trace: EVERY_EVENT };
    const encoded = encodeAlertRecord(record);
    expect(encoded.split(KEY.replaceAll('"', '\\"')).length - 1).toBe(1);
    expect(encoded.length).toBeLessThan(JSON.stringify(record).length * 0.6);
  });

  it("read records saved as plain JSON before this format", () => {
    const record: SavedAlertRecord = {
      alert: { startsAt: T, endsAt: T + 1, timeout: false, updatedAt: T, version: 1 },
      trace: EVERY_EVENT.slice(0, 3),
    };
    expect(decodeAlertRecord(JSON.stringify(record))).toEqual(record);
  });
});
