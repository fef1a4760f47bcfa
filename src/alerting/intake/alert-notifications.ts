import type { Kysely } from "kysely";
import {
  notificationGroupHash,
  type OutboxPayload,
  outboxRowsWithRequests,
  parseStoredRequest,
} from "../../notify/index.js";
import type { Schema } from "../../platform/db/schema.js";
import type { TraceEvent } from "../routing/dispatcher.js";

/** One outbox row that carried the alert, with each delivery attempt: what `nines alerts why` shows. */
export interface AlertNotification {
  id: string;
  idempotencyKey: string;
  receiver: string;
  integration: string;
  status: string;
  attempts: Array<{
    at: number;
    ok: boolean;
    statusCode: number | null;
    response: string | null;
    durationMs: number;
  }>;
  lastError: string | null;
  createdAt: number;
}

type Notified = Extract<TraceEvent, { type: "notified" }>;

/**
 * The alert's "notified" events with the time each run ends: at the alert's next event that is not a
 * notification to another group (a later notification to the same group starts a new run).
 */
function notifiedRuns(events: readonly TraceEvent[]): Array<{ event: Notified; endsAt: number }> {
  const runs: Array<{ event: Notified; endsAt: number }> = [];
  events.forEach((event, i) => {
    if (event.type !== "notified") return;
    const next = events
      .slice(i + 1)
      .find((e) => e.type !== "notified" || (e.receiver === event.receiver && e.groupKey === event.groupKey));
    runs.push({ event, endsAt: next?.at ?? Number.POSITIVE_INFINITY });
  });
  return runs;
}

/** The alert's fingerprints in a stored outbox payload, and the flush time of its notification. */
function carried(requestJson: string): { at: number; fingerprints: Set<string> } | undefined {
  try {
    // Partial, as the notifications API reads it: a damaged row is skipped, not a failed trace.
    const request = (parseStoredRequest(requestJson) as Partial<OutboxPayload>).request;
    return {
      at: request?.at ?? Number.NaN,
      fingerprints: new Set((request?.alerts ?? []).map((a) => a.fingerprint)),
    };
  } catch {
    return undefined;
  }
}

/**
 * Every notification that carried the alert, oldest first. A "notified" event stands for a run of its group's
 * notifications, so the rows are found by group (group_hash) from the run's start and kept when their payload
 * carries the alert and was flushed before the run ended.
 */
export async function loadAlertNotifications(
  db: Kysely<Schema>,
  fp: string,
  events: readonly TraceEvent[],
): Promise<AlertNotification[]> {
  const rows = new Map<string, Schema["notification_outbox"]>();
  for (const { event, endsAt } of notifiedRuns(events)) {
    const candidates = await outboxRowsWithRequests(db)
      .where("group_hash", "=", notificationGroupHash(event.receiver, event.groupKey))
      .where("created_at", ">=", event.at)
      .execute();
    for (const { request, ...row } of candidates) {
      const sent = request === null ? undefined : carried(request);
      if (sent === undefined || !sent.fingerprints.has(fp)) continue;
      if (sent.at < event.at || sent.at >= endsAt) continue;
      rows.set(row.id, row);
    }
  }
  const carrying = [...rows.values()].sort((a, b) => Number(a.created_at) - Number(b.created_at));
  // Every attempt of those rows in one query per 500 rows (an alert of a busy group rides many notifications).
  const attemptsOf = new Map<string, AlertNotification["attempts"]>();
  for (let i = 0; i < carrying.length; i += 500) {
    const attempts = await db
      .selectFrom("notification_attempts")
      .selectAll()
      .where(
        "outbox_id",
        "in",
        carrying.slice(i, i + 500).map((r) => r.id),
      )
      .orderBy("at")
      .execute();
    for (const a of attempts) {
      const list = attemptsOf.get(a.outbox_id) ?? [];
      list.push({
        at: Number(a.at),
        ok: Number(a.ok) === 1,
        statusCode: a.status_code,
        response: a.response,
        durationMs: Number(a.duration_ms),
      });
      attemptsOf.set(a.outbox_id, list);
    }
  }
  const out: AlertNotification[] = carrying.map((row) => ({
    id: row.id,
    idempotencyKey: row.idempotency_key,
    receiver: row.receiver,
    integration: row.integration,
    status: row.status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    attempts: attemptsOf.get(row.id) ?? [],
  }));
  return out;
}
