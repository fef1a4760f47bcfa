export interface Kill9Result {
  cycles: number;
  accepted: number;
  refused: number;
  failedRequests: number;
  outboxRows: number;
  elapsedMs: number;
  /** Alerts that got a 200 and are not in the alerts table. */
  missingInTable: string[];
  /** Alerts that got a 200 and no outbox row of a firing notification. */
  missingOutbox: string[];
  /** Notifications stored under more than one idempotency key. */
  duplicated: string[];
}

export function runKill9(options?: {
  cycles?: number;
  maxMs?: number;
  posters?: number;
  batch?: number;
  log?: (line: string) => void;
}): Promise<Kill9Result>;
