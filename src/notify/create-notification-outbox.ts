import { createHash } from "node:crypto";
import type { NotificationRequest } from "../alerting/routing/index.js";
import type { Clock } from "../platform/clock.js";
import type { Schema } from "../platform/db/schema.js";
import { compiledRows } from "../platform/db/compiled-rows.js";
import { newId } from "../platform/ids.js";
import {
  type IntegrationType,
  INTEGRATION_TYPES,
  type OutboxPayload,
  SEND_RESOLVED_DEFAULT,
} from "./integrations.js";
import type { NotificationOutbox, ReceiverIntegrations } from "./notification-outbox.js";
import { storedRequestText } from "./stored-request.js";

/** Alertmanager's `global:` fields that integrations inherit (smarthost, API URLs and keys, http_config). */
export type GlobalDefaults = Record<string, unknown>;

export interface NotificationOutboxOptions {
  clock: Clock;
  /**
   * Called after rows were written (the caller's transaction may still be open, and may yet roll back):
   * wakes the worker, which may keep the requests for its next claims (OutboxWorker.remember).
   */
  onEnqueue?: (rows: ReadonlyArray<{ id: string; request: string }>) => void;
  /** The current `global:` section; read at every enqueue, so a reloaded configuration applies. */
  global?: () => GlobalDefaults | undefined;
}

const INHERITED: Partial<Record<IntegrationType, Array<[field: string, global: string]>>> = {
  email_configs: [
    ["smarthost", "smtp_smarthost"],
    ["from", "smtp_from"],
    ["hello", "smtp_hello"],
    ["auth_username", "smtp_auth_username"],
    ["auth_password", "smtp_auth_password"],
    ["auth_password_file", "smtp_auth_password_file"],
    ["auth_secret", "smtp_auth_secret"],
    ["auth_secret_file", "smtp_auth_secret_file"],
    ["auth_identity", "smtp_auth_identity"],
    ["require_tls", "smtp_require_tls"],
    ["tls_config", "smtp_tls_config"],
  ],
  slack_configs: [
    ["api_url", "slack_api_url"],
    ["api_url_file", "slack_api_url_file"],
  ],
  pagerduty_configs: [["url", "pagerduty_url"]],
  opsgenie_configs: [
    ["api_url", "opsgenie_api_url"],
    ["api_key", "opsgenie_api_key"],
    ["api_key_file", "opsgenie_api_key_file"],
  ],
  telegram_configs: [["api_url", "telegram_api_url"]],
};

/** An integration's config with the global defaults it inherits, as Alertmanager fills them in at load. */
export function withGlobals(
  type: IntegrationType,
  config: Record<string, unknown>,
  global: GlobalDefaults | undefined,
): Record<string, unknown> {
  if (!global) return config;
  const out = { ...config };
  const pairs = INHERITED[type] ?? [];
  const hasFile = (field: string) => out[`${field}_file`] !== undefined;
  for (const [field, from] of pairs) {
    if (out[field] === undefined && global[from] !== undefined && !hasFile(field)) out[field] = global[from];
  }
  if (type !== "email_configs" && out.http_config === undefined && global.http_config !== undefined)
    out.http_config = global.http_config;
  return out;
}

/** What one integration is sent: without resolved alerts when it does not want them (Alertmanager). */
export function requestFor(
  request: NotificationRequest,
  sendResolved: boolean,
): NotificationRequest | undefined {
  if (sendResolved) return request;
  const firing = request.alerts.filter((a) => a.status === "firing");
  if (firing.length === 0) return undefined;
  return { ...request, status: "firing", alerts: firing, firingCount: firing.length, resolvedCount: 0 };
}

/**
 * The notifications of one aggregation group of one receiver share this value in the outbox's group_hash
 * column (indexed with created_at), so an alert's trace can list every notification its group sent.
 */
export function notificationGroupHash(receiver: string, groupKey: string): string {
  return createHash("sha256").update(receiver).update("\n").update(groupKey).digest("hex").slice(0, 32);
}

/** Rows an insert statement: 11 parameters each stays under SQLite's and PostgreSQL's limits. */
const ROWS_PER_INSERT = 200;

/**
 * The insert of outbox rows, compiled once per row count. A key already stored is left as it is, and only
 * the ids of rows inserted come back: theirs are the requests to store.
 */
const insertOutboxRows = compiledRows(
  (row: Schema["notification_outbox"]) => row,
  (db, rows) =>
    db
      .insertInto("notification_outbox")
      .values(rows)
      .onConflict((oc) => oc.column("idempotency_key").doNothing())
      .returning("id"),
);

/**
 * The insert of the requests of rows just inserted: written once, in a table apart from the rows, whose
 * delivery state changes at every claim and attempt (a change rewrites the whole row in either database).
 */
const insertRequests = compiledRows(
  (row: Schema["notification_requests"]) => row,
  (db, rows) => db.insertInto("notification_requests").values(rows),
);

/** A notification's outbox row with its request, as enqueue builds it. */
type NewRow = Schema["notification_outbox"] & { request: string };

function outboxRow({ request: _, ...row }: NewRow): Schema["notification_outbox"] {
  return row;
}

/**
 * The durable outbox: one row per notification and integration, written in the caller's transaction, keyed
 * by `<request idempotency key>/<integration>` so enqueuing the same notification again changes nothing.
 */
export function createNotificationOutbox(options: NotificationOutboxOptions): NotificationOutbox {
  const rowsFor = (
    request: NotificationRequest,
    integrations: ReceiverIntegrations,
    now: number,
    global: GlobalDefaults | undefined,
  ): NewRow[] => {
    const rows: NewRow[] = [];
    const groupHash = notificationGroupHash(request.receiver, request.groupKey);
    for (const type of INTEGRATION_TYPES) {
      const configs = (integrations[type] ?? []) as ReadonlyArray<Record<string, unknown>>;
      configs.forEach((raw, index) => {
        const config = withGlobals(type, raw, global);
        const sendResolved =
          typeof config.send_resolved === "boolean" ? config.send_resolved : SEND_RESOLVED_DEFAULT[type];
        const sent = requestFor(request, sendResolved);
        if (sent === undefined) return;
        const integration = `${type}[${index}]`;
        const payload: OutboxPayload = { request: sent, type, config };
        if (integrations.templates && integrations.templates.length > 0)
          payload.templates = integrations.templates.map((t) => ({ name: t.name, text: t.text }));
        rows.push({
          id: newId(now),
          idempotency_key: `${request.idempotencyKey}/${integration}`,
          receiver: request.receiver,
          integration,
          group_hash: groupHash,
          status: "pending",
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          created_at: now,
          updated_at: now,
          request: storedRequestText(payload),
        });
      });
    }
    return rows;
  };

  const outbox: NotificationOutbox = {
    enqueue: (db, request, integrations) => outbox.enqueueAll(db, [{ request, integrations }]),

    async enqueueAll(db, notifications) {
      const now = options.clock.now();
      const global = options.global?.();
      const rows = notifications.flatMap(({ request, integrations }) =>
        rowsFor(request, integrations, now, global),
      );
      if (rows.length === 0) return;
      const inserted: NewRow[] = [];
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const slice = rows.slice(i, i + ROWS_PER_INSERT);
        const { rows: ids } = await db.executeQuery<{ id: string }>(
          insertOutboxRows(db, slice.map(outboxRow)),
        );
        const fresh = new Set(ids.map((r) => r.id));
        const added = fresh.size === slice.length ? slice : slice.filter((row) => fresh.has(row.id));
        if (added.length === 0) continue;
        await db.executeQuery(
          insertRequests(
            db,
            added.map((row) => ({ outbox_id: row.id, request: row.request })),
          ),
        );
        inserted.push(...added);
      }
      if (inserted.length > 0) options.onEnqueue?.(inserted);
    },
  };
  return outbox;
}
