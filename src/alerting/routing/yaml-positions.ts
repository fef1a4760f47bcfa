import { type ConfigProblem, parseYamlSources } from "../../config/index.js";

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

/**
 * Parses one YAML document (an Alertmanager file) with the config parser, as Go's yaml.v2 strict mode sees
 * it: duplicate keys are errors. YAML warnings are left out; Alertmanager does not report them.
 */
export function parseYamlWithPositions(text: string, file: string): PositionedYaml {
  const { documents, problems } = parseYamlSources([{ path: file, content: text }]);
  const doc = documents[0];
  const lineColumn = (pos: { line: number; column: number }) => ({ line: pos.line, column: pos.column });
  return {
    value: doc?.value ?? null,
    problems: problems.filter((p) => p.severity === "error"),
    locate: (path) => (doc ? lineColumn(doc.locate(path)) : { line: 1, column: 1 }),
    locateKey: (path, key) => (doc ? lineColumn(doc.locateKey(path, key)) : { line: 1, column: 1 }),
  };
}
