const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** One multi-window burn-rate alert: fires while both windows burn the budget at least `factor` times too fast. */
export interface BurnRateTier {
  readonly name: string;
  readonly severity: "page" | "ticket";
  readonly factor: number;
  readonly longWindowMs: number;
  readonly shortWindowMs: number;
}

/** The window the SRE workbook's defaults were written for. */
export const WORKBOOK_WINDOW_MS = 30 * DAY;

/**
 * The SRE workbook's multi-window, multi-burn-rate defaults for a 30-day SLO: each tier spends a fixed share
 * of the budget before it fires (2% in 1 h, 5% in 6 h, 10% in 24 h, 10% in 3 d).
 */
export const WORKBOOK_TIERS: readonly BurnRateTier[] = [
  { name: "page-fast", severity: "page", factor: 14.4, longWindowMs: HOUR, shortWindowMs: 5 * MINUTE },
  { name: "page-slow", severity: "page", factor: 6, longWindowMs: 6 * HOUR, shortWindowMs: 30 * MINUTE },
  { name: "ticket-fast", severity: "ticket", factor: 3, longWindowMs: DAY, shortWindowMs: 2 * HOUR },
  { name: "ticket-slow", severity: "ticket", factor: 1, longWindowMs: 3 * DAY, shortWindowMs: 6 * HOUR },
];

/**
 * Tiers for an SLO window other than 30 days: the windows scale with it and the factors stay, so each tier
 * still fires after the same share of the budget is spent (as Pyrra scales its windows). Windows are whole
 * minutes, at least one.
 */
export function scaleTiers(tiers: readonly BurnRateTier[], windowMs: number): BurnRateTier[] {
  const scale = windowMs / WORKBOOK_WINDOW_MS;
  const round = (ms: number) => Math.max(MINUTE, Math.round((ms * scale) / MINUTE) * MINUTE);
  return tiers.map((t) => ({
    ...t,
    longWindowMs: round(t.longWindowMs),
    shortWindowMs: round(t.shortWindowMs),
  }));
}

/** How many times faster than sustainable the budget is being spent: 1 spends it exactly over the window. */
export function burnRate(errorRatio: number, objectivePercent: number): number {
  const budget = 1 - objectivePercent / 100;
  return budget <= 0 ? Number.POSITIVE_INFINITY : errorRatio / budget;
}

/**
 * What is wrong with a tier before it ever runs: a factor the objective cannot reach (a 90% objective burns
 * at most 10×), or a single failure enough to fire it at the expected traffic (one bad event among the
 * events expected in its windows, with the minimum-events guard taken into account).
 */
export function tierWarnings(
  tiers: readonly BurnRateTier[],
  objectivePercent: number,
  expected: { eventsPerHour?: number; minEvents?: number },
): string[] {
  const warnings: string[] = [];
  const maxBurn = burnRate(1, objectivePercent);
  for (const tier of tiers) {
    if (tier.factor > maxBurn) {
      warnings.push(
        `tier ${tier.name} can never fire: at ${objectivePercent}% even 100% errors burn the budget at ${round2(maxBurn)}×, below its ${tier.factor}×`,
      );
      continue;
    }
    const perHour = expected.eventsPerHour;
    if (perHour === undefined || perHour <= 0) continue;
    const longEvents = (perHour * tier.longWindowMs) / HOUR;
    const shortEvents = (perHour * tier.shortWindowMs) / HOUR;
    const guarded = expected.minEvents !== undefined && longEvents < expected.minEvents;
    const oneFailureFires =
      burnRate(1 / Math.max(1, longEvents), objectivePercent) >= tier.factor &&
      burnRate(1 / Math.max(1, shortEvents), objectivePercent) >= tier.factor;
    if (oneFailureFires && !guarded) {
      warnings.push(
        `tier ${tier.name} fires on a single failure at the expected ${perHour} events an hour (${Math.round(longEvents)} in its long window); set alerting.minEvents or lower the objective`,
      );
    }
  }
  return warnings;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
