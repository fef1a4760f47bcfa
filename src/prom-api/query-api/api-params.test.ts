import { describe, expect, it } from "vitest";
import {
  ApiParams,
  limitParam,
  MAX_TIME,
  MIN_TIME,
  parseDuration,
  parseMatchers,
  parseTime,
} from "./api-params.js";

describe("Prometheus API parameters", () => {
  it("parses times as unix seconds (rounded to the millisecond) or RFC 3339", () => {
    expect(parseTime("1435781451.781")).toBe(1435781451781);
    expect(parseTime("1.0505")).toBe(1050);
    expect(parseTime("1e3")).toBe(1_000_000);
    expect(parseTime("-1.5")).toBe(-1500);
    expect(parseTime("2015-07-01T20:10:51.781Z")).toBe(1435781451781);
    expect(parseTime("2015-07-01T20:10:51Z")).toBe(1435781451000);
    expect(parseTime("2015-07-01T22:10:51.7819+02:00")).toBe(1435781451781);
    expect(parseTime("-292273086-05-16T16:47:06Z")).toBe(MIN_TIME);
    expect(parseTime("292277025-08-18T07:12:54.999999999Z")).toBe(MAX_TIME);
    for (const bad of ["", "abc", "1.5x", "2015-07-01", "2015-13-01T00:00:00Z", "0x10"]) {
      expect(() => parseTime(bad), bad).toThrow(`cannot parse ${JSON.stringify(bad)} to a valid timestamp`);
    }
  });

  it("parses durations as float seconds or Prometheus durations, in milliseconds", () => {
    expect(parseDuration("15")).toBe(15_000);
    expect(parseDuration("0.5")).toBe(500);
    expect(parseDuration("15s")).toBe(15_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("0")).toBe(0);
    for (const bad of ["", "1x", "s", "1.5m"]) {
      expect(() => parseDuration(bad), bad).toThrow(
        `cannot parse ${JSON.stringify(bad)} to a valid duration`,
      );
    }
  });

  it("reads form values before query-string values, and keeps repeated match[]", () => {
    const params = ApiParams.from(
      new URLSearchParams("query=fromQuery&match[]=a&only=q"),
      "application/x-www-form-urlencoded; charset=utf-8",
      Buffer.from("query=fromForm&match[]=b&match[]=c"),
    );
    expect(params.get("query")).toBe("fromForm");
    expect(params.get("only")).toBe("q");
    expect(params.get("missing")).toBe("");
    expect(params.getAll("match[]")).toEqual(["b", "c", "a"]);
    const notForm = ApiParams.from(
      new URLSearchParams("query=q"),
      "application/json",
      Buffer.from("query=x"),
    );
    expect(notForm.get("query")).toBe("q");
  });

  it("parses match[] selectors into matcher sets and refuses what is not a selector", () => {
    expect(parseMatchers(['up{job="a"}', '{__name__=~"x.*"}'])).toEqual([
      [
        { name: "__name__", op: "=", value: "up" },
        { name: "job", op: "=", value: "a" },
      ],
      [{ name: "__name__", op: "=~", value: "x.*" }],
    ]);
    expect(() => parseMatchers(["up + 1"])).toThrow(/^invalid parameter "match\[\]": /);
    expect(() => parseMatchers(["up offset 5m"])).toThrow(/not a series selector/);
    expect(() => parseMatchers(['{a=~".*"}'])).toThrow(/at least one non-empty matcher/);
  });

  it("reads limit: 0 or missing means none; negative or non-numeric is bad data", () => {
    const limit = (q: string) => limitParam(new ApiParams(new URLSearchParams(q), undefined));
    expect(limit("")).toBe(0);
    expect(limit("limit=5")).toBe(5);
    expect(() => limit("limit=-1")).toThrow("limit must be non-negative");
    expect(() => limit("limit=x")).toThrow('invalid parameter "limit"');
  });
});
