import { isMap, isNode, isPair, isScalar, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { DocPath } from "./kinds.js";
import type { ConfigProblem } from "./problems.js";
import type { ConfigSource } from "./sources.js";

export interface Position {
  file: string;
  line: number;
  column: number;
}

/** A document as written, before validation, with a way to find where any path inside it was written. */
export interface RawDocument {
  value: unknown;
  file: string;
  /** Position of the value at path, or of its nearest ancestor that exists. */
  locate(path: DocPath): Position;
  /** Position of a mapping key (for unknown fields), falling back to locate(). */
  locateKey(path: DocPath, key: string): Position;
}

/** Splits each file into YAML documents; syntax errors are problems with positions, never exceptions. */
export function parseYamlSources(sources: readonly ConfigSource[]): {
  documents: RawDocument[];
  problems: ConfigProblem[];
} {
  const documents: RawDocument[] = [];
  const problems: ConfigProblem[] = [];
  for (const source of sources) {
    const lineCounter = new LineCounter();
    const parsed = parseAllDocuments(source.content, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const docs = Array.isArray(parsed) ? parsed : [];
    const at = (offset: number): Position => {
      const pos = lineCounter.linePos(offset);
      return { file: source.path, line: pos.line, column: pos.col };
    };
    for (const doc of docs) {
      for (const error of doc.errors) {
        problems.push({
          ...at(error.pos[0]),
          severity: "error",
          message: `YAML: ${firstLine(error.message)}`,
        });
      }
      for (const warning of doc.warnings) {
        problems.push({
          ...at(warning.pos[0]),
          severity: "warning",
          message: `YAML: ${firstLine(warning.message)}`,
        });
      }
      if (doc.errors.length > 0) continue;
      // A file may end with "---" or hold comments only: an empty document is not an object.
      if (doc.contents === null) continue;
      const root = doc.contents;
      const locate = (path: DocPath): Position => {
        const node = nearestNode(root, path);
        return at(node?.range?.[0] ?? 0);
      };
      const locateKey = (path: DocPath, key: string): Position => {
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
      let value: unknown;
      try {
        value = doc.toJS({ maxAliasCount: 100 });
      } catch (error) {
        problems.push({
          ...at(root.range?.[0] ?? 0),
          severity: "error",
          message: `YAML: ${firstLine(String(error))}`,
        });
        continue;
      }
      documents.push({ value, file: source.path, locate, locateKey });
    }
  }
  return { documents, problems };
}

/** The deepest node along path that exists. */
function nearestNode(root: unknown, path: DocPath): Node | undefined {
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

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
