import { CronExpressionParser } from "cron-parser";

const DAY = 86_400_000;

/** The period an SLO is measured over: the last N (rolling) or the current calendar month or quarter. */
export type SloWindow =
  | { readonly kind: "rolling"; readonly ms: number }
  | { readonly kind: "calendar"; readonly unit: "month" | "quarter"; readonly timezone: string };

const CALENDAR_CRON = { month: "0 0 1 * *", quarter: "0 0 1 1,4,7,10 *" } as const;

/** The window's length as alert tiers scale to it: a month counts as 30 days and a quarter as 90. */
export function nominalWindowMs(window: SloWindow): number {
  if (window.kind === "rolling") return window.ms;
  return window.unit === "month" ? 30 * DAY : 90 * DAY;
}

/**
 * Where the window that holds `t` starts and ends. A rolling window ends at `t`; a calendar window runs from
 * local midnight on the first day of the month (or quarter) in its time zone to the next such midnight, so
 * its length follows the calendar and daylight-saving changes.
 */
export function windowAt(window: SloWindow, t: number): { start: number; end: number } {
  if (window.kind === "rolling") return { start: t - window.ms, end: t };
  // Cron times have whole seconds; a moment exactly on the boundary belongs to the period it starts.
  const from = new Date(Math.floor(t / 1000) * 1000 + 1000);
  const options = { currentDate: from, tz: window.timezone };
  const start = CronExpressionParser.parse(CALENDAR_CRON[window.unit], options).prev().getTime();
  const end = CronExpressionParser.parse(CALENDAR_CRON[window.unit], {
    ...options,
    currentDate: new Date(start + 1000),
  })
    .next()
    .getTime();
  return { start, end };
}

/** Whether a time zone name is one this runtime knows, e.g. "Europe/Berlin". */
export function isKnownTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
