import { describe, expect, it } from "vitest";
import { loadSettings } from "./settings.js";

describe("server settings from the environment", () => {
  it("reads the rule-restore durations and the heap growth, with Prometheus's defaults", () => {
    const defaults = loadSettings({});
    expect(defaults).toMatchObject({
      rulesForOutageTolerance: 3_600_000,
      rulesForGracePeriod: 600_000,
      heapGrowthPercent: 50,
    });
    const set = loadSettings({
      NINES_RULES_FOR_OUTAGE_TOLERANCE: "2h",
      NINES_RULES_FOR_GRACE_PERIOD: "1m30s",
      NINES_HEAP_GROWTH_PERCENT: "0",
    });
    expect(set).toMatchObject({
      rulesForOutageTolerance: 7_200_000,
      rulesForGracePeriod: 90_000,
      heapGrowthPercent: 0,
    });
  });

  it("names the variable and what is wrong with its value", () => {
    expect(() => loadSettings({ NINES_RULES_FOR_GRACE_PERIOD: "ten minutes" })).toThrow(
      /^NINES_RULES_FOR_GRACE_PERIOD: must be a duration such as "2m", "15d" or "1h30m"$/,
    );
    expect(() => loadSettings({ NINES_HEAP_GROWTH_PERCENT: "-5" })).toThrow(/^NINES_HEAP_GROWTH_PERCENT: /);
  });
});
