import type { Kysely } from "kysely";
import type { AlertSource } from "../alert-model.js";
import { compiledRows } from "../../platform/db/compiled-rows.js";
import type { Schema } from "../../platform/db/schema.js";
import type { ValidAlert } from "./validate-alert.js";

/** A row of the alerts table, read back. */
export interface StoredAlert extends ValidAlert {
  source: string;
  receivedAt: number;
  updatedAt: number;
}

/** The end an alert has at this instant: its own, or the resolve timeout after its last update. */
export function effectiveEnd(a: Pick<StoredAlert, "endsAt" | "updatedAt">, resolveTimeoutMs: number): number {
  return a.endsAt ?? a.updatedAt + resolveTimeoutMs;
}

/**
 * types.Alert.Merge as provider/mem applies it on Put: when the update overlaps the stored alert, the earliest
 * start is kept and, for a firing update, a later explicit end the sender gave before.
 */
export function mergeAlert(
  old: StoredAlert | undefined,
  incoming: ValidAlert,
  now: number,
  resolveTimeoutMs: number,
): ValidAlert {
  if (old === undefined) return incoming;
  const oldEnd = effectiveEnd(old, resolveTimeoutMs);
  const newEnd = incoming.endsAt ?? now + resolveTimeoutMs;
  const overlaps =
    (newEnd > old.startsAt && newEnd < oldEnd) ||
    (incoming.startsAt > old.startsAt && incoming.startsAt < oldEnd);
  if (!overlaps) return incoming;
  const merged: ValidAlert = { ...incoming };
  if (old.startsAt < incoming.startsAt) merged.startsAt = old.startsAt;
  if (newEnd <= now) {
    if (oldEnd <= now && oldEnd > newEnd) merged.endsAt = old.endsAt;
  } else if (oldEnd > newEnd && old.endsAt !== null) merged.endsAt = old.endsAt;
  return merged;
}

function rowToAlert(row: Schema["alerts"]): StoredAlert {
  return {
    fingerprint: row.fingerprint,
    labels: JSON.parse(row.labels) as Record<string, string>,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
    startsAt: Number(row.starts_at),
    endsAt: row.ends_at === null ? null : Number(row.ends_at),
    generatorURL: row.generator_url,
    source: row.source,
    receivedAt: Number(row.received_at),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * Merges incoming alerts with what is stored (`pending` first: alerts stored by an intake whose log the alerts
 * table has not taken yet; then the table), without writing. Fingerprints repeated in one batch are merged in
 * order, as consecutive Puts would be. Returns the alerts as they are to be stored, one per fingerprint.
 */
export async function mergeIncoming(
  db: Kysely<Schema>,
  alerts: readonly ValidAlert[],
  source: AlertSource,
  now: number,
  resolveTimeoutMs: number,
  pending: (fingerprint: string) => StoredAlert | undefined = () => undefined,
): Promise<StoredAlert[]> {
  if (alerts.length === 0) return [];
  const fps = [...new Set(alerts.map((a) => a.fingerprint))];
  const current = new Map<string, StoredAlert>();
  const unknown: string[] = [];
  for (const fp of fps) {
    const known = pending(fp);
    if (known === undefined) unknown.push(fp);
    else current.set(fp, known);
  }
  for (const [fp, stored] of await loadAlertsByFingerprint(db, unknown)) current.set(fp, stored);
  for (const incoming of alerts) {
    const old = current.get(incoming.fingerprint);
    const merged = mergeAlert(old, incoming, now, resolveTimeoutMs);
    current.set(incoming.fingerprint, {
      ...merged,
      source,
      receivedAt: old?.receivedAt ?? now,
      updatedAt: now,
    });
  }
  return fps.map((fp) => current.get(fp)).filter((a): a is StoredAlert => a !== undefined);
}

/** Merges and upserts valid alerts into the alerts table, in the caller's transaction; returns what was written. */
export async function storeAlerts(
  db: Kysely<Schema>,
  alerts: readonly ValidAlert[],
  source: AlertSource,
  now: number,
  resolveTimeoutMs: number,
): Promise<StoredAlert[]> {
  const written = await mergeIncoming(db, alerts, source, now, resolveTimeoutMs);
  await writeAlerts(db, written);
  return written;
}

/** Upserts stored alerts by fingerprint, 100 rows a statement. */
export async function writeAlerts(db: Kysely<Schema>, alerts: readonly StoredAlert[]): Promise<void> {
  for (let i = 0; i < alerts.length; i += 100)
    await db.executeQuery(upsertAlerts(db, alerts.slice(i, i + 100)));
}

// ---- the intake log (migration 0006) ---------------------------------------------------------------------

type LoggedAlert = [
  fingerprint: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  startsAt: number,
  endsAt: number | null,
  generatorURL: string | null,
  source: string,
  receivedAt: number,
  updatedAt: number,
];

/** Appends one intake's stored alerts to the log, in the caller's transaction: what makes them durable. */
export async function appendIntakeLog(
  db: Kysely<Schema>,
  seq: number,
  at: number,
  alerts: Iterable<StoredAlert>,
): Promise<void> {
  const logged: LoggedAlert[] = [];
  for (const a of alerts)
    logged.push([
      a.fingerprint,
      a.labels,
      a.annotations,
      a.startsAt,
      a.endsAt,
      a.generatorURL,
      a.source,
      a.receivedAt,
      a.updatedAt,
    ]);
  await db
    .insertInto("alert_intake_log")
    .values({ seq, at, alerts: JSON.stringify(logged) })
    .execute();
}

/** The logged alerts not yet applied, the newest version of each, and the last sequence number, if any. */
export async function readIntakeLog(
  db: Kysely<Schema>,
): Promise<{ alerts: StoredAlert[]; lastSeq: number | undefined }> {
  const rows = await db.selectFrom("alert_intake_log").select(["seq", "alerts"]).orderBy("seq").execute();
  const byFp = new Map<string, StoredAlert>();
  for (const row of rows)
    for (const [
      fingerprint,
      labels,
      annotations,
      startsAt,
      endsAt,
      generatorURL,
      source,
      receivedAt,
      updatedAt,
    ] of JSON.parse(row.alerts) as LoggedAlert[])
      byFp.set(fingerprint, {
        fingerprint,
        labels,
        annotations,
        startsAt,
        endsAt,
        generatorURL,
        source,
        receivedAt,
        updatedAt,
      });
  const last = rows.at(-1);
  return { alerts: [...byFp.values()], lastSeq: last === undefined ? undefined : Number(last.seq) };
}

/** Writes logged alerts into the alerts table and deletes the log up to `throughSeq`, in the caller's transaction. */
export async function applyIntakeLog(
  db: Kysely<Schema>,
  alerts: readonly StoredAlert[],
  throughSeq: number,
): Promise<void> {
  // In arrival order (not sorted by fingerprint): a restart routes the alerts it finds again in table order,
  // and groups are created, and flushed when due together, in that order.
  await writeAlerts(db, alerts);
  await db.deleteFrom("alert_intake_log").where("seq", "<=", throughSeq).execute();
}

const alertRow = (a: StoredAlert): Schema["alerts"] => ({
  fingerprint: a.fingerprint,
  labels: JSON.stringify(a.labels),
  annotations: JSON.stringify(a.annotations),
  starts_at: a.startsAt,
  ends_at: a.endsAt,
  generator_url: a.generatorURL,
  source: a.source,
  received_at: a.receivedAt,
  updated_at: a.updatedAt,
});

/** The upsert by fingerprint, compiled once per row count (compiledRows). */
const upsertAlerts = compiledRows(alertRow, (db, rows) =>
  db
    .insertInto("alerts")
    .values(rows)
    .onConflict((oc) =>
      oc.column("fingerprint").doUpdateSet((eb) => ({
        labels: eb.ref("excluded.labels"),
        annotations: eb.ref("excluded.annotations"),
        starts_at: eb.ref("excluded.starts_at"),
        ends_at: eb.ref("excluded.ends_at"),
        generator_url: eb.ref("excluded.generator_url"),
        source: eb.ref("excluded.source"),
        updated_at: eb.ref("excluded.updated_at"),
      })),
    ),
);

const selectAlerts = compiledRows(
  (fingerprint: string) => ({ fingerprint }),
  (db, rows) =>
    db
      .selectFrom("alerts")
      .selectAll()
      .where(
        "fingerprint",
        "in",
        rows.map((r) => r.fingerprint),
      ),
);

/** Alerts whose end is not yet past (null ends count as open), or updated since `updatedSince`. */
export async function loadOpenAlerts(
  db: Kysely<Schema>,
  now: number,
  updatedSince: number,
): Promise<StoredAlert[]> {
  const rows = await db
    .selectFrom("alerts")
    .selectAll()
    .where((eb) =>
      eb.or([eb("ends_at", "is", null), eb("ends_at", ">", now), eb("updated_at", ">=", updatedSince)]),
    )
    .execute();
  return rows.map(rowToAlert);
}

/** The stored alerts with these fingerprints, by fingerprint; fingerprints not stored are absent. */
export async function loadAlertsByFingerprint(
  db: Kysely<Schema>,
  fps: readonly string[],
): Promise<Map<string, StoredAlert>> {
  const out = new Map<string, StoredAlert>();
  for (let i = 0; i < fps.length; i += 500) {
    const { rows } = await db.executeQuery<Schema["alerts"]>(selectAlerts(db, fps.slice(i, i + 500)));
    for (const row of rows) out.set(row.fingerprint, rowToAlert(row));
  }
  return out;
}

export async function loadAlert(db: Kysely<Schema>, fp: string): Promise<StoredAlert | undefined> {
  const row = await db.selectFrom("alerts").selectAll().where("fingerprint", "=", fp).executeTakeFirst();
  return row ? rowToAlert(row) : undefined;
}

/**
 * Deletes alerts that ended before `before` (an open alert counts as ended a resolve timeout after its last
 * update), and silences that expired before it: Alertmanager's --data.retention.
 */
export async function pruneAlerting(
  db: Kysely<Schema>,
  before: number,
  resolveTimeoutMs: number,
): Promise<void> {
  await db
    .deleteFrom("alerts")
    .where((eb) =>
      eb.or([
        eb.and([eb("ends_at", "is not", null), eb("ends_at", "<", before)]),
        eb.and([eb("ends_at", "is", null), eb("updated_at", "<", before - resolveTimeoutMs)]),
      ]),
    )
    .execute();
  await db.deleteFrom("silences").where("ends_at", "<", before).execute();
}
