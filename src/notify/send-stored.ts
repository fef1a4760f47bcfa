import { performance } from "node:perf_hooks";
import { parseModelDuration } from "../alerting/routing/index.js";
import { type OutboxPayload, redactSecrets } from "./integrations.js";
import type { SendOutcome } from "./notifier.js";
import type { NotifierRegistry } from "./notifiers.js";
import { splitStoredRequest, withStoredAlerts } from "./stored-request.js";

/** One attempt to send an outbox row, as the delivery worker hands it to a send executor. */
export interface SendJob {
  /** The row's stored request (stored-request.ts), parsed where it is sent. */
  request: string;
  idempotencyKey: string;
  externalURL: string;
  /** Per attempt, unless the integration sets its own `timeout`. */
  defaultTimeoutMs: number;
}

/** What came of one attempt; everything the worker records, so that it never parses the payload itself. */
export interface SendResult {
  /** Secrets of the integration's config are already replaced in `error` and `response`. */
  outcome: SendOutcome;
  durationMs: number;
  /** The payload's retriedAt (a dead letter sent back by an operator): its age limit counts from there. */
  retriedAt?: number;
  /** The executor was stopping and aborted the send: not an attempt, the row is handed back unsent. */
  stopped?: true;
}

/** The reason an executor that stops gives its sends' abort signals. */
export const SEND_STOPPED = new Error("the delivery worker stopped");

/**
 * The abort controllers of an executor's sends in flight: stopping aborts each. One listener per send on a
 * shared stop signal made Node warn past ten sends in flight (MaxListenersExceededWarning), and each removal
 * scanned the others.
 */
export type SendsInFlight = Set<AbortController>;

export function abortSends(sends: SendsInFlight): void {
  for (const controller of sends) controller.abort(SEND_STOPPED);
  sends.clear();
}

function timeoutOf(payload: OutboxPayload, fallbackMs: number): number {
  const t = payload.config.timeout;
  if (typeof t === "string" && t !== "") {
    const ms = parseModelDuration(t);
    if (typeof ms === "number" && ms > 0) return ms;
  }
  return fallbackMs;
}

function redacted(outcome: SendOutcome, config: Record<string, unknown>): SendOutcome {
  const response = outcome.response === undefined ? undefined : redactSecrets(outcome.response, config);
  if (outcome.ok) return response === undefined ? outcome : { ...outcome, response };
  const out: SendOutcome = { ...outcome, error: redactSecrets(outcome.error, config) };
  if (response !== undefined) out.response = response;
  return out;
}

/**
 * Parses a stored request and sends it through its integration's notifier, with the attempt's timeout; its
 * abort controller is in `sends` while it runs (abortSends stops it). Never throws: a notifier that throws is
 * a failure worth retrying, a request that is not JSON or has no notifier one that is not.
 */
export async function sendStored(
  job: SendJob,
  notifiers: NotifierRegistry,
  sends: SendsInFlight,
): Promise<SendResult> {
  let payload: OutboxPayload;
  let webhookAlertsJson: string | undefined;
  try {
    // A webhook takes the stored alerts as they are; every other integration reads them.
    const { envelope, alertsJson } = splitStoredRequest(job.request);
    if (envelope.type === "webhook_configs") {
      payload = { ...envelope, request: { ...envelope.request, alerts: [] } };
      webhookAlertsJson = alertsJson;
    } else payload = withStoredAlerts(envelope, alertsJson);
  } catch {
    return { outcome: { ok: false, retry: false, error: "stored request is not JSON" }, durationMs: 0 };
  }
  const notifier = notifiers[payload.type] as { send(input: unknown): Promise<SendOutcome> } | undefined;
  const timeoutMs = timeoutOf(payload, job.defaultTimeoutMs);
  const controller = new AbortController();
  sends.add(controller);
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  const started = performance.now();
  let outcome: SendOutcome;
  try {
    outcome = notifier
      ? await notifier.send({
          request: payload.request,
          config: payload.config,
          idempotencyKey: job.idempotencyKey,
          externalURL: job.externalURL,
          templates: payload.templates ?? [],
          signal: controller.signal,
          ...(webhookAlertsJson === undefined ? {} : { webhookAlertsJson }),
        })
      : { ok: false, retry: false, error: `no notifier for ${payload.type}` };
  } catch (error) {
    outcome = { ok: false, retry: true, error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
    sends.delete(controller);
  }
  const result: SendResult = {
    outcome: redacted(outcome, payload.config ?? {}),
    durationMs: performance.now() - started,
  };
  if (payload.retriedAt !== undefined) result.retriedAt = payload.retriedAt;
  if (controller.signal.reason === SEND_STOPPED) result.stopped = true;
  return result;
}
