import { CronExpressionParser } from "cron-parser";
import type { BadAndTotal } from "./bucket-ring.js";
import { type BurnRateTier, burnRate } from "./burn-rate.js";
import { type CountsLevel, TieredCounts } from "./tiered-counts.js";
import { nominalWindowMs, type SloWindow, windowAt } from "./slo-window.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The middle level, for the longer tier windows (1 d and 3 d by default) beyond the minute buckets. */
const TIER_RESOLUTION_MS = 5 * MINUTE;
/** A rolling window's start moves every minute: whole hours, its cut first hour counted pro rata. */
const ROLLING_RESOLUTION_MS = HOUR;
/**
 * A calendar window starts at local midnight, which is on a quarter hour in every time zone in use (India
 * +5:30, Nepal +5:45, Lord Howe's half-hour daylight saving time), so its first bucket is never cut.
 */
const CALENDAR_RESOLUTION_MS = 15 * MINUTE;
/** Longest calendar periods: 31 days, and a quarter of 92; an hour more for a daylight-saving change. */
const LONGEST_MONTH_MS = 31 * DAY + HOUR;
const LONGEST_QUARTER_MS = 92 * DAY + HOUR;

/** Scratch for evaluate(), which runs to completion: sums and burn rates per distinct window, burning per tier. */
const SUMS: BadAndTotal = { bad: 0, total: 0 };
const WINDOW_TOTALS: number[] = [];
/** NaN for a window without events: an array of numbers only keeps them unboxed (no allocation per store). */
const WINDOW_BURNS: number[] = [];
const BURNING: boolean[] = [];

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
 * One SLO (or one group of a grouped SLO): event counts in buckets of three sizes (see `countLevels`) so budget
 * and burn rates over any window are sums of buckets, never re-reads of raw data. Under time-slice budgeting,
 * each closed slice counts as one good or bad event.
 */
export class SloEvaluator {
  /** The events as they arrive, at minute resolution (under time slices, only as far back as a slice needs). */
  private readonly events: TieredCounts;
  /** What the budget and the tiers count: the events, or one event per closed time slice. */
  private readonly budget: TieredCounts;
  /** Start of the next slice to close, under time-slice budgeting. */
  private nextSlice: number | null = null;

  /** The distinct window lengths evaluate() sums, and where each tier, "now" and the trend find theirs. */
  private readonly windows: {
    readonly lengths: readonly number[];
    readonly tiers: ReadonlyArray<{ readonly long: number; readonly short: number }>;
    readonly now: number;
    readonly trend: number;
  };

  constructor(readonly target: SloTarget) {
    const lengths: number[] = [];
    const indexOf = (ms: number): number => {
      const known = lengths.indexOf(ms);
      if (known >= 0) return known;
      lengths.push(ms);
      return lengths.length - 1;
    };
    const tiers = target.tiers.map((t) => ({
      long: indexOf(t.longWindowMs),
      short: indexOf(t.shortWindowMs),
    }));
    // "Now" is the shortest tier window (5 minutes at most); the trend is the first tier's long window.
    const now = indexOf(Math.min(...target.tiers.map((t) => t.shortWindowMs), 5 * MINUTE));
    const trend = indexOf(target.tiers[0]?.longWindowMs ?? 60 * MINUTE);
    this.windows = { lengths, tiers, now, trend };
    const levels = countLevels(target);
    if (target.budgeting.method === "timeslices") {
      const sliceSpan = Math.max(MINUTE, target.budgeting.sliceMs) + MINUTE;
      this.events = new TieredCounts([{ resolutionMs: MINUTE, spanMs: sliceSpan }]);
      this.budget = new TieredCounts(levels);
    } else {
      this.events = new TieredCounts(levels);
      this.budget = this.events;
    }
  }

  /** Counts events at `t`; events in an excluded period are left out. Returns whether they were counted. */
  record(t: number, good: number, total: number): boolean {
    if (total <= 0 || this.excluded(t)) return false;
    if (this.target.budgeting.method === "timeslices") this.closeSlices(t);
    return this.events.add(t, good, total);
  }

  /** Raw events (before time slicing) stamped in [from, to), at minute resolution. */
  eventsBetween(from: number, to: number): { good: number; total: number } {
    return this.events.between(
      Math.floor(from / MINUTE) * MINUTE,
      (Math.floor((to - 1) / MINUTE) + 1) * MINUTE,
    );
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
    // Up to the end of the current minute: the events of the minute in progress count.
    const { good, total } = this.budget.between(window.start, (Math.floor(now / MINUTE) + 1) * MINUTE);
    const errorRatio = total > 0 ? Math.max(0, 1 - good / total) : null;
    const consumed = errorRatio === null ? null : burnRate(errorRatio, objectivePercent);
    const budgetMs = nominalLengthMs(this.target.window, window) * (1 - objectivePercent / 100);

    const pageBurning = this.sumWindows(now);
    const { tiers: tierWindows } = this.windows;
    const tiers: TierState[] = this.target.tiers.map((tier, i) => {
      const { long, short } = tierWindows[i] as { long: number; short: number };
      const isBurning = BURNING[i] === true;
      return {
        name: tier.name,
        severity: tier.severity,
        factor: tier.factor,
        longWindowMs: tier.longWindowMs,
        shortWindowMs: tier.shortWindowMs,
        longBurnRate: burnOf(long),
        shortBurnRate: burnOf(short),
        eventsInLongWindow: WINDOW_TOTALS[long] as number,
        burning: isBurning,
        firing: tierFires(tier, i, pageBurning),
      };
    });

    const burnNow = burnOf(this.windows.now);
    const trend = burnOf(this.windows.trend);
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

  /**
   * Which tiers fire at `now`, into `out` by tier index: what `evaluate(now)` says of each tier's `firing`,
   * without the status. The runtime asks this of every SLO each minute and evaluates only those whose
   * tiers changed: a status is about 35 objects, 10,000 of them a minute.
   */
  firing(now: number, out: boolean[]): void {
    if (this.target.budgeting.method === "timeslices") this.closeSlices(now);
    const pageBurning = this.sumWindows(now);
    for (let i = 0; i < this.target.tiers.length; i++) {
      out[i] = tierFires(this.target.tiers[i] as BurnRateTier, i, pageBurning);
    }
  }

  /**
   * Sums each distinct window ending at `now` into WINDOW_TOTALS and WINDOW_BURNS, and which tiers burn into
   * BURNING; returns whether a page tier burns. Tiers share windows (and "now" and the trend reuse theirs):
   * each window is summed once.
   */
  private sumWindows(now: number): boolean {
    const { objectivePercent } = this.target;
    const { lengths } = this.windows;
    for (let i = 0; i < lengths.length; i++) {
      SUMS.bad = 0;
      SUMS.total = 0;
      this.budget.addWindow(lengths[i] as number, now, MINUTE, SUMS);
      const windowGood = SUMS.total - SUMS.bad;
      WINDOW_TOTALS[i] = SUMS.total;
      WINDOW_BURNS[i] =
        SUMS.total > 0 ? burnRate(Math.max(0, 1 - windowGood / SUMS.total), objectivePercent) : Number.NaN;
    }
    const { tiers: tierWindows } = this.windows;
    let pageBurning = false;
    for (let i = 0; i < this.target.tiers.length; i++) {
      const tier = this.target.tiers[i] as BurnRateTier;
      const { long, short } = tierWindows[i] as { long: number; short: number };
      const enough = (WINDOW_TOTALS[long] as number) >= Math.max(1, this.target.minEvents);
      const isBurning = enough && (burnOf(long) ?? 0) >= tier.factor && (burnOf(short) ?? 0) >= tier.factor;
      BURNING[i] = isBurning;
      if (isBurning && tier.severity === "page") pageBurning = true;
    }
    return pageBurning;
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
    // The raw counts reach back about one slice from the newest: older slices were closed or have no events.
    const held = Math.floor(this.events.oldestStart() / sliceMs) * sliceMs;
    const oldest = Math.max(this.nextSlice, held);
    for (let start = oldest; start < current; start += sliceMs) {
      const sum = this.eventsBetween(start, start + sliceMs);
      if (sum.total <= 0) continue;
      const good = sum.good / sum.total >= sliceTargetPercent / 100 ? 1 : 0;
      this.budget.add(start + sliceMs - 1, good, 1);
    }
    this.nextSlice = Math.max(this.nextSlice, current);
  }
}

/** Whether tier `i`, burning as sumWindows left it in BURNING, fires: a burning page tier silences the tickets. */
function tierFires(tier: BurnRateTier, i: number, pageBurning: boolean): boolean {
  return BURNING[i] === true && !(tier.severity === "ticket" && pageBurning);
}

/** The burn rate summed into WINDOW_BURNS[i], null for a window without events. */
function burnOf(i: number): number | null {
  const burn = WINDOW_BURNS[i] as number;
  return Number.isNaN(burn) ? null : burn;
}

/**
 * Minute buckets as far back as every short window and every page tier's long window reach (6 h by default),
 * so pages fire to the minute; 5-minute buckets for the longer tier windows (1 d and 3 d), whose start is
 * counted pro rata; and coarse buckets over the whole SLO window for the budget. About 16 KB an SLO with the
 * default tiers over 30 days, against 115 KB for minute and quarter-hour running totals in 64-bit floats.
 */
export function countLevels(target: SloTarget): CountsLevel[] {
  const { tiers } = target;
  const sliceMs = target.budgeting.method === "timeslices" ? target.budgeting.sliceMs : 0;
  const fine = Math.max(
    HOUR,
    sliceMs,
    ...tiers.map((t) => t.shortWindowMs),
    ...tiers.filter((t) => t.severity === "page").map((t) => t.longWindowMs),
  );
  const levels: CountsLevel[] = [{ resolutionMs: MINUTE, spanMs: fine }];
  const longestTier = Math.max(0, ...tiers.map((t) => t.longWindowMs));
  if (longestTier > fine) levels.push({ resolutionMs: TIER_RESOLUTION_MS, spanMs: longestTier });
  const { window } = target;
  const windowSpan =
    window.kind === "rolling" ? window.ms : window.unit === "month" ? LONGEST_MONTH_MS : LONGEST_QUARTER_MS;
  const resolution = window.kind === "rolling" ? ROLLING_RESOLUTION_MS : CALENDAR_RESOLUTION_MS;
  const last = levels[levels.length - 1] as CountsLevel;
  if (windowSpan > last.spanMs) {
    // A coarse level must nest its finer one's buckets (a 15-minute level after 5-minute buckets, not 1 hour).
    const nested = resolution % last.resolutionMs === 0 ? resolution : last.resolutionMs;
    levels.push({ resolutionMs: nested, spanMs: windowSpan });
  }
  return levels;
}

/** A calendar window's budget follows its real length (a 31-day month has more budget than February). */
function nominalLengthMs(window: SloWindow, bounds: { start: number; end: number }): number {
  return window.kind === "rolling" ? window.ms : bounds.end - bounds.start;
}
