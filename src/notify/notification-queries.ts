import { z } from "zod";
import { appendAudit } from "../audit/index.js";
import { authorize } from "../auth/index.js";
import { type Ctx, inTransaction } from "../platform/context.js";
import type { Schema } from "../platform/db/schema.js";
import { NinesError, notFound } from "../platform/errors.js";
import type { OutboxPayload } from "./integrations.js";
import { parseStoredRequest, storedRequestText } from "./stored-request.js";

export const NotificationStatus = z.enum(["pending", "delivered", "dead"]);
export type NotificationStatus = z.infer<typeof NotificationStatus>;

/** A notification as the API shows it: delivery state and what it was about, never the receiver's config. */
export const NotificationView = z.object({
  id: z.string(),
  receiver: z.string(),
  integration: z.string().describe('The receiver\'s integration, e.g. "webhook_configs[0]".'),
  status: NotificationStatus,
  attempts: z.number().int(),
  nextAttemptAt: z.iso.datetime().nullable().describe("When the next attempt is due; null unless pending."),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  groupKey: z.string(),
  notificationStatus: z.enum(["firing", "resolved"]),
  firing: z.number().int(),
  resolved: z.number().int(),
  alertnames: z.array(z.string()),
});
export type NotificationView = z.infer<typeof NotificationView>;

export const AttemptView = z.object({
  at: z.iso.datetime(),
  durationMs: z.number(),
  ok: z.boolean(),
  statusCode: z.number().int().nullable(),
  response: z
    .string()
    .nullable()
    .describe("What the receiver answered (truncated), or why the attempt failed."),
});
export type AttemptView = z.infer<typeof AttemptView>;

export const NotificationDetail = NotificationView.extend({ attemptsLog: z.array(AttemptView) });
export type NotificationDetail = z.infer<typeof NotificationDetail>;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The outbox marks a row "sending" while a worker holds its lease; to readers that is still pending (waiting
 * for a delivery that has not succeeded yet).
 */
export function storedStatuses(status: NotificationStatus): string[] {
  return status === "pending" ? ["pending", "sending"] : [status];
}

function isPending(stored: string): boolean {
  return stored === "pending" || stored === "sending";
}

/** An outbox row with its request; null when the request row is missing (a damaged database). */
type RowWithRequest = Schema["notification_outbox"] & { request: string | null };

/**
 * Outbox rows with their requests (kept in a table of their own, written once): the listing, the API and
 * an alert's trace read them so.
 */
export function outboxRowsWithRequests(db: Ctx["db"]) {
  return db
    .selectFrom("notification_outbox")
    .leftJoin("notification_requests", "notification_requests.outbox_id", "notification_outbox.id")
    .selectAll("notification_outbox")
    .select("notification_requests.request");
}

function viewOf(row: RowWithRequest): NotificationView {
  let payload: Partial<OutboxPayload> = {};
  try {
    if (row.request !== null) payload = parseStoredRequest(row.request);
  } catch {
    // A damaged row still lists, without the alert summary.
  }
  const request = payload.request;
  const names = [...new Set((request?.alerts ?? []).map((a) => a.labels.alertname ?? ""))].filter(Boolean);
  return {
    id: row.id,
    receiver: row.receiver,
    integration: row.integration,
    status: NotificationStatus.catch("pending").parse(row.status),
    attempts: row.attempts,
    nextAttemptAt: isPending(row.status) ? iso(row.next_attempt_at) : null,
    lastError: row.last_error,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    groupKey: request?.groupKey ?? "",
    notificationStatus: request?.status ?? "firing",
    firing: request?.firingCount ?? 0,
    resolved: request?.resolvedCount ?? 0,
    alertnames: names.sort(),
  };
}

export const NOTIFICATIONS_PAGE_DEFAULT = 100;

/** Newest first, a page at a time: `after` is the previous page's `next`. */
export async function listNotifications({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { status?: NotificationStatus; receiver?: string; after?: string; limit?: number };
}): Promise<{ notifications: NotificationView[]; next: string | null }> {
  authorize(ctx, "notification.read");
  const limit = input.limit ?? NOTIFICATIONS_PAGE_DEFAULT;
  let query = outboxRowsWithRequests(ctx.db);
  if (input.status) query = query.where("status", "in", storedStatuses(input.status));
  if (input.receiver) query = query.where("receiver", "=", input.receiver);
  if (input.after) query = query.where("notification_outbox.id", "<", input.after);
  const rows = await query
    .orderBy("notification_outbox.id", "desc")
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  return {
    notifications: page.map(viewOf),
    next: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

export async function getNotification({ ctx, id }: { ctx: Ctx; id: string }): Promise<NotificationDetail> {
  authorize(ctx, "notification.read");
  const row = await outboxRowsWithRequests(ctx.db)
    .where("notification_outbox.id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("Notification", id);
  const attempts = await ctx.db
    .selectFrom("notification_attempts")
    .selectAll()
    .where("outbox_id", "=", id)
    .orderBy("at")
    .orderBy("id")
    .execute();
  return {
    ...viewOf(row),
    attemptsLog: attempts.map((a) => ({
      at: iso(a.at),
      durationMs: a.duration_ms,
      ok: a.ok === 1,
      statusCode: a.status_code,
      response: a.response,
    })),
  };
}

/**
 * Sends a dead letter again: back to pending, due now, with a fresh attempt budget and age limit (the
 * request, which the age is counted from, is rewritten with the time of the retry). Audited. Only dead
 * letters can be retried: a pending one is already being retried, a delivered one arrived.
 */
export async function retryNotification({ ctx, id }: { ctx: Ctx; id: string }): Promise<NotificationView> {
  authorize(ctx, "notification.retry");
  return inTransaction(ctx, async (tx) => {
    const row = await outboxRowsWithRequests(tx.db)
      .where("notification_outbox.id", "=", id)
      .executeTakeFirst();
    if (!row) throw notFound("Notification", id);
    if (row.status !== "dead")
      throw new NinesError(
        "CONFLICT",
        `Notification "${id}" is ${row.status}, not dead: only dead letters can be retried.`,
      );
    const now = tx.clock.now();
    let request = row.request;
    try {
      if (row.request !== null)
        request = storedRequestText({ ...parseStoredRequest(row.request), retriedAt: now });
    } catch {
      // Left as it is: the worker dead-letters it again, with the reason.
    }
    const updated = {
      ...row,
      status: "pending",
      attempts: 0,
      next_attempt_at: now,
      updated_at: now,
      request,
    };
    await tx.db
      .updateTable("notification_outbox")
      .set({ status: "pending", attempts: 0, next_attempt_at: now, updated_at: now })
      .where("id", "=", id)
      .execute();
    if (request !== null && request !== row.request)
      await tx.db.updateTable("notification_requests").set({ request }).where("outbox_id", "=", id).execute();
    await appendAudit(tx, {
      action: "notification.retry",
      object: { kind: "notification", name: id },
      details: { receiver: row.receiver, integration: row.integration, attempts: row.attempts },
    });
    return viewOf(updated);
  });
}
