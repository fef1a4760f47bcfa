import { describe, expect, it } from "vitest";
import { fingerprint, labelSetString } from "./fingerprint.js";
import { matches, matchersString, parseMatcher, parseMatchers } from "./matchers.js";

describe("fingerprint", () => {
  it("is Alertmanager's FNV-1a 64 of the sorted labels", () => {
    // Values from prometheus/common model's signature tests.
    expect(fingerprint({})).toBe(14695981039346656037n.toString(16));
    expect(fingerprint({ name: "garland, briggs", fear: "love is not enough" })).toBe("507a62d79ee76c9a");
  });

  it("hashes the UTF-8 bytes of values outside ASCII, mixed or not", () => {
    // Values from the earlier implementation, which hashed every string through TextEncoder.
    expect(fingerprint({ alertname: "Plätze voll", city: "東京", x: "a\u00ffb" })).toBe("a100843ae07a69fb");
    expect(fingerprint({ a: "" })).toBe("e57e2e1903df23e2");
  });

  it("does not depend on the order labels were written in", () => {
    expect(fingerprint({ a: "1", b: "2" })).toBe(fingerprint({ b: "2", a: "1" }));
    expect(fingerprint({ a: "1", b: "2" })).not.toBe(fingerprint({ a: "2", b: "1" }));
  });

  it("prints label sets as Go's model.LabelSet does", () => {
    expect(labelSetString({ job: "api", alertname: 'say "hi"' })).toBe(
      '{alertname="say \\"hi\\"", job="api"}',
    );
  });
});

describe("matchers", () => {
  it("parses the classic forms, quoted or not", () => {
    expect(parseMatcher('alertname="Watchdog"')).toEqual({ type: "=", name: "alertname", value: "Watchdog" });
    expect(parseMatcher("severity!=info")).toEqual({ type: "!=", name: "severity", value: "info" });
    expect(parseMatcher('  team =~ "db|api" ')).toEqual({ type: "=~", name: "team", value: "db|api" });
    expect(parseMatcher('msg!~"a\\"b"')).toEqual({ type: "!~", name: "msg", value: 'a"b' });
  });

  it("parses several matchers in braces, commas inside quotes kept", () => {
    expect(parseMatchers('{a="1,2", b=~"x|y"}')).toEqual([
      { type: "=", name: "a", value: "1,2" },
      { type: "=~", name: "b", value: "x|y" },
    ]);
  });

  it("accepts the UTF-8 form with a quoted label name", () => {
    expect(parseMatcher('"service.name"="checkout"')).toEqual({
      type: "=",
      name: "service.name",
      value: "checkout",
    });
  });

  it("refuses bad syntax and regexes Go would not compile", () => {
    expect(() => parseMatcher("no operator")).toThrow(/bad matcher format/);
    expect(() => parseMatcher('a="unterminated')).toThrow(/unescaped double quote/);
    expect(() => parseMatcher('a=~"(unclosed"')).toThrow(/error parsing regexp/);
    expect(() => parseMatcher('a=~"(?=look)"')).toThrow(/error parsing regexp/);
  });

  it("anchors regexes and treats a missing label as empty", () => {
    const m = parseMatcher('severity=~"crit"');
    expect(matches(m, { severity: "critical" })).toBe(false);
    expect(matches(m, { severity: "crit" })).toBe(true);
    expect(matches(parseMatcher('team=""'), {})).toBe(true);
    expect(matches(parseMatcher('team!=""'), {})).toBe(false);
    expect(matches(parseMatcher('team=~".*"'), {})).toBe(true);
  });

  it("prints matchers as Alertmanager's route keys do", () => {
    expect(matchersString(parseMatchers('{team="db",severity=~"page|crit"}'))).toBe(
      '{team="db",severity=~"page|crit"}',
    );
  });
});
