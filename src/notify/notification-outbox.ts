import type { Kysely } from "kysely";
import type { NotificationRequest, ReceiverConfig } from "../alerting/routing/index.js";
import type { Schema } from "../platform/db/schema.js";

/**
 * A receiver's integrations (webhook_configs, slack_configs, …) as the alerting configuration gives them,
 * and the configuration's template files (`templates:`) whose `{{ define }}`s their messages may use.
 */
export type ReceiverIntegrations = Omit<ReceiverConfig, "name"> & {
  templates?: ReadonlyArray<{ name: string; text: string }>;
};

/**
 * Where the routing pipeline hands notifications over for delivery. `enqueue` writes one outbox row per
 * integration of the receiver (keyed by the request's idempotency key and the integration), in the caller's
 * transaction, so a notification is stored together with the routing state that produced it; a row that
 * already exists is left alone. Delivery happens afterwards, at least once, with retries and a dead letter.
 */
export interface NotificationOutbox {
  enqueue(
    db: Kysely<Schema>,
    request: NotificationRequest,
    integrations: ReceiverIntegrations,
  ): Promise<void>;
  /** enqueue for several notifications, in as few statements as the databases allow. */
  enqueueAll(
    db: Kysely<Schema>,
    notifications: ReadonlyArray<{ request: NotificationRequest; integrations: ReceiverIntegrations }>,
  ): Promise<void>;
}
