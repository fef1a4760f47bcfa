import { describe, expect, it } from "vitest";
import { sprintGo } from "./go-format.js";
import { formatGoTime, goDurationString, goTimeValue } from "./go-time.js";

// Go's own examples: time.Date(2009, 11, 10, 23, 0, 0, 0, time.UTC) in the time package documentation.
const GO_EXAMPLE = Date.UTC(2009, 10, 10, 23, 0, 0);

describe("Go times in templates", () => {
  it("formats with Go's reference layouts as time.Format does", () => {
    expect(formatGoTime(GO_EXAMPLE, "Mon, 02 Jan 2006 15:04:05 MST")).toBe("Tue, 10 Nov 2009 23:00:00 UTC");
    expect(formatGoTime(GO_EXAMPLE, "3:04PM")).toBe("11:00PM");
    expect(formatGoTime(GO_EXAMPLE, "2006-01-02T15:04:05Z07:00")).toBe("2009-11-10T23:00:00Z");
    expect(formatGoTime(GO_EXAMPLE + 50, "05.000 05.999 Jan _2 002")).toBe("00.050 00.05 Nov 10 314");
    expect(formatGoTime(Date.UTC(2026, 0, 5, 0, 7), "3:4 pm January 2")).toBe("12:7 am January 5");
  });

  it("prints a time and the zero time as Go's Time.String", () => {
    expect(sprintGo(goTimeValue(GO_EXAMPLE + 123))).toBe("2009-11-10 23:00:00.123 +0000 UTC");
    expect(sprintGo(goTimeValue(0))).toBe("0001-01-01 00:00:00 +0000 UTC");
  });

  it("prints durations as Go's Duration.String", () => {
    expect(goDurationString(0)).toBe("0s");
    expect(goDurationString(150)).toBe("150ms");
    expect(goDurationString(1500)).toBe("1.5s");
    expect(goDurationString(90 * 60_000)).toBe("1h30m0s");
    expect(goDurationString(-61_000)).toBe("-1m1s");
  });
});
