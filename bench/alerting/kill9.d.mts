export interface Kill9Options {
  /** Crash cycles: start, storm, SIGKILL. */
  cycles?: number;
  /** No new cycle starts after this long. */
  maxMs?: number;
  /** How long the last, unkilled server may take to deliver everything. */
  drainMs?: number;
  /** Concurrent clients posting alerts. */
  posters?: number;
  /** Alerts per POST (one group, so one notification, per POST). */
  batch?: number;
  /** The kill comes at a random moment in this range (ms after the server serves). */
  killAfterMs?: [number, number];
  /** Leaves the data directory in place for inspection (its path is logged). */
  keepDir?: boolean;
  log?: (line: string) => void;
}

export interface Kill9Result {
  cycles: number;
  /** Alerts that got a 200. */
  accepted: number;
  refused: number;
  failedRequests: number;
  /** Webhook requests the sink received. */
  deliveries: number;
  /** Distinct notifications (group, status, alerts) among them. */
  notifications: number;
  /** Deliveries beyond the first of a notification (at least once: allowed under the same key). */
  deliveriesOfSameNotification: number;
  pendingAfterDrain: number;
  deadLetters: number;
  cyclesMs: number;
  drainedInMs: number;
  elapsedMs: number;
  /** Spawn to "serving at": the first (clean) start, the median and the slowest over every start. */
  readyMs: { first: number; p50: number; max: number };
  /** CPU time each server had used when it served (Linux; zeros elsewhere). */
  readyCpuMs: { first: number; p50: number; max: number };
  /** CPU time of every server process over the whole run (Linux; 0 elsewhere). */
  serverCpuMs: number;
  /** Exit code of the last server on SIGTERM (0 when it stopped cleanly). */
  finalExit: number | string | null;
  /** Alerts that got a 200 and reached the sink in no firing payload. */
  missing: string[];
  /** Deliveries without an Idempotency-Key header. */
  withoutKey: string[];
  /** Deliveries whose body is not JSON. */
  notJson: string[];
  /** Notifications delivered under more than one idempotency key. */
  duplicatedUnderTwoKeys: string[];
  /** Idempotency keys that carried more than one notification. */
  keyReused: string[];
}

export function runKill9(options?: Kill9Options): Promise<Kill9Result>;
