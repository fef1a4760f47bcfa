import type { Silence } from "../routing/index.js";

/**
 * A silence's state as Alertmanager's silence.getState sees it: pending before its start, expired only after
 * its end (at its end instant it is still active).
 */
export function amSilenceState(
  s: Pick<Silence, "startsAt" | "endsAt">,
  now: number,
): "pending" | "active" | "expired" {
  if (now < s.startsAt) return "pending";
  if (now > s.endsAt) return "expired";
  return "active";
}

/**
 * Alertmanager's silence.canUpdate (0.25): posting a silence with an existing id changes it in place only when
 * that does not rewrite what it muted. Its matchers (in order) must stay the same; an active silence must keep
 * its start (to the second) and not end in the past; a pending one must not start in the past; an expired one
 * never changes. Nines's recurrence counts as a matcher: changing it changes what was muted.
 */
export function canUpdateSilence(
  before: Pick<Silence, "matchers" | "startsAt" | "endsAt" | "recurrence">,
  after: Pick<Silence, "matchers" | "startsAt" | "endsAt" | "recurrence">,
  now: number,
): boolean {
  const sameMatchers =
    before.matchers.length === after.matchers.length &&
    before.matchers.every((m, i) => {
      const n = after.matchers[i];
      return n !== undefined && m.type === n.type && m.name === n.name && m.value === n.value;
    });
  if (!sameMatchers) return false;
  if (JSON.stringify(before.recurrence ?? null) !== JSON.stringify(after.recurrence ?? null)) return false;
  switch (amSilenceState(before, now)) {
    case "active":
      // Go's time.Unix(): whole seconds, so a start sent back with less precision still counts as the same.
      return Math.floor(after.startsAt / 1000) === Math.floor(before.startsAt / 1000) && after.endsAt >= now;
    case "pending":
      return after.startsAt >= now;
    case "expired":
      return false;
  }
}
