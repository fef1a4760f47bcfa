import type { SavedAlertRecord, TraceEvent } from "./dispatcher.js";

/**
 * How an alert's saved record (its routing state and trace) is written: events as arrays led by a type code,
 * and the route ids, receivers and group keys they repeat in a table of strings, referenced by index. An
 * alert storm saves one record per alert, and the JSON of objects (every event repeating its field names and
 * the long group keys) was about half of those bytes and of the work to write them. Records written as plain
 * JSON before this format are read as they are.
 */

type EncodedEvent = ReadonlyArray<unknown>;

interface EncodedRecord {
  v: 2;
  /** startsAt, endsAt, timeout (1/0), updatedAt, version. */
  a?: [number, number, 0 | 1, number, number];
  m?: SavedAlertRecord["mute"];
  /** The strings the events refer to by index. */
  s?: string[];
  t?: EncodedEvent[];
}

// The alert part's fields, checked at compile time: a field added to Alert must be written here as well.
type SavedAlertFields = keyof NonNullable<SavedAlertRecord["alert"]>;
const ALERT_FIELDS: Record<SavedAlertFields, true> = {
  startsAt: true,
  endsAt: true,
  timeout: true,
  updatedAt: true,
  version: true,
};
void ALERT_FIELDS;

export function encodeAlertRecord(record: SavedAlertRecord): string {
  const out: EncodedRecord = { v: 2 };
  const a = record.alert;
  if (a !== undefined) out.a = [a.startsAt, a.endsAt, a.timeout ? 1 : 0, a.updatedAt, a.version];
  if (record.mute !== undefined) out.m = record.mute;
  if (record.trace !== undefined) {
    const strings: string[] = [];
    const index = new Map<string, number>();
    const ref = (s: string): number => {
      let i = index.get(s);
      if (i === undefined) {
        i = strings.push(s) - 1;
        index.set(s, i);
      }
      return i;
    };
    out.t = record.trace.map((e) => encodeEvent(e, ref));
    out.s = strings;
  }
  return JSON.stringify(out);
}

function encodeEvent(e: TraceEvent, ref: (s: string) => number): EncodedEvent {
  switch (e.type) {
    case "received":
      return [0, e.at, e.startsAt, e.endsAt, e.timeout ? 1 : 0];
    case "routed":
      return [1, e.at, e.routes.map((r) => [ref(r.routeId), ref(r.receiver)])];
    case "grouped":
      return [2, e.at, ref(e.routeId), ref(e.receiver), ref(e.groupKey), e.newGroup ? 1 : 0];
    case "silenced":
      return [3, e.at, e.silenceIds];
    case "unsilenced":
      return [4, e.at];
    case "inhibited":
      return e.ruleName === undefined ? [5, e.at, e.rule, e.source] : [5, e.at, e.rule, e.source, e.ruleName];
    case "uninhibited":
      return [6, e.at];
    case "time-muted":
      return [7, e.at, ref(e.receiver), ref(e.groupKey), e.reason];
    case "notified": {
      const status = e.status === "resolved" ? 1 : 0;
      const head = [8, e.at, ref(e.receiver), ref(e.groupKey), status, e.idempotencyKey];
      return e.afterMute === undefined ? head : [...head, e.afterMute ? 1 : 0];
    }
    case "rejected":
      return [9, e.at, e.reason];
    default: {
      const unknown: never = e;
      throw new Error(`no encoding for trace event ${JSON.stringify(unknown)}`);
    }
  }
}

/** A saved record, in this format or the plain JSON written before it. */
export function decodeAlertRecord(json: string): SavedAlertRecord {
  const parsed = JSON.parse(json) as EncodedRecord | SavedAlertRecord;
  if (!("v" in parsed) || parsed.v !== 2) return parsed as SavedAlertRecord;
  const record: SavedAlertRecord = {};
  if (parsed.a !== undefined) {
    const [startsAt, endsAt, timeout, updatedAt, version] = parsed.a;
    record.alert = { startsAt, endsAt, timeout: timeout === 1, updatedAt, version };
  }
  if (parsed.m !== undefined) record.mute = parsed.m;
  if (parsed.t !== undefined) {
    const strings = parsed.s ?? [];
    const str = (i: unknown): string => strings[i as number] ?? "";
    record.trace = parsed.t.map((e) => decodeEvent(e, str));
  }
  return record;
}

function decodeEvent(e: EncodedEvent, str: (i: unknown) => string): TraceEvent {
  const at = e[1] as number;
  switch (e[0]) {
    case 0:
      return {
        at,
        type: "received",
        startsAt: e[2] as number,
        endsAt: e[3] as number,
        timeout: e[4] === 1,
      };
    case 1:
      return {
        at,
        type: "routed",
        routes: (e[2] as Array<[number, number]>).map(([route, receiver]) => ({
          routeId: str(route),
          receiver: str(receiver),
        })),
      };
    case 2:
      return {
        at,
        type: "grouped",
        routeId: str(e[2]),
        receiver: str(e[3]),
        groupKey: str(e[4]),
        newGroup: e[5] === 1,
      };
    case 3:
      return { at, type: "silenced", silenceIds: e[2] as string[] };
    case 4:
      return { at, type: "unsilenced" };
    case 5: {
      const event: TraceEvent = { at, type: "inhibited", rule: e[2] as number, source: e[3] as string };
      if (e.length > 4) event.ruleName = e[4] as string;
      return event;
    }
    case 6:
      return { at, type: "uninhibited" };
    case 7:
      return { at, type: "time-muted", receiver: str(e[2]), groupKey: str(e[3]), reason: e[4] as string };
    case 8: {
      const event: TraceEvent = {
        at,
        type: "notified",
        receiver: str(e[2]),
        groupKey: str(e[3]),
        status: e[4] === 1 ? "resolved" : "firing",
        idempotencyKey: e[5] as string,
      };
      if (e.length > 6) event.afterMute = e[6] === 1;
      return event;
    }
    case 9:
      return { at, type: "rejected", reason: e[2] as string };
    default:
      throw new Error(`saved alert record: unknown trace event code ${JSON.stringify(e[0])}`);
  }
}
