import { describe, expect, it } from "vitest";
import type { NotificationRequest } from "../alerting/routing/index.js";
import type { OutboxPayload } from "./integrations.js";
import { parseStoredRequest, splitStoredRequest, storedRequestText } from "./stored-request.js";
import { webhookBody, webhookMessage } from "./webhook-notifier.js";

const T0 = Date.UTC(2026, 11, 1, 6, 30, 0, 250);

const request: NotificationRequest = {
  idempotencyKey: "abc-1",
  receiver: "team",
  groupKey: '{}:{alertname="Disk"}',
  groupLabels: { alertname: "Disk" },
  commonLabels: { alertname: "Disk" },
  commonAnnotations: {},
  status: "firing",
  alerts: [
    {
      fingerprint: "f1",
      status: "firing",
      labels: { alertname: "Disk", instance: 'a "quoted"\nname' },
      annotations: { summary: "full\u2028" },
      startsAt: T0,
      endsAt: 0,
      generatorURL: "http://prom/graph?g0.expr=x",
    },
    {
      fingerprint: "f2",
      status: "resolved",
      labels: { alertname: "Disk", instance: "b" },
      annotations: {},
      startsAt: T0 - 1000,
      endsAt: T0 + 7,
    },
  ],
  firingCount: 1,
  resolvedCount: 1,
  routeId: "0",
  at: T0,
};
const payload: OutboxPayload = {
  request,
  type: "webhook_configs",
  config: { url: "http://127.0.0.1:1/hook" },
  templates: [{ name: "t", text: "{{ .Status }}" }],
};

describe("stored outbox requests", () => {
  it("read back as the payload that was stored", () => {
    const text = storedRequestText(payload);
    expect(text.split("\n")).toHaveLength(2);
    expect(parseStoredRequest(text)).toEqual(payload);
  });

  it("read rows written in the earlier format, one JSON document", () => {
    const legacy = JSON.stringify(payload);
    expect(parseStoredRequest(legacy)).toEqual(payload);
    expect(splitStoredRequest(legacy)).toEqual(splitStoredRequest(storedRequestText(payload)));
  });

  it("give the webhook the body it would build from the parsed request, also when cut at max_alerts", () => {
    const { envelope, alertsJson } = splitStoredRequest(storedRequestText(payload));
    for (const maxAlerts of [0, 1, 2, 5]) {
      const body = webhookBody(envelope.request, alertsJson, 2, "http://nines:9093", maxAlerts);
      expect(body).toBe(JSON.stringify(webhookMessage(request, "http://nines:9093", maxAlerts)));
    }
    expect(JSON.parse(webhookBody(envelope.request, alertsJson, 2, "x", 1)).truncatedAlerts).toBe(1);
  });
});
