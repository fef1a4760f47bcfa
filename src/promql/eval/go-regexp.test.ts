import { describe, expect, it } from "vitest";
import { compileAnchored, expandTemplate } from "./go-regexp.js";

describe("Go RE2 patterns in JavaScript", () => {
  it("anchors patterns at both ends", () => {
    expect(compileAnchored("pro.*").test("production")).toBe(true);
    expect(compileAnchored("duc").test("production")).toBe(false);
  });

  it("supports scoped and global case-insensitivity", () => {
    expect(compileAnchored("(?i:PRO).*").test("production")).toBe(true);
    expect(compileAnchored("(?i)PRO[a-c]*").test("proCAb")).toBe(true);
    expect(compileAnchored(".*(?i:TION)").test("production")).toBe(true);
    expect(compileAnchored("(?i:P)RO").test("pro")).toBe(false);
  });

  it("supports POSIX classes, \\z and named groups", () => {
    expect(compileAnchored("[[:digit:]]+").test("123")).toBe(true);
    expect(compileAnchored("a\\z").test("a")).toBe(true);
    const m = compileAnchored("(?P<first>[a-z]+)-(\\d+)").exec("abc-42");
    expect(m?.groups?.first).toBe("abc");
  });

  it("rejects invalid patterns", () => {
    expect(() => compileAnchored("(.*")).toThrow(/missing closing \)/);
  });

  it("expands templates like Go's Regexp.Expand", () => {
    const m = compileAnchored("(?P<a>\\w+)-(\\w+)").exec("x-y");
    if (m === null) throw new Error("no match");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go template syntax, not a JS template.
    expect(expandTemplate("$1.$2.${a}.$$", m)).toBe("x.y.x.$");
    // A name runs as far as letters, digits and underscores go: $1x is the (absent) group "1x".
    expect(expandTemplate("$1x", m)).toBe("");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Go template syntax, not a JS template.
    expect(expandTemplate("${1}x", m)).toBe("xx");
  });
});
