/** One finished check run, published as "check.ran" for SLIs that count runs as they happen. */
export interface CheckRan {
  check: string;
  service: string;
  at: number;
  ok: boolean;
  degraded: boolean;
  durationMs: number;
}

declare module "../platform/events.js" {
  interface NinesEventMap {
    "check.ran": CheckRan;
  }
}
