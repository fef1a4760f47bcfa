/**
 * Alertmanager's time intervals (timeinterval/timeinterval.go): a named interval is active when any of its
 * entries contains the instant; an entry contains it when every field it sets does (times, weekdays,
 * days_of_month with negatives counted from the month's end, months, years), read in its location.
 */

export interface TimeIntervalSpec {
  times?: Array<{ start_time: string; end_time: string }>;
  weekdays?: string[];
  days_of_month?: string[];
  months?: string[];
  years?: string[];
  location?: string;
}

interface Range {
  begin: number;
  end: number;
}

export interface CompiledInterval {
  times?: Array<{ start: number; end: number }>;
  weekdays?: Range[];
  daysOfMonth?: Range[];
  months?: Range[];
  years?: Range[];
  location?: string;
}

const WEEKDAYS: Record<string, number> = {
  sunday: 0,
  monday: 1,
  tuesday: 2,
  wednesday: 3,
  thursday: 4,
  friday: 5,
  saturday: 6,
};
const MONTHS: Record<string, number> = {
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  may: 5,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
};
const MONTH_NAMES = Object.keys(MONTHS);
const VALID_TIME = /^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)/;

/** A problem with one field of an interval entry: the path below the entry and Alertmanager's message. */
export interface IntervalProblem {
  path: Array<string | number>;
  message: string;
}

function atoi(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text) ? Number(text) : undefined;
}

function parseRange(text: string, member: (s: string) => number | string): Range | string {
  const parts = text.toLowerCase().split(":");
  if (parts.length < 1 || parts.length > 2) return `couldn't parse range ${text}, invalid format`;
  const begin = member(parts[0] ?? "");
  if (typeof begin === "string") return begin;
  if (parts.length === 1) return { begin, end: begin };
  const end = member(parts[1] ?? "");
  if (typeof end === "string") return end;
  return { begin, end };
}

const intMember = (s: string): number | string => atoi(s) ?? `strconv.Atoi: parsing "${s}": invalid syntax`;

function parseTime(text: string): number | string {
  if (!VALID_TIME.test(text)) return `couldn't parse timestamp ${text}, invalid format`;
  const [h = "0", m = "0"] = text.split(":");
  return Number(h) * 60 + Number(m);
}

/** Validates and compiles one entry of a time interval, collecting every problem. */
export function compileInterval(spec: TimeIntervalSpec): {
  interval: CompiledInterval;
  problems: IntervalProblem[];
} {
  const problems: IntervalProblem[] = [];
  const interval: CompiledInterval = {};
  if (spec.times !== undefined) {
    interval.times = [];
    spec.times.forEach((t, i) => {
      if (!t.start_time || !t.end_time) {
        problems.push({ path: ["times", i], message: "both start and end times must be provided" });
        return;
      }
      const start = parseTime(t.start_time);
      const end = parseTime(t.end_time);
      if (typeof start === "string") problems.push({ path: ["times", i, "start_time"], message: start });
      else if (typeof end === "string") problems.push({ path: ["times", i, "end_time"], message: end });
      else if (start >= end)
        problems.push({ path: ["times", i], message: "start time cannot be equal or greater than end time" });
      else interval.times?.push({ start, end });
    });
  }
  if (spec.weekdays !== undefined) {
    interval.weekdays = [];
    spec.weekdays.forEach((text, i) => {
      const r = parseRange(text, (s) => WEEKDAYS[s] ?? `${s} is not a valid weekday`);
      if (typeof r === "string") problems.push({ path: ["weekdays", i], message: r });
      else if (r.begin > r.end)
        problems.push({ path: ["weekdays", i], message: "start day cannot be before end day" });
      else interval.weekdays?.push(r);
    });
  }
  if (spec.days_of_month !== undefined) {
    interval.daysOfMonth = [];
    spec.days_of_month.forEach((text, i) => {
      const r = parseRange(text, intMember);
      const at = ["days_of_month", i];
      if (typeof r === "string") problems.push({ path: at, message: r });
      else if (r.begin === 0 || r.begin < -31 || r.begin > 31)
        problems.push({ path: at, message: `${r.begin} is not a valid day of the month: out of range` });
      else if (r.end === 0 || r.end < -31 || r.end > 31)
        problems.push({ path: at, message: `${r.end} is not a valid day of the month: out of range` });
      else if (r.begin < 0 && r.end > 0)
        problems.push({ path: at, message: "end day must be negative if start day is negative" });
      else if ((r.begin < 0 ? 28 + r.begin : r.begin) > (r.end < 0 ? 28 + r.end : r.end))
        problems.push({ path: at, message: `end day ${r.end} is always before start day ${r.begin}` });
      else interval.daysOfMonth?.push(r);
    });
  }
  if (spec.months !== undefined) {
    interval.months = [];
    spec.months.forEach((text, i) => {
      const r = parseRange(text, (s) => MONTHS[s] ?? atoi(s) ?? `${s} is not a valid month`);
      if (typeof r === "string") problems.push({ path: ["months", i], message: r });
      else if (r.begin > r.end)
        problems.push({
          path: ["months", i],
          message: `end month ${MONTH_NAMES[r.end - 1] ?? r.end} is before start month ${MONTH_NAMES[r.begin - 1] ?? r.begin}`,
        });
      else if (r.begin < 1 || r.end > 12)
        problems.push({ path: ["months", i], message: `${text} is not a valid month: out of range` });
      else interval.months?.push(r);
    });
  }
  if (spec.years !== undefined) {
    interval.years = [];
    spec.years.forEach((text, i) => {
      const r = parseRange(text, intMember);
      if (typeof r === "string") problems.push({ path: ["years", i], message: r });
      else if (r.begin > r.end)
        problems.push({ path: ["years", i], message: `end year ${r.end} is before start year ${r.begin}` });
      else interval.years?.push(r);
    });
  }
  if (spec.location !== undefined) {
    if (!isValidTimeZone(spec.location))
      problems.push({ path: ["location"], message: `unknown time zone ${spec.location}` });
    else interval.location = spec.location;
  }
  return { interval, problems };
}

export function isValidTimeZone(zone: string): boolean {
  if (zone === "Local" || zone === "UTC" || zone === "") return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  weekday: number;
  minuteOfDay: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock reading of an instant in a zone (UTC when none; "Local" is UTC on a server, as in a container). */
export function wallClock(at: number, zone: string | undefined): WallClock {
  const tz = zone === undefined || zone === "" || zone === "Local" ? "UTC" : zone;
  let fmt = formatters.get(tz);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formatters.set(tz, fmt);
  }
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(at))) parts[p.type] = p.value;
  const weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(parts.weekday ?? "Sun");
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday,
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const clamp = (n: number, min: number, max: number) => Math.min(Math.max(n, min), max);

/** TimeInterval.ContainsTime. */
export function intervalContains(interval: CompiledInterval, at: number): boolean {
  const t = wallClock(at, interval.location);
  if (interval.times && !interval.times.some((r) => t.minuteOfDay >= r.start && t.minuteOfDay < r.end))
    return false;
  if (interval.daysOfMonth) {
    const dim = daysInMonth(t.year, t.month);
    const inside = interval.daysOfMonth.some((r) => {
      let begin = r.begin < 0 ? dim + r.begin + 1 : r.begin;
      let end = r.end < 0 ? dim + r.end + 1 : r.end;
      if (begin > dim) return false;
      begin = clamp(begin, -dim, dim);
      end = clamp(end, -dim, dim);
      return t.day >= begin && t.day <= end;
    });
    if (!inside) return false;
  }
  if (interval.months && !interval.months.some((r) => t.month >= r.begin && t.month <= r.end)) return false;
  if (interval.weekdays && !interval.weekdays.some((r) => t.weekday >= r.begin && t.weekday <= r.end))
    return false;
  if (interval.years && !interval.years.some((r) => t.year >= r.begin && t.year <= r.end)) return false;
  return true;
}

/** A named interval is active when any of its entries contains the instant. */
export function anyIntervalContains(intervals: readonly CompiledInterval[], at: number): boolean {
  return intervals.some((i) => intervalContains(i, at));
}
