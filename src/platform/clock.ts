/**
 * Time is injected so that schedules, burn rates and escalations can be tested in simulated time.
 * Domain code never calls Date.now() itself.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to; for tests and simulations. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  set(at: number | Date): void {
    this.current = typeof at === "number" ? at : at.getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
