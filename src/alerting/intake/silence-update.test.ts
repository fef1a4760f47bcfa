import { describe, expect, it } from "vitest";
import type { Matcher } from "../routing/index.js";
import { amSilenceState, canUpdateSilence } from "./silence-update.js";

const NOW = Date.UTC(2026, 5, 1, 12);
const HOUR = 3_600_000;
const eq = (name: string, value: string): Matcher => ({ type: "=", name, value });
const active = { matchers: [eq("alertname", "A")], startsAt: NOW - HOUR + 400, endsAt: NOW + HOUR };
const pending = { matchers: [eq("alertname", "A")], startsAt: NOW + HOUR, endsAt: NOW + 2 * HOUR };

describe("which silence changes Alertmanager makes in place (silence.go canUpdate)", () => {
  it("sees a silence as active at its end instant, as getState does", () => {
    expect(amSilenceState({ startsAt: NOW, endsAt: NOW }, NOW)).toBe("active");
    expect(amSilenceState({ startsAt: NOW, endsAt: NOW }, NOW + 1)).toBe("expired");
    expect(amSilenceState({ startsAt: NOW + 1, endsAt: NOW + 2 }, NOW)).toBe("pending");
  });

  it("lets an active silence change its end, within the same start second", () => {
    expect(canUpdateSilence(active, { ...active, endsAt: NOW + 5 * HOUR }, NOW)).toBe(true);
    expect(canUpdateSilence(active, { ...active, startsAt: active.startsAt - 400 }, NOW)).toBe(true);
    expect(canUpdateSilence(active, { ...active, startsAt: active.startsAt + 600 }, NOW)).toBe(false);
    expect(canUpdateSilence(active, { ...active, endsAt: NOW - 1 }, NOW)).toBe(false);
    expect(canUpdateSilence(active, { ...active, endsAt: NOW }, NOW)).toBe(true);
  });

  it("never changes matchers in place, not even their order, nor a recurrence", () => {
    const two = { ...active, matchers: [eq("alertname", "A"), eq("instance", "db1")] };
    expect(canUpdateSilence(two, { ...two, matchers: [...two.matchers].reverse() }, NOW)).toBe(false);
    expect(
      canUpdateSilence(active, { ...active, matchers: [{ type: "=~", name: "alertname", value: "A" }] }, NOW),
    ).toBe(false);
    expect(
      canUpdateSilence(
        active,
        { ...active, recurrence: { kind: "timeIntervals", timeIntervals: ["weekends"] } },
        NOW,
      ),
    ).toBe(false);
  });

  it("lets a pending silence move as long as it does not start in the past", () => {
    expect(
      canUpdateSilence(pending, { ...pending, startsAt: NOW + 3 * HOUR, endsAt: NOW + 4 * HOUR }, NOW),
    ).toBe(true);
    expect(canUpdateSilence(pending, { ...pending, startsAt: NOW }, NOW)).toBe(true);
    expect(canUpdateSilence(pending, { ...pending, startsAt: NOW - 1 }, NOW)).toBe(false);
  });

  it("never updates an expired silence", () => {
    const expired = { ...active, endsAt: NOW - 1 };
    expect(canUpdateSilence(expired, { ...expired, endsAt: NOW + HOUR }, NOW)).toBe(false);
  });
});
