/**
 * Prometheus regular expressions are Go RE2, fully anchored. JavaScript lacks RE2's scoped flags
 * (`(?i:…)`), POSIX classes and `\z`, so patterns are rewritten into an equivalent JavaScript RegExp.
 */

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7F",
  blank: "\\t ",
  cntrl: "\\x00-\\x1F\\x7F",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-/:-@[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

const cache = new Map<string, RegExp>();

/** Compiles a Go regexp anchored at both ends (as Prometheus's label matchers are). Throws on bad syntax. */
export function compileAnchored(pattern: string): RegExp {
  const key = `a:${pattern}`;
  let re = cache.get(key);
  if (re === undefined) {
    const { source, flags } = translate(pattern);
    re = new RegExp(`^(?:${source})$`, flags);
    if (cache.size > 1000) cache.clear();
    cache.set(key, re);
  }
  return re;
}

function isLetter(ch: string): boolean {
  return ch.toLowerCase() !== ch.toUpperCase();
}

function caseFold(ch: string): string {
  const lower = ch.toLowerCase();
  const upper = ch.toUpperCase();
  return lower === upper ? escapeIfNeeded(ch) : `[${lower}${upper}]`;
}

function escapeIfNeeded(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

interface Translation {
  source: string;
  flags: string;
}

/** Rewrites RE2 syntax into JavaScript syntax; a leading global `(?s)` becomes the `s` flag. */
export function translate(pattern: string): Translation {
  let out = "";
  let dotAll = false;
  // One entry per open group: the case-insensitivity in force when it was opened.
  const stack: boolean[] = [];
  let ci = false;
  let i = 0;
  const n = pattern.length;
  while (i < n) {
    const ch = pattern[i] as string;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined)
        throw new Error("error parsing regexp: trailing backslash at end of expression");
      if (next === "z") out += "$(?![\\s\\S])";
      else if (next === "A") out += "^";
      else if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const lit = end < 0 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        for (const c of lit) out += ci ? caseFold(c) : escapeIfNeeded(c);
        i = end < 0 ? n : end + 2;
        continue;
      } else if (ci && isLetter(next) && !/[dDsSwWbBpPnrtfv]/.test(next)) out += caseFold(next);
      else out += `\\${next}`;
      i += 2;
      continue;
    }
    if (ch === "[") {
      const end = classEnd(pattern, i);
      out += translateClass(pattern.slice(i, end), ci);
      i = end;
      continue;
    }
    if (ch === "(") {
      if (pattern[i + 1] === "?") {
        const flagMatch = /^\(\?([a-zA-Z-]*)(:|\))/.exec(pattern.slice(i));
        if (pattern[i + 2] === "P" && pattern[i + 3] === "<") {
          stack.push(ci);
          out += "(?<";
          i += 4;
          continue;
        }
        if (flagMatch !== null && flagMatch[1] !== undefined) {
          const flagText = flagMatch[1];
          let on = true;
          let newCi: boolean = ci;
          for (const f of flagText) {
            if (f === "-") on = false;
            else if (f === "i") newCi = on;
            else if (f === "s") {
              if (out === "" && on) dotAll = true;
              else if (on !== dotAll)
                throw new Error("error parsing regexp: scoped (?s) flag is not supported");
            } else if (f === "m" || f === "U") {
              throw new Error(`error parsing regexp: flag ${f} is not supported`);
            } else
              throw new Error(`error parsing regexp: invalid or unsupported Perl syntax: \`(?${flagText}\``);
          }
          if (flagMatch[2] === ":") {
            stack.push(ci);
            ci = newCi;
            out += "(?:";
          } else ci = newCi;
          i += flagMatch[0].length;
          continue;
        }
        if (pattern[i + 2] === ":" || pattern[i + 2] === "=" || pattern[i + 2] === "!") {
          stack.push(ci);
          out += "(?:";
          i += 3;
          continue;
        }
        throw new Error(
          `error parsing regexp: invalid or unsupported Perl syntax: \`${pattern.slice(i, i + 3)}\``,
        );
      }
      stack.push(ci);
      out += "(";
      i++;
      continue;
    }
    if (ch === ")") {
      const prev = stack.pop();
      if (prev === undefined) throw new Error(`error parsing regexp: unexpected ): \`${pattern}\``);
      ci = prev;
      out += ")";
      i++;
      continue;
    }
    if (ci && isLetter(ch)) out += caseFold(ch);
    else out += ch;
    i++;
  }
  if (stack.length > 0) throw new Error(`error parsing regexp: missing closing ): \`${pattern}\``);
  return { source: out, flags: dotAll ? "s" : "" };
}

function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "\\") i += 2;
    else if (ch === "[" && pattern[i + 1] === ":") {
      const close = pattern.indexOf(":]", i + 2);
      i = close < 0 ? i + 1 : close + 2;
    } else if (ch === "]") return i + 1;
    else i++;
  }
  throw new Error(`error parsing regexp: missing closing ]: \`${pattern.slice(start)}\``);
}

function translateClass(cls: string, ci: boolean): string {
  let body = cls.slice(1, -1);
  let negate = "";
  if (body.startsWith("^")) {
    negate = "^";
    body = body.slice(1);
  }
  let out = "";
  let i = 0;
  const items: string[] = [];
  while (i < body.length) {
    const ch = body[i] as string;
    if (ch === "[" && body[i + 1] === ":") {
      const close = body.indexOf(":]", i + 2);
      const name = body.slice(i + 2, close);
      const neg = name.startsWith("^");
      const expansion = POSIX_CLASSES[neg ? name.slice(1) : name];
      if (expansion === undefined || neg)
        throw new Error(`error parsing regexp: invalid character class range`);
      out += expansion;
      i = close + 2;
      continue;
    }
    if (ch === "\\") {
      out += body.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (ch === "[") out += "\\[";
    else out += ch;
    if (ci && isLetter(ch)) {
      const isRange = body[i + 1] === "-" && body[i + 2] !== undefined && body[i + 2] !== "]";
      if (isRange) {
        const hi = body[i + 2] as string;
        out += `-${hi}`;
        if (isLetter(hi)) items.push(`${swapCase(ch)}-${swapCase(hi)}`);
        i += 3;
        continue;
      }
      items.push(swapCase(ch));
    }
    i++;
  }
  return `[${negate}${out}${items.join("")}]`;
}

function swapCase(ch: string): string {
  const lower = ch.toLowerCase();
  return lower === ch ? ch.toUpperCase() : lower;
}

/**
 * Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}` and `$$`. A name is the longest run of letters,
 * digits and underscores, so `$1x` refers to a group named "1x" (empty when absent).
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = "";
  let i = 0;
  while (i < template.length) {
    const ch = template[i] as string;
    if (ch !== "$") {
      out += ch;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === "$") {
      out += "$";
      i += 2;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (next === "{") {
      const close = template.indexOf("}", i + 2);
      if (close > i + 2 && /^\w+$/.test(template.slice(i + 2, close))) {
        name = template.slice(i + 2, close);
        end = close + 1;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m !== null) {
        name = m[0];
        end = i + 1 + m[0].length;
      }
    }
    if (name === undefined) {
      out += "$";
      i++;
      continue;
    }
    if (/^\d+$/.test(name)) out += match[Number(name)] ?? "";
    else out += match.groups?.[name] ?? "";
    i = end;
  }
  return out;
}
