import { describe, expect, it } from "vitest";
import { compileInterval, intervalContains, type TimeIntervalSpec } from "./time-intervals.js";

function compiled(spec: TimeIntervalSpec) {
  const r = compileInterval(spec);
  expect(r.problems).toEqual([]);
  return r.interval;
}

const at = (iso: string) => Date.parse(iso);

describe("time intervals", () => {
  it("business hours on weekdays, end minute exclusive", () => {
    const i = compiled({ weekdays: ["monday:friday"], times: [{ start_time: "09:00", end_time: "17:00" }] });
    expect(intervalContains(i, at("2026-01-05T09:00:00Z"))).toBe(true); // Monday
    expect(intervalContains(i, at("2026-01-05T16:59:59Z"))).toBe(true);
    expect(intervalContains(i, at("2026-01-05T17:00:00Z"))).toBe(false);
    expect(intervalContains(i, at("2026-01-04T12:00:00Z"))).toBe(false); // Sunday
  });

  it("reads the clock in its location", () => {
    const i = compiled({ weekdays: ["saturday", "sunday"], location: "Australia/Sydney" });
    // Friday 14:00 UTC is Saturday 01:00 in Sydney (UTC+11 in January).
    expect(intervalContains(i, at("2026-01-09T14:00:00Z"))).toBe(true);
    expect(intervalContains(i, at("2026-01-09T12:00:00Z"))).toBe(false);
  });

  it("counts negative days of month from the end of the month", () => {
    const lastTwo = compiled({ days_of_month: ["-2:-1"] });
    expect(intervalContains(lastTwo, at("2026-02-27T00:00:00Z"))).toBe(true);
    expect(intervalContains(lastTwo, at("2026-02-26T23:59:00Z"))).toBe(false);
    expect(intervalContains(lastTwo, at("2026-01-30T00:00:00Z"))).toBe(true);
    expect(intervalContains(lastTwo, at("2026-01-29T00:00:00Z"))).toBe(false);
  });

  it("months by name or number, and years", () => {
    const i = compiled({ months: ["december", "1:2"], years: ["2026:2027"] });
    expect(intervalContains(i, at("2026-02-10T00:00:00Z"))).toBe(true);
    expect(intervalContains(i, at("2026-03-10T00:00:00Z"))).toBe(false);
    expect(intervalContains(i, at("2028-01-10T00:00:00Z"))).toBe(false);
  });

  it("refuses what Alertmanager refuses", () => {
    const messages = (spec: TimeIntervalSpec) => compileInterval(spec).problems.map((p) => p.message);
    expect(messages({ times: [{ start_time: "17:00", end_time: "09:00" }] })).toEqual([
      "start time cannot be equal or greater than end time",
    ]);
    expect(messages({ times: [{ start_time: "9:00", end_time: "10:00" }] })[0]).toMatch(/invalid format/);
    expect(messages({ weekdays: ["funday"] })).toEqual(["funday is not a valid weekday"]);
    expect(messages({ weekdays: ["friday:monday"] })).toEqual(["start day cannot be before end day"]);
    expect(messages({ days_of_month: ["-3:5"] })).toEqual([
      "end day must be negative if start day is negative",
    ]);
    expect(messages({ days_of_month: ["0"] })).toEqual(["0 is not a valid day of the month: out of range"]);
    expect(messages({ location: "Mars/Olympus" })).toEqual(["unknown time zone Mars/Olympus"]);
  });
});
