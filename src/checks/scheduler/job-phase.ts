import { createHash } from "node:crypto";

const TWO_POW_48 = 2 ** 48;

/**
 * Where in its interval a job runs, as a fraction in [0, 1), derived from a hash of its key only: jobs with
 * the same interval spread evenly across it, and a restart or a changed interval keeps each job's place.
 * The counterpart of Prometheus's scrape offset (a hash of the target's labels modulo the interval).
 */
export function phaseFraction(key: string): number {
  return createHash("sha256").update(key).digest().readUIntBE(0, 6) / TWO_POW_48;
}

/** The job's offset in ms within its interval: its runs are due at `phase + k × intervalMs` (epoch ms). */
export function jobPhase(key: string, intervalMs: number): number {
  return Math.floor(phaseFraction(key) * intervalMs);
}

/** The first aligned slot (`phase + k × intervalMs`) at or after `from`. */
export function slotAtOrAfter(phase: number, intervalMs: number, from: number): number {
  const offset = (phase - from) % intervalMs;
  return from + (offset < 0 ? offset + intervalMs : offset);
}

/** The first aligned slot strictly after `from`. */
export function slotAfter(phase: number, intervalMs: number, from: number): number {
  const slot = slotAtOrAfter(phase, intervalMs, from);
  return slot === from ? slot + intervalMs : slot;
}
