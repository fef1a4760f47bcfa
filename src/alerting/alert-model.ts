/**
 * An alert as it enters the alerting pipeline, in Alertmanager API v2's terms (postableAlert): from Prometheus
 * (POST /api/v2/alerts), from Nines's own rule groups, from SLO burn-rate tiers and from checks. Times are
 * RFC 3339 text as on the wire; the pipeline validates each alert the way Alertmanager does.
 */
export interface IncomingAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** When the alert started firing; now if absent. */
  startsAt?: string;
  /** When it stops (resolved if in the past); absent means "until told otherwise" (resolve timeout). */
  endsAt?: string;
  generatorURL?: string;
}

/** Where alerts are handed to the routing pipeline. Resolves once they are stored (durably, in production). */
export interface AlertSink {
  receive(alerts: readonly IncomingAlert[], source: AlertSource): Promise<AlertIntakeResult>;
}

export type AlertSource = "api" | "rules" | "slo" | "checks";

export interface AlertIntakeResult {
  accepted: number;
  /** Alerts refused, each with Alertmanager's reason; the valid alerts of the same batch are kept. */
  rejected: Array<{ index: number; reason: string }>;
}
