import type { Kysely } from "kysely";
import { compiledRows } from "../../platform/db/compiled-rows.js";
import type { Schema } from "../../platform/db/schema.js";
import type {
  Alert,
  RoutingSnapshot,
  RoutingStateChanges,
  SavedAlertRecord,
  SavedParts,
} from "../routing/dispatcher.js";
import { decodeAlertRecord } from "../routing/alert-record.js";
import { loadAlertsByFingerprint } from "./alert-store.js";

/**
 * The routing state lives in alerting_state as one row per part (a group, a notification log entry, an
 * alert's record) under ROW_PREFIX, plus META_KEY; a save writes the parts that changed. Before that it was
 * one snapshot row under LEGACY_KEY, still read once and then replaced.
 */
const ROW_PREFIX = "routing/";
const META_KEY = "routing-meta";
const LEGACY_KEY = "routing";
/** Rows a statement: three parameters each stays under SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 300;

export function emptySavedParts(): SavedParts {
  return { group: new Map(), log: new Map(), alert: new Map() };
}

interface Meta {
  version: 2;
  savedAt: number;
  seq: number;
  /**
   * When every alert record was last saved (saves in between write only the notification log); absent in
   * rows written before records were saved by period, when every save wrote them.
   */
  recordsSavedAt?: number;
}

export interface LoadedRoutingState {
  /** When every alert's record was last saved: an alert stored after it may be missing from the state. */
  savedAt: number;
  snapshot: RoutingSnapshot;
  /** Each part's JSON as stored, for the first save after start to skip what did not change. */
  parts: SavedParts;
  /** A snapshot row of an earlier version was read: the first save deletes it. */
  legacy: boolean;
  /** Alerts of the saved state whose row in the alerts table is gone (pruned); they are left out. */
  missingAlerts: number;
}

/** Reads the saved routing state; undefined when nothing was saved yet. */
export async function loadRoutingState(db: Kysely<Schema>): Promise<LoadedRoutingState | undefined> {
  const rows = await db.selectFrom("alerting_state").select(["key", "value"]).execute();
  const legacy = rows.find((r) => r.key === LEGACY_KEY);
  const metaRow = rows.find((r) => r.key === META_KEY);
  if (metaRow === undefined) {
    if (legacy === undefined) return undefined;
    const saved = JSON.parse(legacy.value) as { savedAt: number; snapshot: RoutingSnapshot };
    return { ...saved, parts: emptySavedParts(), legacy: true, missingAlerts: 0 };
  }
  const meta = JSON.parse(metaRow.value) as Meta;
  const parts = emptySavedParts();
  const snapshot: RoutingSnapshot = {
    version: 1,
    seq: meta.seq,
    alerts: [],
    groups: [],
    log: [],
    // Silences are stored in their own table and come back from it and from the configuration.
    silences: [],
    traces: [],
    mutes: [],
  };
  const records = new Map<string, SavedAlertRecord>();
  for (const row of rows) {
    if (!row.key.startsWith(ROW_PREFIX)) continue;
    const key = row.key.slice(ROW_PREFIX.length);
    if (key.startsWith("group")) {
      const group = JSON.parse(row.value) as RoutingSnapshot["groups"][number];
      snapshot.groups.push(group);
      parts.group.set(group.id, row.value);
    } else if (key.startsWith("log")) {
      const { key: logKey, entry } = JSON.parse(row.value) as {
        key: string;
        entry: RoutingSnapshot["log"][number][1];
      };
      snapshot.log.push([logKey, entry]);
      parts.log.set(logKey, row.value);
    } else if (key.startsWith("alert:")) {
      const fp = key.slice("alert:".length);
      records.set(fp, decodeAlertRecord(row.value));
      parts.alert.set(fp, row.value);
    }
  }
  const stored = await loadAlertsByFingerprint(
    db,
    [...records].filter(([, r]) => r.alert !== undefined).map(([fp]) => fp),
  );
  let missingAlerts = 0;
  for (const [fp, record] of records) {
    if (record.trace !== undefined) snapshot.traces.push([fp, record.trace]);
    if (record.alert === undefined) continue;
    const row = stored.get(fp);
    if (row === undefined) {
      missingAlerts++;
      continue;
    }
    const alert: Alert = {
      fingerprint: fp,
      labels: row.labels,
      annotations: row.annotations,
      ...record.alert,
    };
    if (row.generatorURL !== null) alert.generatorURL = row.generatorURL;
    snapshot.alerts.push(alert);
    if (record.mute !== undefined) snapshot.mutes.push([fp, record.mute]);
  }
  if (missingAlerts > 0) {
    // A group keeps only alerts it can show; one left with none is dropped.
    const known = new Set(snapshot.alerts.map((a) => a.fingerprint));
    snapshot.groups = snapshot.groups
      .map((g) => ({ ...g, alerts: g.alerts.filter(([fp]) => known.has(fp)) }))
      .filter((g) => g.alerts.length > 0);
  }
  return {
    savedAt: meta.recordsSavedAt ?? meta.savedAt,
    snapshot,
    parts,
    legacy: legacy !== undefined,
    missingAlerts,
  };
}

/** The upsert of state rows by key, compiled once per row count (compiledRows). */
const upsertStateRows = compiledRows(
  (row: Schema["alerting_state"]) => row,
  (db, rows) =>
    db
      .insertInto("alerting_state")
      .values(rows)
      .onConflict((oc) =>
        oc.column("key").doUpdateSet((eb) => ({
          value: eb.ref("excluded.value"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      ),
);

/**
 * Writes the changed parts, deletes the removed ones (and the earlier version's snapshot when `dropLegacy`),
 * and records when and at which sequence the state was saved and when every alert record last was, in the
 * caller's transaction. Returns the bytes of JSON written.
 */
export async function saveRoutingChanges(
  db: Kysely<Schema>,
  changes: RoutingStateChanges,
  savedAt: number,
  dropLegacy: boolean,
  recordsSavedAt: number,
): Promise<number> {
  const meta: Meta = { version: 2, savedAt, seq: changes.seq, recordsSavedAt };
  const rows = [
    ...changes.changed.map((c) => ({ key: ROW_PREFIX + c.key, value: c.json, updated_at: savedAt })),
    { key: META_KEY, value: JSON.stringify(meta), updated_at: savedAt },
  ];
  let bytes = 0;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const slice = rows.slice(i, i + ROWS_PER_STATEMENT);
    for (const r of slice) bytes += Buffer.byteLength(r.value);
    await db.executeQuery(upsertStateRows(db, slice));
  }
  const removed = changes.removed.map((r) => ROW_PREFIX + r.key);
  if (dropLegacy) removed.push(LEGACY_KEY);
  for (let i = 0; i < removed.length; i += ROWS_PER_STATEMENT)
    await db
      .deleteFrom("alerting_state")
      .where("key", "in", removed.slice(i, i + ROWS_PER_STATEMENT))
      .execute();
  return bytes;
}
