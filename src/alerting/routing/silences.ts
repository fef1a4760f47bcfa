import { CronExpressionParser } from "cron-parser";
import type { LabelSet } from "./fingerprint.js";
import { type Matcher, matchesAll, matchesValue, parseMatchers } from "./matchers.js";
import { parseModelDuration } from "./duration.js";
import { type CompiledInterval, anyIntervalContains, isValidTimeZone } from "./time-intervals.js";

/**
 * A silence as Alertmanager's silence/silence.go defines it (matchers, startsAt ≤ t < endsAt), plus Nines's
 * recurring silences: inside its start and end, a recurring silence mutes only while one of its named time
 * intervals is active, or for `duration` after each occurrence of a cron schedule (in `timezone`).
 */
export interface Silence {
  id: string;
  matchers: Matcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  recurrence?: Recurrence;
}

export type Recurrence =
  | { kind: "timeIntervals"; timeIntervals: string[] }
  | { kind: "cron"; cron: string; durationMs: number; timezone: string };

/** A silence as a user writes it (API, CLI, config): matchers as text, times as RFC 3339. */
export interface SilenceInput {
  id?: string;
  matchers: Array<string | Matcher>;
  startsAt?: string | number;
  endsAt: string | number;
  createdBy?: string;
  comment?: string;
  recurrence?: { timeIntervals: string[] } | { cron: string; duration: string; timezone?: string };
}

export type SilenceState = "pending" | "active" | "expired";

export function silenceState(s: Silence, at: number): SilenceState {
  if (at < s.startsAt) return "pending";
  if (at < s.endsAt) return "active";
  return "expired";
}

/** True when the silence mutes alerts at this instant (its window, and its recurrence if it has one). */
export function silenceActiveAt(
  s: Silence,
  at: number,
  intervals: ReadonlyMap<string, CompiledInterval[]>,
): boolean {
  if (silenceState(s, at) !== "active") return false;
  const r = s.recurrence;
  if (r === undefined) return true;
  if (r.kind === "timeIntervals") {
    return r.timeIntervals.some((name) => anyIntervalContains(intervals.get(name) ?? [], at));
  }
  // The latest occurrence at or before `at` is the one whose window reaches furthest.
  try {
    const it = CronExpressionParser.parse(r.cron, { tz: r.timezone, currentDate: new Date(at + 1) });
    const prev = it.prev().getTime();
    return at < prev + r.durationMs;
  } catch {
    return false;
  }
}

export function silenceMatches(s: Silence, labels: LabelSet): boolean {
  return matchesAll(s.matchers, labels);
}

function toMillis(value: string | number | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value === "number") return value;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Validates a silence the way Alertmanager's API does, plus the recurrence; problems are messages. */
export function parseSilence(
  input: SilenceInput,
  now: number,
  newId: () => string,
  intervalNames: ReadonlySet<string>,
): { silence?: Silence; problems: string[] } {
  const problems: string[] = [];
  const matchers: Matcher[] = [];
  for (const m of input.matchers) {
    if (typeof m !== "string") matchers.push(m);
    else {
      try {
        matchers.push(...parseMatchers(m));
      } catch (error) {
        problems.push(`matcher ${JSON.stringify(m)}: ${(error as Error).message}`);
      }
    }
  }
  if (matchers.length === 0 && problems.length === 0) problems.push("at least one matcher required");
  if (matchers.length > 0 && matchers.every((m) => matchesValue(m, "")))
    problems.push("at least one matcher must not match the empty string");
  const startsAt = toMillis(input.startsAt, now);
  const endsAt = toMillis(input.endsAt, now);
  if (startsAt === undefined) problems.push(`startsAt: not an RFC 3339 time: ${String(input.startsAt)}`);
  if (endsAt === undefined) problems.push(`endsAt: not an RFC 3339 time: ${String(input.endsAt)}`);
  if (startsAt !== undefined && endsAt !== undefined && endsAt <= startsAt)
    problems.push("end time must not be before or equal to start time");
  if (endsAt !== undefined && endsAt <= now) problems.push("end time can't be in the past");
  let recurrence: Recurrence | undefined;
  const r = input.recurrence;
  if (r !== undefined) {
    if ("timeIntervals" in r) {
      if (r.timeIntervals.length === 0)
        problems.push("recurrence.timeIntervals: name at least one time interval");
      for (const name of r.timeIntervals)
        if (!intervalNames.has(name)) problems.push(`recurrence: undefined time interval "${name}"`);
      recurrence = { kind: "timeIntervals", timeIntervals: r.timeIntervals };
    } else {
      const timezone = r.timezone ?? "UTC";
      const durationMs = parseModelDuration(r.duration);
      if (typeof durationMs !== "number") problems.push(`recurrence.duration: ${durationMs.error}`);
      else if (durationMs <= 0) problems.push("recurrence.duration must be more than 0");
      if (!isValidTimeZone(timezone)) problems.push(`recurrence.timezone: unknown time zone ${timezone}`);
      else {
        try {
          CronExpressionParser.parse(r.cron, { tz: timezone });
        } catch (error) {
          problems.push(`recurrence.cron: ${(error as Error).message}`);
        }
      }
      recurrence = {
        kind: "cron",
        cron: r.cron,
        durationMs: typeof durationMs === "number" ? durationMs : 0,
        timezone,
      };
    }
  }
  if (problems.length > 0 || startsAt === undefined || endsAt === undefined) return { problems };
  const silence: Silence = {
    id: input.id ?? newId(),
    matchers,
    startsAt,
    endsAt,
    createdBy: input.createdBy ?? "",
    comment: input.comment ?? "",
  };
  if (recurrence !== undefined) silence.recurrence = recurrence;
  return { silence, problems };
}
