import type { DocPath } from "./kinds.js";
import type { Position, RawDocument } from "./parse-yaml.js";
import type { ConfigProblem } from "./problems.js";

/** Finds another document of the same input by its envelope, for translators that follow references. */
export type RawLookup = (apiVersion: string, kind: string, name: string) => RawDocument | undefined;

/** What a translator made of one foreign document: nines/v1 documents and the problems it found. */
export interface Translation {
  /** nines/v1 documents whose positions point back into the original file. */
  documents: RawDocument[];
  problems: ConfigProblem[];
}

/**
 * Accepts documents written in another format (OpenSLO, Sloth) as configuration: it recognises them and
 * turns each into nines/v1 documents, which are then validated, stored and applied like any other. Listed
 * beside the kinds in the app's registry.
 */
export interface DocumentTranslator {
  /** The format, for messages: "OpenSLO v1". */
  name: string;
  matches(value: unknown): boolean;
  translate(raw: RawDocument, lookup: RawLookup): Translation;
}

/** Where a part of a translated document was written: paths under `to` map to `from` in `raw`. */
export interface Origin {
  to: DocPath;
  raw: RawDocument;
  from: DocPath;
}

/**
 * A translated document whose positions are those of the fields it came from: the origin with the longest
 * `to` prefix of a path wins, and the document's own start is the fallback.
 */
export function translatedDocument(
  value: unknown,
  source: RawDocument,
  origins: readonly Origin[],
): RawDocument {
  const locate = (path: DocPath): Position => {
    let best: Origin | undefined;
    for (const origin of origins) {
      if (origin.to.length > path.length || (best && best.to.length >= origin.to.length)) continue;
      if (origin.to.every((segment, i) => segment === path[i])) best = origin;
    }
    if (!best) return source.locate([]);
    // Deeper segments are looked up in the original too; where they do not exist, its nearest ancestor answers.
    return best.raw.locate([...best.from, ...path.slice(best.to.length)]);
  };
  return { value, file: source.file, locate, locateKey: (path) => locate(path) };
}

/** Replaces every document a translator recognises by its translation; others pass through unchanged. */
export function translateDocuments(
  raws: readonly RawDocument[],
  translators: readonly DocumentTranslator[],
): Translation {
  if (translators.length === 0) return { documents: [...raws], problems: [] };
  const index = new Map<string, RawDocument>();
  for (const raw of raws) {
    const v = raw.value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } } | null;
    if (v === null || typeof v !== "object") continue;
    const key = `${String(v.apiVersion)}/${String(v.kind)}/${String(v.metadata?.name)}`;
    if (!index.has(key)) index.set(key, raw);
  }
  const lookup: RawLookup = (apiVersion, kind, name) => index.get(`${apiVersion}/${kind}/${name}`);
  const documents: RawDocument[] = [];
  const problems: ConfigProblem[] = [];
  for (const raw of raws) {
    const translator = translators.find((t) => t.matches(raw.value));
    if (!translator) {
      documents.push(raw);
      continue;
    }
    const result = translator.translate(raw, lookup);
    documents.push(...result.documents);
    problems.push(...result.problems);
  }
  return { documents, problems };
}
