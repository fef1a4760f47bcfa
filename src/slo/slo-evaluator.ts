import { CronExpressionParser } from "cron-parser";
import { BucketRing } from "./bucket-ring.js";
import { type BurnRateTier, burnRate } from "./burn-rate.js";
import { nominalWindowMs, type SloWindow, windowAt } from "./slo-window.js";

const MINUTE = 60_000;
/** Resolution of the ring that holds the whole SLO window: fine enough for every real time zone's midnight. */
const LONG_RESOLUTION_MS = 15 * MINUTE;
const LONGEST_CALENDAR_MS = 93 * 86_400_000;

export type Budgeting =
  | { readonly method: "occurrences" }
  | { readonly method: "timeslices"; readonly sliceMs: number; readonly sliceTargetPercent: number };

/** A period left out of the budget: once, or recurring on a cron schedule for a duration. */
export type Exclusion =
  | { readonly kind: "once"; readonly start: number; readonly end: number }
  | {
      readonly kind: "recurring";
      readonly schedule: string;
      readonly timezone: string;
      readonly durationMs: number;
    };

/** What the evaluator needs of an SLO, already validated and in milliseconds. */
export interface SloTarget {
  readonly objectivePercent: number;
  readonly window: SloWindow;
  readonly budgeting: Budgeting;
  readonly tiers: readonly BurnRateTier[];
  /** Events a tier's long window must hold before the tier may fire. */
  readonly minEvents: number;
  readonly exclusions: readonly Exclusion[];
}

export type SloHealth = "healthy" | "warning" | "exhausted" | "insufficient_data";

export interface TierState {
  readonly name: string;
  readonly severity: "page" | "ticket";
  readonly factor: number;
  readonly longWindowMs: number;
  readonly shortWindowMs: number;
  readonly longBurnRate: number | null;
  readonly shortBurnRate: number | null;
  readonly eventsInLongWindow: number;
  /** Both windows burn at least the factor with enough events. */
  readonly burning: boolean;
  /** Burning and not suppressed by a burning page tier of the same SLO. */
  readonly firing: boolean;
}

export interface SloStatus {
  readonly at: number;
  readonly window: { readonly start: number; readonly end: number };
  /** Good ratio over the window (of events, or of time slices), null without data. */
  readonly sli: number | null;
  readonly good: number;
  readonly total: number;
  readonly errorBudget: {
    /** Share of the budget left: 1 untouched, 0 spent, negative overspent. Null without data. */
    readonly remaining: number | null;
    readonly consumed: number | null;
    /** The budget as time at the window's length (43.2 min for 99.9% over 30 d), and what is left of it. */
    readonly totalMs: number;
    readonly remainingMs: number | null;
  };
  /** Burn rate over the shortest tier window ("now") and each tier's windows. */
  readonly burnRateNow: number | null;
  /** At the burn rate of the first tier's long window, when the budget runs out; null if it is not burning. */
  readonly exhaustionAt: number | null;
  readonly tiers: readonly TierState[];
  readonly status: SloHealth;
}

/**
 * One SLO (or one group of a grouped SLO): event counts in 1-minute buckets for the alert windows and
 * 15-minute buckets for the whole SLO window, so budget and burn rates over any window are sums of buckets,
 * never re-reads of raw data. Under time-slice budgeting, each closed slice counts as one good or bad event.
 */
export class SloEvaluator {
  private readonly events: BucketRing;
  private readonly budgetShort: BucketRing;
  private readonly budgetLong: BucketRing;
  /** Start of the next slice to close, under time-slice budgeting. */
  private nextSlice: number | null = null;

  constructor(readonly target: SloTarget) {
    const longestTier = Math.max(MINUTE, ...target.tiers.map((t) => t.longWindowMs));
    const sliceMs = target.budgeting.method === "timeslices" ? target.budgeting.sliceMs : 0;
    const shortLength = Math.ceil(Math.max(longestTier, sliceMs) / MINUTE) + 2;
    const windowMs = target.window.kind === "rolling" ? target.window.ms : LONGEST_CALENDAR_MS;
    this.events = new BucketRing(MINUTE, shortLength);
    this.budgetShort =
      target.budgeting.method === "timeslices" ? new BucketRing(MINUTE, shortLength) : this.events;
    this.budgetLong = new BucketRing(LONG_RESOLUTION_MS, Math.ceil(windowMs / LONG_RESOLUTION_MS) + 2);
  }

  /** Counts events at `t`; events in an excluded period are left out. Returns whether they were counted. */
  record(t: number, good: number, total: number): boolean {
    if (total <= 0 || this.excluded(t)) return false;
    if (this.target.budgeting.method === "timeslices") {
      this.closeSlices(t);
      return this.events.add(t, good, total);
    }
    const kept = this.events.add(t, good, total);
    this.budgetLong.add(t, good, total);
    return kept;
  }

  /** Raw events (before time slicing) stamped in [from, to), at minute resolution. */
  eventsBetween(from: number, to: number): { good: number; total: number } {
    return this.events.between(this.events.bucketOf(from) - 1, this.events.bucketOf(to - 1));
  }

  excluded(t: number): boolean {
    for (const e of this.target.exclusions) {
      if (e.kind === "once") {
        if (t >= e.start && t < e.end) return true;
        continue;
      }
      const from = new Date(Math.floor(t / 1000) * 1000 + 1000);
      const start = CronExpressionParser.parse(e.schedule, { currentDate: from, tz: e.timezone })
        .prev()
        .getTime();
      if (t >= start && t < start + e.durationMs) return true;
    }
    return false;
  }

  evaluate(now: number): SloStatus {
    if (this.target.budgeting.method === "timeslices") this.closeSlices(now);
    const { objectivePercent } = this.target;
    const window = windowAt(this.target.window, now);
    const bucketNow = this.budgetLong.bucketOf(now);
    const fromBucket = this.budgetLong.bucketOf(window.start) - 1;
    const { good, total } = this.budgetLong.between(fromBucket, bucketNow);
    const errorRatio = total > 0 ? 1 - good / total : null;
    const consumed = errorRatio === null ? null : burnRate(errorRatio, objectivePercent);
    const budgetMs = nominalLengthMs(this.target.window, window) * (1 - objectivePercent / 100);

    const burnOver = (ms: number): { burn: number | null; total: number } => {
      const sum = this.budgetShort.sum(ms, now);
      return {
        burn: sum.total > 0 ? burnRate(1 - sum.good / sum.total, objectivePercent) : null,
        total: sum.total,
      };
    };
    const burning = this.target.tiers.map((tier) => {
      const long = burnOver(tier.longWindowMs);
      const short = burnOver(tier.shortWindowMs);
      const enough = long.total >= Math.max(1, this.target.minEvents);
      return {
        tier,
        long,
        short,
        burning: enough && (long.burn ?? 0) >= tier.factor && (short.burn ?? 0) >= tier.factor,
      };
    });
    const pageBurning = burning.some((b) => b.burning && b.tier.severity === "page");
    const tiers: TierState[] = burning.map(({ tier, long, short, burning: isBurning }) => ({
      name: tier.name,
      severity: tier.severity,
      factor: tier.factor,
      longWindowMs: tier.longWindowMs,
      shortWindowMs: tier.shortWindowMs,
      longBurnRate: long.burn,
      shortBurnRate: short.burn,
      eventsInLongWindow: long.total,
      burning: isBurning,
      firing: isBurning && !(tier.severity === "ticket" && pageBurning),
    }));

    const shortest = Math.min(...this.target.tiers.map((t) => t.shortWindowMs), 5 * MINUTE);
    const burnNow = burnOver(shortest).burn;
    const firstLong = this.target.tiers[0]?.longWindowMs ?? 60 * MINUTE;
    const trend = burnOver(firstLong).burn;
    const remaining = consumed === null ? null : 1 - consumed;
    const windowMs = nominalWindowMs(this.target.window);
    const exhaustionAt =
      remaining !== null && remaining > 0 && trend !== null && trend > 0
        ? now + (remaining * windowMs) / trend
        : null;
    const status: SloHealth =
      total === 0 || total < this.target.minEvents
        ? "insufficient_data"
        : remaining !== null && remaining <= 0
          ? "exhausted"
          : tiers.some((t) => t.firing) || (remaining !== null && remaining < 0.25)
            ? "warning"
            : "healthy";
    return {
      at: now,
      window,
      sli: total > 0 ? good / total : null,
      good,
      total,
      errorBudget: {
        remaining,
        consumed,
        totalMs: budgetMs,
        remainingMs: remaining === null ? null : remaining * budgetMs,
      },
      burnRateNow: burnNow,
      exhaustionAt,
      tiers,
      status,
    };
  }

  /** Closes every slice that ended by `t`: a slice with events is good when its good share meets the target. */
  private closeSlices(t: number): void {
    if (this.target.budgeting.method !== "timeslices") return;
    const { sliceMs, sliceTargetPercent } = this.target.budgeting;
    const current = Math.floor(t / sliceMs) * sliceMs;
    if (this.nextSlice === null) {
      this.nextSlice = current;
      return;
    }
    // After a long silence only the slices still inside the rings matter.
    const oldest = Math.max(
      this.nextSlice,
      current - Math.ceil((this.budgetLong.length * LONG_RESOLUTION_MS) / sliceMs) * sliceMs,
    );
    for (let start = oldest; start < current; start += sliceMs) {
      const sum = this.events.between(
        this.events.bucketOf(start) - 1,
        this.events.bucketOf(start + sliceMs - 1),
      );
      if (sum.total <= 0) continue;
      const good = sum.good / sum.total >= sliceTargetPercent / 100 ? 1 : 0;
      const at = start + sliceMs - 1;
      this.budgetShort.add(at, good, 1);
      this.budgetLong.add(at, good, 1);
    }
    this.nextSlice = Math.max(this.nextSlice, current);
  }
}

/** A calendar window's budget follows its real length (a 31-day month has more budget than February). */
function nominalLengthMs(window: SloWindow, bounds: { start: number; end: number }): number {
  return window.kind === "rolling" ? window.ms : bounds.end - bounds.start;
}
