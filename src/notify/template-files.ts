import { readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseAllDocuments } from "yaml";
import type { ConfigProblem, DocumentTranslator, RawDocument } from "../config/index.js";
import { GoTemplate, TemplateError } from "../alerting/rules/index.js";
import { BadPatternError, globFiles } from "./template-glob.js";
import { NOTIFY_TEMPLATE_FUNCTIONS, type TemplateFile } from "./notify-template.js";

/**
 * Where this process may read the files that an AlertmanagerConfig's `templates:` names:
 * - `anywhere`: the user's own machine (`nines validate`);
 * - `under`: a server, only below its --config path, so that applying over the API cannot read other
 *   server files into the stored configuration;
 * - `nowhere`: a server without --config (the configuration then comes only over the API).
 */
export type TemplateFileAccess = { read: "anywhere" } | { read: "under"; path: string } | { read: "nowhere" };

/** Template files are stored with the configuration: large ones are a mistake, not a template. */
export const MAX_TEMPLATE_FILE_BYTES = 1024 * 1024;
export const MAX_TEMPLATE_BYTES = 4 * 1024 * 1024;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** The `{{ define }}`s of one template file, checked as Alertmanager's FromGlobs parses it; undefined if fine. */
export function templateFileError(file: TemplateFile): string | undefined {
  try {
    GoTemplate.parse(file.name, "", NOTIFY_TEMPLATE_FUNCTIONS, [file]);
    return undefined;
  } catch (error) {
    if (error instanceof TemplateError) return error.message;
    throw error;
  }
}

function directoryOf(path: string): string {
  const full = resolve(path);
  try {
    return statSync(full).isDirectory() ? full : dirname(full);
  } catch {
    return dirname(full);
  }
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const within = (root: string, path: string) =>
  path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

function decode(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Whether the file on disk holds this very document. Over the API a client names the file; only a document
 * the server's own file already holds may make the server read template files (not, say, its secrets).
 */
function writtenIn(file: string, value: unknown): boolean {
  try {
    const wanted = JSON.stringify(value);
    return parseAllDocuments(readFileSync(file, "utf8")).some(
      (doc) => !Array.isArray(doc) && JSON.stringify(doc.toJSON()) === wanted,
    );
  } catch {
    return false;
  }
}

interface Loaded {
  files: TemplateFile[];
  problems: ConfigProblem[];
}

/** Reads the files of each `templates:` glob, relative to the document's directory, as Alertmanager does. */
function readTemplateFiles(raw: RawDocument, globs: readonly string[], access: TemplateFileAccess): Loaded {
  const problems: ConfigProblem[] = [];
  const files: TemplateFile[] = [];
  const at = (i: number, message: string, severity: ConfigProblem["severity"] = "error"): void => {
    problems.push({
      ...raw.locate(["spec", "alertmanager", "templates", i]),
      severity,
      message: `templates[${i}] "${globs[i]}": ${message}`,
    });
  };
  if (access.read === "nowhere") {
    for (const i of globs.keys())
      at(
        i,
        "template files are read only from the server's --config path, and this server has none: start it with --config, or give the files' text in spec.templateFiles",
      );
    return { files, problems };
  }
  let documentFile: string | undefined;
  try {
    if (statSync(raw.file).isFile()) documentFile = resolve(raw.file);
  } catch {
    documentFile = undefined;
  }
  if (documentFile === undefined) {
    for (const i of globs.keys())
      at(
        i,
        `template files are read beside the configuration file, and ${raw.file} is not a file here: apply it from the server's --config path, or give the files' text in spec.templateFiles`,
      );
    return { files, problems };
  }
  const baseDir = dirname(documentFile);
  const root = access.read === "under" ? realOrSelf(directoryOf(access.path)) : undefined;
  if (root !== undefined && !(within(root, realOrSelf(documentFile)) && writtenIn(documentFile, raw.value))) {
    for (const i of globs.keys())
      at(
        i,
        `template files are read only for a configuration file below the server's --config path ${root}, as it is written there: apply it from there, or give the files' text in spec.templateFiles`,
      );
    return { files, problems };
  }
  let total = 0;
  globs.forEach((glob, i) => {
    let matched: string[];
    try {
      matched = globFiles(isAbsolute(glob) ? glob : join(baseDir, glob));
    } catch (error) {
      if (!(error instanceof BadPatternError)) throw error;
      at(i, error.message);
      return;
    }
    // Alertmanager allows a glob that matches nothing ("may be populated later on"); Nines says so.
    if (matched.length === 0) {
      at(i, "matches no file", "warning");
      return;
    }
    for (const path of matched) {
      const shown = relative(baseDir, path).startsWith("..") ? path : relative(baseDir, path);
      if (root !== undefined && !within(root, realOrSelf(path))) {
        at(
          i,
          `${shown} is outside the server's --config path ${root}: the server reads template files only there`,
        );
        continue;
      }
      let bytes: Buffer;
      try {
        if (!statSync(path).isFile()) continue;
        bytes = readFileSync(path);
      } catch (error) {
        at(i, `cannot read ${shown}: ${(error as Error).message}`);
        continue;
      }
      total += bytes.length;
      if (bytes.length > MAX_TEMPLATE_FILE_BYTES || total > MAX_TEMPLATE_BYTES) {
        at(i, `${shown} is too large: template files may hold at most 1 MiB each and 4 MiB in all`);
        continue;
      }
      const text = decode(bytes);
      if (text === undefined) {
        at(i, `${shown} is not valid UTF-8; save it as UTF-8`);
        continue;
      }
      const file = { name: shown, text };
      const error = templateFileError(file);
      if (error !== undefined) at(i, error);
      files.push(file);
    }
  });
  return { files, problems };
}

/** spec.templateFiles as written (inline over the API, or stored by an earlier load): each one parsed. */
function checkInline(raw: RawDocument, value: unknown): Loaded {
  const problems: ConfigProblem[] = [];
  const files: TemplateFile[] = [];
  if (!Array.isArray(value)) return { files, problems };
  value.forEach((entry, i) => {
    if (!isRecord(entry) || typeof entry.name !== "string" || typeof entry.text !== "string") return;
    const file = { name: entry.name, text: entry.text };
    const error = templateFileError(file);
    if (error !== undefined)
      problems.push({
        ...raw.locate(["spec", "templateFiles", i, "text"]),
        severity: "error",
        message: error,
      });
    files.push(file);
  });
  return { files, problems };
}

/**
 * Reads the notification template files an AlertmanagerConfig's `alertmanager.templates` names (globs,
 * relative to the directory of the document's file, as Alertmanager resolves them) and stores their text in
 * `spec.templateFiles`, so every replica and every restart renders with the same templates without the files.
 * A glob that does not parse, a file that cannot be read and a template syntax error are errors at the
 * `templates:` entry (with the template file's own line in the message): the configuration in force stays.
 * A document that already holds `spec.templateFiles` (written inline, or a stored revision rolled back) is
 * only checked; its files are not read again.
 */
export function templateFilesTranslator(access: TemplateFileAccess): DocumentTranslator {
  return {
    name: "AlertmanagerConfig templates",
    matches: (value) => {
      if (!isRecord(value) || value.apiVersion !== "nines/v1" || value.kind !== "AlertmanagerConfig")
        return false;
      const spec = value.spec;
      if (!isRecord(spec)) return false;
      if (spec.templateFiles !== undefined) return true;
      const am = spec.alertmanager;
      return isRecord(am) && Array.isArray(am.templates) && am.templates.length > 0;
    },
    translate(raw) {
      const doc = raw.value as Record<string, unknown>;
      const spec = doc.spec as Record<string, unknown>;
      if (spec.templateFiles !== undefined) {
        const inline = checkInline(raw, spec.templateFiles);
        return { documents: [raw], problems: inline.problems };
      }
      const am = spec.alertmanager as Record<string, unknown>;
      const globs = (am.templates as unknown[]).filter((g): g is string => typeof g === "string");
      // A list that is not all strings is the schema's to report, with its position.
      if (globs.length !== (am.templates as unknown[]).length) return { documents: [raw], problems: [] };
      const loaded = readTemplateFiles(raw, globs, access);
      const value = {
        ...doc,
        spec: { ...spec, templateFiles: loaded.files.map((f) => ({ name: f.name, text: f.text })) },
      };
      return { documents: [{ ...raw, value }], problems: loaded.problems };
    },
  };
}
