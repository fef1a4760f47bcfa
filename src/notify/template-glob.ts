import { lstatSync, readdirSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";

/** Go's filepath.ErrBadPattern, with what is wrong. */
export class BadPatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`syntax error in pattern "${pattern}": ${why}`);
    this.name = "BadPatternError";
  }
}

const META = /[*?[\\]/;

const escapeRegExp = (c: string) => c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/**
 * One path element of a pattern as Go's path/filepath.Match reads it: `*` is any run of characters but the
 * separator, `?` one of them, `[a-z]`/`[^a-z]` a class, `\` escapes the next character.
 */
export function segmentRegExp(pattern: string, whole = pattern): RegExp {
  let out = "";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      const next = chars[++i];
      if (next === undefined) throw new BadPatternError(whole, "trailing backslash");
      out += escapeRegExp(next);
    } else if (c === "[") {
      let j = i + 1;
      let negate = false;
      if (chars[j] === "^") {
        negate = true;
        j++;
      }
      const items: string[] = [];
      let closed = false;
      for (let first = true; j < chars.length; first = false) {
        const d = chars[j] as string;
        if (d === "]" && !first) {
          closed = true;
          break;
        }
        // Go's getEsc: an unescaped '-' or a ']' right after '[' is malformed.
        if (d === "-" || d === "]") throw new BadPatternError(whole, `unescaped "${d}" in [ ] class`);
        const lo = d === "\\" ? chars[++j] : d;
        if (lo === undefined) break;
        j++;
        if (chars[j] === "-" && chars[j + 1] !== undefined && chars[j + 1] !== "]") {
          j++;
          const hiRaw = chars[j] === "\\" ? chars[++j] : chars[j];
          if (hiRaw === undefined) break;
          if (hiRaw === "-") throw new BadPatternError(whole, 'unescaped "-" in [ ] class');
          j++;
          if (hiRaw < lo) throw new BadPatternError(whole, `range ${lo}-${hiRaw} is reversed`);
          items.push(`${escapeRegExp(lo)}-${escapeRegExp(hiRaw)}`);
        } else items.push(escapeRegExp(lo));
      }
      if (!closed || items.length === 0) throw new BadPatternError(whole, "unclosed or empty [ ] class");
      out += negate ? `[^/${items.join("")}]` : `[${items.join("")}]`;
      i = j;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`, "u");
}

/**
 * Go's filepath.Glob, as Alertmanager resolves `templates:`: the files whose path matches the pattern,
 * sorted within each directory; a pattern that matches nothing gives an empty list (not an error), and a
 * malformed one throws BadPatternError. Unlike a shell, `*` also matches names that start with a dot.
 */
export function globFiles(pattern: string): string[] {
  if (!META.test(pattern)) {
    try {
      lstatSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const dir = dirname(pattern);
  const name = pattern.slice(pattern.lastIndexOf(sep) + 1);
  const regex = segmentRegExp(name, pattern);
  const dirs = dir !== pattern && META.test(dir) ? globFiles(dir) : [dir];
  const out: string[] = [];
  for (const d of dirs) {
    try {
      if (!statSync(d).isDirectory()) continue;
      const names = readdirSync(d).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const entry of names) if (regex.test(entry)) out.push(join(d, entry));
    } catch {
      // Go's Glob ignores I/O errors such as an unreadable directory.
    }
  }
  return out;
}
