import { GoMap, GoStruct, type GoValue, goTypeName, methodSetOf, sprintfGo, sprintGo } from "./go-format.js";

/**
 * The part of Go's text/template that alert labels, annotations and notification messages are written in:
 * `{{ $labels.x }}`, `{{ .Value }}`, pipelines (`{{ $value | humanize }}`), function calls
 * (`printf "%.2f" $value`), methods (`.Alerts.Firing`, `.CommonLabels.Remove (stringSlice "a")`), variables,
 * `if`/`else if`/`else`, `with`, `range` over maps and lists, `define`/`template`/`block`, `{{-`/`-}}`
 * trimming and comments. Unknown functions and malformed actions are parse errors, reported at load time as
 * Prometheus does.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

type Token =
  | { t: "field"; name: string; space: boolean; pos: number }
  | { t: "var"; name: string; space: boolean; pos: number }
  | { t: "ident"; name: string; space: boolean; pos: number }
  | { t: "lit"; value: GoValue; space: boolean; pos: number }
  | { t: "dot" | "pipe" | "lparen" | "rparen" | "declare" | "assign" | "comma"; space: boolean; pos: number };

type Operand =
  | { kind: "dot"; chain: string[] }
  | { kind: "field"; chain: string[] }
  | { kind: "var"; name: string; chain: string[] }
  | { kind: "ident"; name: string }
  | { kind: "lit"; value: GoValue }
  | { kind: "pipe"; pipe: Pipe; chain: string[] };

interface Command {
  args: Operand[];
  text: string;
}

interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

type TNode =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipe; line: number; col: number; text: string }
  | { kind: "template"; name: string; pipe: Pipe | undefined; text: string }
  | BlockNode;

/** Templates named by `{{ define }}` / `{{ block }}`, which `{{ template "name" . }}` executes. */
type Definitions = Map<string, TNode[]>;

/** Deeper `{{ template }}` nesting than this is a runaway recursion (Go stops at 100000 frames). */
const MAX_TEMPLATE_DEPTH = 1000;

interface BlockNode {
  kind: "if" | "with" | "range";
  pipe: Pipe;
  list: TNode[];
  elseList: TNode[] | undefined;
}

export type TemplateFunction = (args: GoValue[]) => GoValue;

export interface FunctionSpec {
  /** Number of arguments; undefined: any number (variadic). */
  arity?: number | [number, number];
  fn: TemplateFunction;
}

/** A parsed template, ready to execute many times with different data. */
export class GoTemplate {
  private constructor(
    readonly name: string,
    private readonly root: TNode[],
    private readonly functions: Readonly<Record<string, FunctionSpec>>,
    private readonly definitions: Definitions,
  ) {}

  /**
   * Parses `text`; throws a TemplateError with Go's `template: NAME:LINE: …` text for a malformed one.
   * `library` holds template files whose `{{ define "x" }}` blocks the text may call with `{{ template "x" . }}`
   * (their other content is ignored, as Alertmanager's template files); the text's own definitions win.
   */
  static parse(
    name: string,
    text: string,
    functions: Readonly<Record<string, FunctionSpec>>,
    library: readonly { name: string; text: string }[] = [],
  ): GoTemplate {
    const definitions: Definitions = new Map();
    for (const file of library) new TemplateParser(file.name, file.text, functions, definitions).parseAll();
    const parser = new TemplateParser(name, text, functions, definitions);
    return new GoTemplate(name, parser.parseAll(), functions, definitions);
  }

  /** Whether `{{ template "name" }}` finds a definition (in the text or its library). */
  defines(name: string): boolean {
    return this.definitions.has(name);
  }

  /** Executes with `dot` as `.` and `$`, and the given variables (`$labels`…); throws TemplateError. */
  execute(dot: GoValue, variables: Readonly<Record<string, GoValue>> = {}): string {
    const vars: Array<[string, GoValue]> = [["$", dot], ...Object.entries(variables)];
    const out: string[] = [];
    new Executor(this.name, this.functions, out, this.definitions).walk(this.root, dot, vars);
    return out.join("");
  }
}

// ---------- parsing

interface Segment {
  kind: "text" | "action";
  text: string;
  offset: number;
}

function splitSegments(name: string, input: string): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  let trimNext = false;
  while (i < input.length) {
    const open = input.indexOf("{{", i);
    let text = open < 0 ? input.slice(i) : input.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open < 0) {
      if (text !== "") segments.push({ kind: "text", text, offset: i });
      break;
    }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(input.slice(start, start + 2))) {
      text = text.replace(/\s+$/, "");
      start += 1;
    }
    if (text !== "") segments.push({ kind: "text", text, offset: i });
    // Find the closing delimiter outside quoted strings.
    let j = start;
    let quote = "";
    for (; j < input.length; j++) {
      const c = input[j];
      if (quote !== "") {
        if (c === "\\" && quote !== "`") j++;
        else if (c === quote) quote = "";
        continue;
      }
      if (c === '"' || c === "`" || c === "'") quote = c;
      else if (c === "}" && input[j + 1] === "}") break;
    }
    if (j >= input.length)
      throw new TemplateError(`template: ${name}:${lineAt(input, open)}: unclosed action`);
    let body = input.slice(start, j);
    if (/[ \t\r\n]-$/.test(body)) {
      body = body.slice(0, -1);
      trimNext = true;
    }
    segments.push({ kind: "action", text: body, offset: start });
    i = j + 2;
  }
  return segments;
}

function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

function unquoteGo(lit: string): string {
  if (lit.startsWith("`")) return lit.slice(1, -1);
  if (lit.startsWith("'")) {
    const inner = JSON.parse(`"${lit.slice(1, -1).replace(/"/g, '\\"')}"`) as string;
    return String(inner.codePointAt(0) ?? 0);
  }
  const inner = lit
    .slice(1, -1)
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => `\\u00${h}`)
    .replace(/\\U([0-9a-fA-F]{8})/g, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/\\([abfv])/g, (_, c: string) => ({ a: "\\u0007", b: "\\b", f: "\\f", v: "\\u000b" })[c] ?? c)
    .replace(
      /\\([0-7]{3})/g,
      (_, o: string) => `\\u00${Number.parseInt(o, 8).toString(16).padStart(2, "0")}`,
    );
  return JSON.parse(`"${inner}"`) as string;
}

function lexAction(name: string, body: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new TemplateError(`template: ${name}:${line}: ${msg}`);
  };
  while (i < body.length) {
    const start = i;
    const space = i === 0 || /\s/.test(body[i - 1] ?? "");
    const c = body[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = body.slice(i);
    if (c === "|") {
      tokens.push({ t: "pipe", space, pos: start });
      i++;
    } else if (c === "(") {
      tokens.push({ t: "lparen", space, pos: start });
      i++;
    } else if (c === ")") {
      tokens.push({ t: "rparen", space, pos: start });
      i++;
    } else if (c === ",") {
      tokens.push({ t: "comma", space, pos: start });
      i++;
    } else if (rest.startsWith(":=")) {
      tokens.push({ t: "declare", space, pos: start });
      i += 2;
    } else if (c === "=") {
      tokens.push({ t: "assign", space, pos: start });
      i++;
    }
    if (i !== start) continue;
    const field = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    const variable = /^\$[A-Za-z0-9_]*/.exec(rest);
    const quoted = /^("(?:[^"\\\n]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)+')/.exec(rest);
    const numeric = /^[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d*(?:[eE][+-]?\d+)?)/.exec(rest);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0];
    if (field !== null) {
      tokens.push({ t: "field", name: field[0].slice(1), space, pos: start });
      i += field[0].length;
    } else if (variable !== null) {
      tokens.push({ t: "var", name: variable[0], space, pos: start });
      i += variable[0].length;
    } else if (quoted !== null) {
      const text = quoted[0];
      const value: GoValue = text.startsWith("'") ? BigInt(unquoteGo(text)) : unquoteGo(text);
      tokens.push({ t: "lit", value, space, pos: start });
      i += text.length;
    } else if (numeric !== null && /\d/.test(numeric[0])) {
      const text = numeric[0].replace(/_/g, "");
      const value: GoValue =
        /^[+-]?\d+$/.test(text) || /^[+-]?0[xX]/.test(text) ? BigInt(text.replace(/^\+/, "")) : Number(text);
      tokens.push({ t: "lit", value, space, pos: start });
      i += numeric[0].length;
    } else if (c === ".") {
      tokens.push({ t: "dot", space, pos: start });
      i++;
    } else if (word !== undefined) {
      if (word === "true" || word === "false")
        tokens.push({ t: "lit", value: word === "true", space, pos: start });
      else if (word === "nil") tokens.push({ t: "lit", value: null, space, pos: start });
      else tokens.push({ t: "ident", name: word, space, pos: start });
      i += word.length;
    } else fail(`unexpected ${JSON.stringify(c)} in command`);
  }
  return tokens;
}

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "with",
  "range",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

class TemplateParser {
  private segments: Segment[];
  private index = 0;

  constructor(
    private readonly name: string,
    private readonly input: string,
    private readonly functions: Readonly<Record<string, FunctionSpec>>,
    private readonly definitions: Definitions,
  ) {
    this.segments = splitSegments(name, input);
  }

  parseAll(): TNode[] {
    const { list, stop } = this.parseList();
    if (stop !== undefined) this.fail(stop.offset, `unexpected {{${stop.word}}}`);
    return list;
  }

  private fail(offset: number, msg: string): never {
    throw new TemplateError(`template: ${this.name}:${lineAt(this.input, offset)}: ${msg}`);
  }

  /** Parses nodes until `{{end}}`/`{{else…}}` (returned as stop) or the end of input. */
  private parseList(): { list: TNode[]; stop?: { word: "end" | "else"; offset: number; rest: Token[] } } {
    const list: TNode[] = [];
    while (this.index < this.segments.length) {
      const seg = this.segments[this.index++] as Segment;
      if (seg.kind === "text") {
        list.push({ kind: "text", text: seg.text });
        continue;
      }
      const trimmed = seg.text.trim();
      if (trimmed.startsWith("/*")) {
        if (!trimmed.endsWith("*/")) this.fail(seg.offset, "unclosed comment");
        continue;
      }
      const line = lineAt(this.input, seg.offset);
      const tokens = lexAction(this.name, seg.text, line);
      const first = tokens[0];
      if (first === undefined) this.fail(seg.offset, "missing value for command");
      if (first.t === "ident" && KEYWORDS.has(first.name)) {
        const rest = tokens.slice(1);
        switch (first.name) {
          case "end":
          case "else":
            return { list, stop: { word: first.name, offset: seg.offset, rest } };
          case "if":
          case "with":
          case "range":
            list.push(this.parseBlock(first.name, rest, seg.offset));
            continue;
          case "define":
          case "block": {
            const name = this.templateName(rest, first.name, seg.offset);
            const body = this.parseList();
            if (body.stop?.word !== "end" || body.stop.rest.length > 0)
              this.fail(seg.offset, `unexpected EOF in ${first.name} "${name}"`);
            this.definitions.set(name, body.list);
            if (first.name === "block") list.push(this.templateCall(name, rest, seg));
            continue;
          }
          case "template":
            list.push(this.templateCall(this.templateName(rest, "template", seg.offset), rest, seg));
            continue;
          default:
            this.fail(seg.offset, `{{${first.name}}} is not supported in Nines's templates`);
        }
      }
      const pipe = this.parsePipe(tokens, seg.offset, true);
      list.push({ kind: "action", pipe, line, col: seg.offset, text: seg.text.trim() });
    }
    return { list };
  }

  private templateName(tokens: Token[], keyword: string, offset: number): string {
    const first = tokens[0];
    if (first?.t !== "lit" || typeof first.value !== "string")
      this.fail(offset, `unexpected name in ${keyword} clause: want a quoted string`);
    return first.value;
  }

  /** `{{ template "name" pipeline }}`: the pipeline (optional) becomes the called template's dot. */
  private templateCall(name: string, tokens: Token[], seg: Segment): TNode {
    const argTokens = tokens.slice(1);
    const pipe = argTokens.length > 0 ? this.parsePipe(argTokens, seg.offset, false) : undefined;
    return { kind: "template", name, pipe, text: seg.text.trim() };
  }

  private parseBlock(kind: "if" | "with" | "range", tokens: Token[], offset: number): TNode {
    const pipe = this.parsePipe(tokens, offset, true);
    const body = this.parseList();
    if (body.stop === undefined) this.fail(offset, `unexpected EOF`);
    let elseList: TNode[] | undefined;
    if (body.stop.word === "else") {
      const nested = body.stop.rest[0];
      if (nested?.t === "ident" && (nested.name === "if" || nested.name === "with") && kind !== "range") {
        // {{else if …}} is an if inside the else branch that shares this block's {{end}}.
        elseList = [this.parseBlock(nested.name, body.stop.rest.slice(1), body.stop.offset)];
      } else {
        if (body.stop.rest.length > 0) this.fail(body.stop.offset, "unexpected tokens after else");
        const tail = this.parseList();
        if (tail.stop?.word !== "end") this.fail(offset, "expected end; found EOF");
        elseList = tail.list;
      }
    } else if (body.stop.rest.length > 0) this.fail(body.stop.offset, "unexpected tokens after end");
    return { kind, pipe, list: body.list, elseList };
  }

  private parsePipe(tokens: Token[], offset: number, allowDecl: boolean): Pipe {
    let pos = 0;
    const decl: string[] = [];
    let assign = false;
    if (allowDecl) {
      // $x := …, $k, $v := …, $x = …
      let j = 0;
      const names: string[] = [];
      while (tokens[j]?.t === "var") {
        names.push((tokens[j] as { name: string }).name);
        if (tokens[j + 1]?.t === "comma") j += 2;
        else {
          j++;
          break;
        }
      }
      const op = tokens[j];
      if (names.length > 0 && (op?.t === "declare" || op?.t === "assign")) {
        decl.push(...names);
        assign = op.t === "assign";
        pos = j + 1;
      }
    }
    const cmds: Command[] = [];
    let current: Operand[] = [];
    let cmdStart = pos;
    const finish = (end: number) => {
      if (current.length === 0) this.fail(offset, "missing command");
      cmds.push({ args: current, text: tokens.slice(cmdStart, end).map(tokenText).join(" ") });
      current = [];
    };
    while (pos < tokens.length) {
      const tok = tokens[pos] as Token;
      if (tok.t === "pipe") {
        finish(pos);
        pos++;
        cmdStart = pos;
        continue;
      }
      const { operand, next } = this.parseOperand(tokens, pos, offset);
      current.push(operand);
      pos = next;
    }
    if (current.length > 0 || cmds.length === 0) finish(pos);
    for (const cmd of cmds.slice(1)) {
      const head = cmd.args[0];
      if (head?.kind === "lit") this.fail(offset, "non executable command in pipeline stage 2");
    }
    return { decl, assign, cmds };
  }

  private parseOperand(tokens: Token[], pos: number, offset: number): { operand: Operand; next: number } {
    const tok = tokens[pos] as Token;
    let operand: Operand;
    let next = pos + 1;
    switch (tok.t) {
      case "field": {
        operand = { kind: "field", chain: [tok.name] };
        break;
      }
      case "dot":
        operand = { kind: "dot", chain: [] };
        break;
      case "var":
        operand = { kind: "var", name: tok.name, chain: [] };
        break;
      case "ident":
        if (!(tok.name in this.functions)) this.fail(offset, `function "${tok.name}" not defined`);
        operand = { kind: "ident", name: tok.name };
        break;
      case "lit":
        operand = { kind: "lit", value: tok.value };
        break;
      case "lparen": {
        let depth = 1;
        let j = pos + 1;
        for (; j < tokens.length; j++) {
          const t = tokens[j] as Token;
          if (t.t === "lparen") depth++;
          if (t.t === "rparen" && --depth === 0) break;
        }
        if (j >= tokens.length) this.fail(offset, "unclosed left paren");
        operand = { kind: "pipe", pipe: this.parsePipe(tokens.slice(pos + 1, j), offset, false), chain: [] };
        next = j + 1;
        break;
      }
      default:
        this.fail(offset, `unexpected "${tokenText(tok)}" in operand`);
    }
    // Field chains glued to the operand: $labels.instance, (…).x, .Labels.job
    while (tokens[next]?.t === "field" && !(tokens[next] as Token).space) {
      const f = tokens[next] as { name: string };
      if (
        operand.kind === "field" ||
        operand.kind === "dot" ||
        operand.kind === "var" ||
        operand.kind === "pipe"
      )
        operand.chain.push(f.name);
      else this.fail(offset, `unexpected . after term "${tokenText(tok)}"`);
      next++;
    }
    return { operand, next };
  }
}

function tokenText(t: Token): string {
  switch (t.t) {
    case "field":
      return `.${t.name}`;
    case "var":
    case "ident":
      return t.name;
    case "lit":
      return typeof t.value === "string" ? JSON.stringify(t.value) : sprintGo(t.value);
    case "dot":
      return ".";
    case "pipe":
      return "|";
    case "lparen":
      return "(";
    case "rparen":
      return ")";
    case "declare":
      return ":=";
    case "assign":
      return "=";
    case "comma":
      return ",";
  }
}

// ---------- execution

/** Go's notion of an "empty" value for if/with/and/or/not. */
export function goTruth(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "string") return v !== "";
  if (typeof v === "number") return v !== 0;
  if (typeof v === "bigint") return v !== 0n;
  if (typeof v === "boolean") return v;
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoStruct) return true;
  return v.length > 0;
}

class Executor {
  private current = "";

  private depth = 0;

  constructor(
    private readonly name: string,
    private readonly functions: Readonly<Record<string, FunctionSpec>>,
    private readonly out: string[],
    private readonly definitions: Definitions,
  ) {}

  private fail(msg: string): never {
    throw new TemplateError(`template: ${this.name}: executing "${this.name}" at <${this.current}>: ${msg}`);
  }

  walk(nodes: readonly TNode[], dot: GoValue, vars: Array<[string, GoValue]>): void {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          this.out.push(node.text);
          break;
        case "action": {
          const value = this.pipe(node.pipe, dot, vars);
          if (node.pipe.decl.length === 0) this.out.push(sprintGo(value));
          break;
        }
        case "if":
        case "with": {
          const mark = vars.length;
          const value = this.pipe(node.pipe, dot, vars);
          if (goTruth(value)) this.walk(node.list, node.kind === "with" ? value : dot, vars);
          else if (node.elseList !== undefined) this.walk(node.elseList, dot, vars);
          vars.length = mark;
          break;
        }
        case "range":
          this.range(node, dot, vars);
          break;
        case "template": {
          this.current = node.text;
          const body = this.definitions.get(node.name);
          if (body === undefined) this.fail(`template "${node.name}" not defined`);
          const value = node.pipe === undefined ? null : this.pipe(node.pipe, dot, vars);
          if (++this.depth > MAX_TEMPLATE_DEPTH)
            this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
          // A called template sees only its own dot, as `.` and `$`: no variables of the caller.
          this.walk(body, value, [["$", value]]);
          this.depth--;
          break;
        }
      }
    }
  }

  private range(node: BlockNode, dot: GoValue, vars: Array<[string, GoValue]>): void {
    const mark = vars.length;
    const decl = node.pipe.decl;
    const value = this.pipe({ ...node.pipe, decl: [] }, dot, vars);
    let items: Array<[GoValue, GoValue]>;
    if (value instanceof GoMap) items = value.sortedKeys().map((k) => [k, value.entries.get(k)]);
    else if (Array.isArray(value)) items = value.map((v, i) => [BigInt(i), v]);
    else if (typeof value === "bigint")
      items = Array.from({ length: Number(value) }, (_, i) => [BigInt(i), BigInt(i)]);
    else if (value === undefined || value === null) items = [];
    else this.fail(`range can't iterate over ${sprintGo(value as GoValue)}`);
    for (const [key, item] of items) {
      const scope: Array<[string, GoValue]> = [...vars];
      if (decl.length === 1) scope.push([decl[0] as string, item]);
      else if (decl.length === 2) scope.push([decl[0] as string, key], [decl[1] as string, item]);
      this.walk(node.list, item, scope);
    }
    if (items.length === 0 && node.elseList !== undefined) this.walk(node.elseList, dot, vars);
    vars.length = mark;
  }

  private pipe(pipe: Pipe, dot: GoValue, vars: Array<[string, GoValue]>): GoValue {
    let value: GoValue;
    let first = true;
    for (const cmd of pipe.cmds) {
      this.current = cmd.text;
      value = this.command(cmd, dot, vars, first ? { none: true } : { value });
      first = false;
    }
    for (const name of pipe.decl) {
      if (pipe.assign) {
        const slot = [...vars].reverse().find(([n]) => n === name);
        if (slot === undefined) this.fail(`undefined variable: ${name}`);
        slot[1] = value;
      } else vars.push([name, value]);
    }
    return value;
  }

  private command(
    cmd: Command,
    dot: GoValue,
    vars: Array<[string, GoValue]>,
    piped: { none: true } | { value: GoValue },
  ): GoValue {
    const [head, ...rest] = cmd.args;
    if (head === undefined) return this.fail("empty command");
    if (head.kind === "ident") {
      const spec = this.functions[head.name];
      if (spec === undefined) return this.fail(`function "${head.name}" not defined`);
      const args = rest.map((a) => this.operand(a, dot, vars));
      if ("value" in piped) args.push(piped.value);
      const { arity } = spec;
      if (arity !== undefined) {
        const [min, max] = typeof arity === "number" ? [arity, arity] : arity;
        if (args.length < min || args.length > max)
          this.fail(
            `wrong number of args for ${head.name}: want ${min === max ? min : `at least ${min}`} got ${args.length}`,
          );
      }
      try {
        return spec.fn(args);
      } catch (error) {
        if (error instanceof TemplateError) throw error;
        return this.fail(`error calling ${head.name}: ${(error as Error).message}`);
      }
    }
    if (rest.length > 0 || "value" in piped) {
      // `.CommonLabels.Remove (stringSlice "alertname")`: the arguments go to the method that ends the chain.
      const chained = head.kind !== "lit" && head.chain.length > 0;
      if (!chained) this.fail(`can't give argument to non-function ${cmd.text.split(" ")[0] ?? ""}`);
      const args = rest.map((a) => this.operand(a, dot, vars));
      if ("value" in piped) args.push(piped.value);
      return this.operand(head, dot, vars, args);
    }
    return this.operand(head, dot, vars);
  }

  private operand(
    op: Operand,
    dot: GoValue,
    vars: Array<[string, GoValue]>,
    args?: readonly GoValue[],
  ): GoValue {
    switch (op.kind) {
      case "lit":
        return op.value;
      case "dot":
        return this.chain(dot, op.chain, args);
      case "field":
        return this.chain(dot, op.chain, args);
      case "var": {
        for (let i = vars.length - 1; i >= 0; i--) {
          const [n, v] = vars[i] as [string, GoValue];
          if (n === op.name) return this.chain(v, op.chain, args);
        }
        return this.fail(`undefined variable: ${op.name}`);
      }
      case "pipe":
        return this.chain(this.pipe(op.pipe, dot, [...vars]), op.chain, args);
      case "ident": {
        const spec = this.functions[op.name];
        if (spec === undefined) return this.fail(`function "${op.name}" not defined`);
        return spec.fn([]);
      }
    }
  }

  /** Follows `.a.b.c`: methods first, as Go looks them up before fields and map keys; `args` go to the last. */
  private chain(value: GoValue, names: readonly string[], args: readonly GoValue[] = []): GoValue {
    let v = value;
    for (const [i, name] of names.entries()) {
      const last = i === names.length - 1;
      const method = methodSetOf(v)?.methods[name];
      if (method !== undefined) {
        const given = last ? args : [];
        if (given.length !== method.arity)
          this.fail(`wrong number of args for ${name}: want ${method.arity} got ${given.length}`);
        try {
          v = method.fn(given);
        } catch (error) {
          if (error instanceof TemplateError) throw error;
          this.fail(`error calling ${name}: ${(error as Error).message}`);
        }
        continue;
      }
      if (last && args.length > 0) this.fail(`${name} is not a method but has arguments`);
      if (v instanceof GoMap) {
        // Prometheus sets missingkey=zero: a label the series lacks reads as "".
        v = v.entries.has(name) ? v.entries.get(name) : "";
      } else if (v instanceof GoStruct) {
        if (!v.fields.has(name)) this.fail(`can't evaluate field ${name} in type ${v.typeName}`);
        v = v.fields.get(name);
      } else if (v === undefined || v === null) this.fail(`nil pointer evaluating interface {}.${name}`);
      else this.fail(`can't evaluate field ${name} in type ${goTypeName(v)}`);
    }
    return v;
  }
}

export { GoMap, GoStruct, type GoValue } from "./go-format.js";
export { sprintfGo, sprintGo };
