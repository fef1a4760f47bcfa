import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadPatternError, globFiles, segmentRegExp } from "./template-glob.js";

describe("globFiles, as Go's filepath.Glob resolves Alertmanager's templates:", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nines-glob-"));
    for (const name of [
      "b.tmpl",
      "a.tmpl",
      ".hidden.tmpl",
      "c.txt",
      "x1.tmpl",
      "sub/d.tmpl",
      "sub2/e.tmpl",
    ]) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), "");
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const names = (pattern: string) => globFiles(join(dir, pattern)).map((p) => p.slice(dir.length + 1));

  it("matches names in byte order, dot files included, without crossing directories", () => {
    expect(names("*.tmpl")).toEqual([".hidden.tmpl", "a.tmpl", "b.tmpl", "x1.tmpl"]);
    expect(names("sub*/*.tmpl")).toEqual(["sub/d.tmpl", "sub2/e.tmpl"]);
  });

  it("knows ?, classes, negated classes and escapes", () => {
    expect(names("?.tmpl")).toEqual(["a.tmpl", "b.tmpl"]);
    expect(names("[a-b].tmpl")).toEqual(["a.tmpl", "b.tmpl"]);
    expect(names("[^a].tmpl")).toEqual(["b.tmpl"]);
    expect(names("x\\1.tmpl")).toEqual(["x1.tmpl"]);
  });

  it("gives a plain path that exists, and nothing (not an error) for one that does not", () => {
    expect(names("c.txt")).toEqual(["c.txt"]);
    expect(names("missing/*.tmpl")).toEqual([]);
  });

  it("rejects a malformed pattern as Go's ErrBadPattern", () => {
    for (const bad of ["[", "[]a]", "[z-a]", "a\\"])
      expect(() => segmentRegExp(bad), bad).toThrow(BadPatternError);
  });
});
