import type { Kysely } from "kysely";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Schema } from "../platform/db/schema.js";
import { type NotificationStatus, storedStatuses } from "./notification-queries.js";

/** "webhook_configs[0]" → "webhook", the integration label Alertmanager's metrics use. */
export function integrationLabel(integration: string): string {
  return integration.replace(/_configs(\[\d+\])?$/, "");
}

export interface NotifyMetrics {
  notifications: Counter<"receiver" | "integration" | "result">;
  attempts: Counter<"receiver" | "integration" | "outcome">;
}

/**
 * Delivery metrics on the instance's registry. The dead-letter and queue gauges are read from the database
 * at scrape time, so every replica reports the same (whole-database) numbers: aggregate them with max().
 */
export function createNotifyMetrics(registry: Registry, db: Kysely<Schema>): NotifyMetrics {
  const existing = registry.getSingleMetric("nines_notifications_total");
  if (existing) {
    // A second worker on the same registry (tests, a restart in-process) shares the counters.
    return {
      notifications: existing as Counter<"receiver" | "integration" | "result">,
      attempts: registry.getSingleMetric("nines_notification_attempts_total") as Counter<
        "receiver" | "integration" | "outcome"
      >,
    };
  }
  const notifications = new Counter({
    name: "nines_notifications_total",
    help: "Notifications finished, by receiver, integration and result (delivered or dead).",
    labelNames: ["receiver", "integration", "result"] as const,
    registers: [registry],
  });
  const attempts = new Counter({
    name: "nines_notification_attempts_total",
    help: "Delivery attempts, by receiver, integration and outcome (success or failure).",
    labelNames: ["receiver", "integration", "outcome"] as const,
    registers: [registry],
  });
  const byStatus = async (status: NotificationStatus) =>
    db
      .selectFrom("notification_outbox")
      .select(["receiver", "integration", db.fn.countAll<number | string | bigint>().as("n")])
      .where("status", "in", storedStatuses(status))
      .groupBy(["receiver", "integration"])
      .execute();
  const fill = async (gauge: Gauge<"receiver" | "integration">, status: NotificationStatus) => {
    gauge.reset();
    try {
      const totals = new Map<string, { receiver: string; integration: string; n: number }>();
      for (const row of await byStatus(status)) {
        const integration = integrationLabel(row.integration);
        const key = `${row.receiver}\u0000${integration}`;
        const entry = totals.get(key) ?? { receiver: row.receiver, integration, n: 0 };
        entry.n += Number(row.n);
        totals.set(key, entry);
      }
      for (const t of totals.values()) gauge.set({ receiver: t.receiver, integration: t.integration }, t.n);
    } catch {
      // A closed or unreachable database leaves the gauge empty rather than failing the whole scrape.
    }
  };
  new Gauge({
    name: "nines_notifications_dead",
    help: "Dead-lettered notifications now stored (retry them from the API).",
    labelNames: ["receiver", "integration"] as const,
    registers: [registry],
    async collect() {
      await fill(this, "dead");
    },
  });
  new Gauge({
    name: "nines_notification_queue_depth",
    help: "Notifications waiting for delivery (pending, including those being retried).",
    labelNames: ["receiver", "integration"] as const,
    registers: [registry],
    async collect() {
      await fill(this, "pending");
    },
  });
  return { notifications, attempts };
}
