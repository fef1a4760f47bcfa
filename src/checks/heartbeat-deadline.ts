import { CronExpressionParser } from "cron-parser";
import { durationMs, type HeartbeatSpec } from "./check-kind.js";

/**
 * When the next ping must have arrived, given when the last one did (or when watching began): for a
 * period, last + period + grace; for a cron schedule, the first scheduled time after the last ping, plus grace.
 */
export function nextDeadline(spec: HeartbeatSpec, after: number): number {
  const grace = durationMs(spec.grace);
  if (spec.period !== undefined) return after + durationMs(spec.period) + grace;
  const schedule = CronExpressionParser.parse(spec.schedule ?? "* * * * *", {
    currentDate: new Date(after),
    tz: spec.timezone,
  });
  return schedule.next().getTime() + grace;
}

/** After a missed deadline, the one that follows it: the next expected ping plus grace. */
export function followingDeadline(spec: HeartbeatSpec, missed: number): number {
  const grace = durationMs(spec.grace);
  if (spec.period !== undefined) return missed + durationMs(spec.period);
  return nextDeadline(spec, missed - grace);
}
