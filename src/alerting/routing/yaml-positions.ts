import { isMap, isNode, isPair, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { ConfigProblem } from "../../config/index.js";

export type Path = ReadonlyArray<string | number>;

/** One YAML document with positions, for problems reported at file:line:column. */
export interface PositionedYaml {
  value: unknown;
  problems: ConfigProblem[];
  /** Line and column of the value at path, or of its nearest ancestor that exists. */
  locate(path: Path): { line: number; column: number };
  /** Line and column of a mapping key at path (for unknown fields). */
  locateKey(path: Path, key: string): { line: number; column: number };
}

/** Parses one YAML document as Go's yaml.v2 strict mode sees it: duplicate keys are errors. */
export function parseYamlWithPositions(text: string, file: string): PositionedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const problems: ConfigProblem[] = doc.errors.map((e) => ({
    file,
    ...at(e.pos[0]),
    severity: "error" as const,
    message: `YAML: ${e.message.split("\n")[0] ?? e.message}`,
  }));
  const root = doc.contents;
  const locate = (path: Path) => at(nearestNode(root, path)?.range?.[0] ?? 0);
  const locateKey = (path: Path, key: string) => {
    const parent = nearestNode(root, path);
    if (isMap(parent)) {
      for (const pair of parent.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === key && pair.key.range) {
          return at(pair.key.range[0]);
        }
      }
    }
    return locate(path);
  };
  let value: unknown = null;
  if (problems.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      problems.push({ file, line: 1, column: 1, severity: "error", message: `YAML: ${String(error)}` });
    }
  }
  return { value, problems, locate, locateKey };
}

function nearestNode(root: unknown, path: Path): Node | undefined {
  let current: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const segment of path) {
    if (!isNode(current)) break;
    let next: unknown;
    if (isMap(current)) {
      const pair = current.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      next = pair?.value;
    } else if ("items" in current && Array.isArray(current.items) && typeof segment === "number") {
      next = current.items[segment];
    }
    if (!isNode(next)) break;
    current = next;
    found = next;
  }
  return found;
}
