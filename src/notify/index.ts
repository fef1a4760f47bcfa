/**
 * Notification delivery: the durable outbox that the routing pipeline enqueues into (in its transaction),
 * the worker that delivers it at least once with retries, backoff and dead letters, the notifiers for each
 * integration (webhook, Slack, Microsoft Teams, email, PagerDuty, Opsgenie, Telegram, Discord, ntfy) with
 * their default messages and custom Go templates, and the API that shows delivery state.
 */
export {
  createNotificationOutbox,
  type GlobalDefaults,
  notificationGroupHash,
  type NotificationOutboxOptions,
} from "./create-notification-outbox.js";
export { type IntegrationType, INTEGRATION_TYPES, type OutboxPayload } from "./integrations.js";
export type { NotificationOutbox, ReceiverIntegrations } from "./notification-outbox.js";
export {
  getNotification,
  listNotifications,
  NotificationDetail,
  outboxRowsWithRequests,
  NotificationView,
  retryNotification,
} from "./notification-queries.js";
export type { Notifier, SendInput, SendOutcome } from "./notifier.js";
export { NOTIFIERS, type NotifierRegistry } from "./notifiers.js";
export { notifyRoutes } from "./notify-routes.js";
export { OutboxWorker, type OutboxWorkerOptions } from "./outbox-worker.js";
export { inProcessSender, type SendExecutor, sendWorkerAvailable, threadSender } from "./send-executor.js";
export type { SendJob, SendResult } from "./send-stored.js";
export { signBody, webhookMessage } from "./webhook-notifier.js";
export { type TemplateFileAccess, templateFilesTranslator } from "./template-files.js";
export { parseStoredRequest, storedRequestText } from "./stored-request.js";
