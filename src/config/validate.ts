import type { z } from "zod";
import { translateDocuments } from "./document-translator.js";
import { type AnyKind, type ConfigObject, type DocPath, type KindRegistry, Metadata } from "./kinds.js";
import { parseYamlSources, type RawDocument } from "./parse-yaml.js";
import { type ConfigProblem, didYouMean, suggestion } from "./problems.js";
import type { ConfigSource } from "./sources.js";

const ENVELOPE_KEYS = ["apiVersion", "kind", "metadata", "spec"];

export interface ValidatedDocument {
  object: ConfigObject;
  raw: RawDocument;
}

export interface ValidationResult {
  documents: ValidatedDocument[];
  problems: ConfigProblem[];
}

/** Parses and validates configuration sources: every problem at once, each with its position. */
export function validateSources(sources: readonly ConfigSource[], registry: KindRegistry): ValidationResult {
  const parsed = parseYamlSources(sources);
  const result = validateDocuments(parsed.documents, registry);
  const fileOrder = new Map(sources.map((s, i) => [s.path, i]));
  const problems = [...parsed.problems, ...result.problems].sort(
    (a, b) =>
      (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line || a.column - b.column,
  );
  return { documents: result.documents, problems };
}

export function validateDocuments(raws: readonly RawDocument[], registry: KindRegistry): ValidationResult {
  const translated = translateDocuments(raws, registry.translators());
  const problems: ConfigProblem[] = [...translated.problems];
  const documents: ValidatedDocument[] = [];
  for (const raw of translated.documents) {
    const object = validateOne(raw, registry, problems);
    if (object) documents.push({ object, raw });
  }
  problems.push(...checkAcrossDocuments(documents, registry));
  return { documents, problems };
}

function error(raw: RawDocument, path: DocPath, message: string, key?: string): ConfigProblem {
  const pos = key === undefined ? raw.locate(path) : raw.locateKey(path, key);
  return { ...pos, severity: "error", message };
}

function validateOne(
  raw: RawDocument,
  registry: KindRegistry,
  problems: ConfigProblem[],
): ConfigObject | undefined {
  const value = raw.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push(error(raw, [], "a document must be a mapping with apiVersion, kind, metadata and spec"));
    return undefined;
  }
  const doc = value as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(doc)) {
    if (!ENVELOPE_KEYS.includes(key)) {
      problems.push(
        error(raw, [], `unknown field "${key}" at the top level.${suggestion(key, ENVELOPE_KEYS)}`, key),
      );
      ok = false;
    }
  }
  const apiVersion = doc.apiVersion;
  const kindName = doc.kind;
  const versions = registry.apiVersions();
  if (typeof apiVersion !== "string") {
    problems.push(error(raw, ["apiVersion"], `apiVersion is required; use one of: ${versions.join(", ")}`));
    return undefined;
  }
  if (!versions.includes(apiVersion)) {
    problems.push(
      error(
        raw,
        ["apiVersion"],
        `unknown apiVersion "${apiVersion}"; use one of: ${versions.join(", ")}.${suggestion(apiVersion, versions)}`,
      ),
    );
    return undefined;
  }
  const kinds = registry.kindsOf(apiVersion);
  if (typeof kindName !== "string") {
    problems.push(error(raw, ["kind"], `kind is required; use one of: ${kinds.join(", ")}`));
    return undefined;
  }
  const kind = registry.get(apiVersion, kindName);
  if (!kind) {
    problems.push(
      error(
        raw,
        ["kind"],
        `unknown kind "${kindName}" for ${apiVersion}; use one of: ${kinds.join(", ")}.${suggestion(kindName, kinds)}`,
      ),
    );
    return undefined;
  }
  const metadata = parseWithPositions(Metadata, doc.metadata, ["metadata"], raw, problems);
  const spec = parseWithPositions(kind.spec, doc.spec ?? {}, ["spec"], raw, problems);
  if (!ok || metadata === undefined || spec === undefined) return undefined;
  return { apiVersion, kind: kindName, metadata, spec };
}

/** Parses value with schema and turns each zod issue into a positioned, readable problem. */
export function parseWithPositions<T>(
  schema: z.ZodType<T>,
  value: unknown,
  base: DocPath,
  raw: RawDocument,
  problems: ConfigProblem[],
): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const path = [...base, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    const dotted = path.join(".");
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(
        schema,
        issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
      );
      for (const key of issue.keys) {
        const close = didYouMean(key, known);
        const hint = close
          ? ` Did you mean "${close}"?`
          : known.length > 0
            ? ` Allowed here: ${known.join(", ")}.`
            : "";
        problems.push(error(raw, path, `unknown field "${key}" in ${dotted}.${hint}`, key));
      }
      continue;
    }
    // zod leaves the offending value out of its issues; read it from the document itself.
    const actual = valueAt(value, issue.path);
    if (issue.code === "invalid_type" && actual === undefined) {
      const field = path[path.length - 1];
      problems.push(
        error(raw, path, `${dotted}: missing required field "${String(field)}" (expected ${issue.expected})`),
      );
      continue;
    }
    problems.push(error(raw, path, `${dotted}: ${readableMessage(issue, actual)}`));
  }
  return undefined;
}

function readableMessage(issue: z.core.$ZodIssue, actual: unknown): string {
  if (issue.code === "invalid_type") {
    return `expected ${issue.expected}, got ${describeValue(actual)}`;
  }
  if (issue.code === "invalid_value") {
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(actual)}`;
  }
  return issue.message;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
}

type SchemaDef = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): SchemaDef | undefined =>
  (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** The field names an object schema accepts at path, for "did you mean" hints. */
export function knownKeys(schema: unknown, path: ReadonlyArray<string | number>): string[] {
  const candidates = objectShapesAt(schema, path);
  return [...new Set(candidates.flatMap((shape) => Object.keys(shape)))];
}

function objectShapesAt(
  schema: unknown,
  path: ReadonlyArray<string | number>,
): Array<Record<string, unknown>> {
  const def = defOf(schema);
  if (!def) return [];
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
    case "nonoptional":
      return objectShapesAt(def.innerType, path);
    case "pipe":
      return objectShapesAt(def.in, path);
    case "lazy":
      return typeof def.getter === "function" ? objectShapesAt((def.getter as () => unknown)(), path) : [];
    case "union":
      return Array.isArray(def.options) ? def.options.flatMap((o) => objectShapesAt(o, path)) : [];
    case "array":
      return path.length > 0 ? objectShapesAt(def.element, path.slice(1)) : [];
    case "record":
      return path.length > 0 ? objectShapesAt(def.valueType, path.slice(1)) : [];
    case "object": {
      const shape = def.shape as Record<string, unknown>;
      if (path.length === 0) return [shape];
      const [head, ...rest] = path;
      return objectShapesAt(shape[String(head)], rest);
    }
    default:
      return [];
  }
}

/** Duplicate names, references to objects that do not exist, and dependency cycles. */
function checkAcrossDocuments(
  documents: readonly ValidatedDocument[],
  registry: KindRegistry,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byKey = new Map<string, ValidatedDocument>();
  for (const doc of documents) {
    const key = `${doc.object.kind}/${doc.object.metadata.name}`;
    const first = byKey.get(key);
    if (first) {
      const at = first.raw.locate(["metadata", "name"]);
      problems.push(
        error(
          doc.raw,
          ["metadata", "name"],
          `duplicate ${doc.object.kind} "${doc.object.metadata.name}": it is already defined at ${at.file}:${at.line}:${at.column}; rename or remove one`,
        ),
      );
      continue;
    }
    byKey.set(key, doc);
  }

  const edges = new Map<string, Array<{ to: string; doc: ValidatedDocument; path: DocPath }>>();
  for (const doc of byKey.values()) {
    const kind = kindOf(registry, doc);
    for (const ref of kind?.references?.(doc.object.spec) ?? []) {
      const target = `${ref.kind}/${ref.name}`;
      if (!byKey.has(target)) {
        const names = [...byKey.values()]
          .filter((d) => d.object.kind === ref.kind)
          .map((d) => d.object.metadata.name);
        problems.push(
          error(
            doc.raw,
            ["spec", ...ref.path],
            `${doc.object.kind} "${doc.object.metadata.name}" refers to ${ref.kind} "${ref.name}", which is not defined.${suggestion(ref.name, names)}`,
          ),
        );
        continue;
      }
      if (ref.acyclic) {
        const from = `${doc.object.kind}/${doc.object.metadata.name}`;
        const list = edges.get(from) ?? [];
        list.push({ to: target, doc, path: ["spec", ...ref.path] });
        edges.set(from, list);
      }
    }
  }
  problems.push(...findCycles(edges));
  if (problems.length > 0) return problems;
  const lookup = (kind: string, name: string) => byKey.get(`${kind}/${name}`)?.object;
  for (const doc of byKey.values()) {
    for (const finding of kindOf(registry, doc)?.lint?.(doc.object, lookup) ?? []) {
      const problem = error(doc.raw, ["spec", ...finding.path], finding.message);
      problems.push({ ...problem, severity: finding.severity });
    }
  }
  return problems;
}

function kindOf(registry: KindRegistry, doc: ValidatedDocument): AnyKind | undefined {
  return registry.get(doc.object.apiVersion, doc.object.kind);
}

/** Reports each cycle once, at the reference that closes it, naming every object on it. */
function findCycles(
  edges: Map<string, Array<{ to: string; doc: ValidatedDocument; path: DocPath }>>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "visiting");
    stack.push(node);
    for (const edge of edges.get(node) ?? []) {
      const s = state.get(edge.to);
      if (s === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(edge.to)), edge.to]
          .map((n) => n.split("/")[1])
          .join(" → ");
        problems.push(
          error(edge.doc.raw, edge.path, `dependency cycle: ${cycle}; remove one of these dependencies`),
        );
      } else if (s === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return problems;
}
