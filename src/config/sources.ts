import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ConfigProblem } from "./problems.js";

/** One configuration file's text, named as the user wrote its path. */
export interface ConfigSource {
  path: string;
  content: string;
}

export const MAX_FILE_BYTES = 4 * 1024 * 1024;
export const MAX_TOTAL_BYTES = 16 * 1024 * 1024;
const MAX_FILES = 5000;
const YAML_FILE = /\.ya?ml$/i;

export interface ReadResult {
  sources: ConfigSource[];
  problems: ConfigProblem[];
}

const fileProblem = (file: string, message: string): ConfigProblem => ({
  file,
  line: 0,
  column: 0,
  severity: "error",
  message,
});

/**
 * Reads a file, or every .yaml/.yml file below a directory (hidden entries skipped, sorted by path), checking
 * size and encoding before anything is parsed.
 */
export async function readConfigPath(path: string): Promise<ReadResult> {
  const problems: ConfigProblem[] = [];
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    return { sources: [], problems: [fileProblem(path, "no such file or directory")] };
  }
  const files = info.isDirectory() ? await listYamlFiles(path) : [path];
  if (info.isDirectory() && files.length === 0) {
    problems.push(fileProblem(path, "the directory holds no .yaml or .yml files"));
  }
  if (files.length > MAX_FILES) {
    return {
      sources: [],
      problems: [fileProblem(path, `${files.length} files is more than the ${MAX_FILES} allowed`)],
    };
  }
  const sources: ConfigSource[] = [];
  let total = 0;
  for (const file of files) {
    const shown = info.isDirectory() ? join(path, relative(path, file)) : file;
    const size = (await stat(file)).size;
    if (size > MAX_FILE_BYTES) {
      problems.push(
        fileProblem(
          shown,
          `the file is ${formatBytes(size)}; a config file may be at most ${formatBytes(MAX_FILE_BYTES)}: split it into several files`,
        ),
      );
      continue;
    }
    total += size;
    if (total > MAX_TOTAL_BYTES) {
      problems.push(
        fileProblem(shown, `the configuration is larger than ${formatBytes(MAX_TOTAL_BYTES)} in all`),
      );
      break;
    }
    const decoded = decodeUtf8(await readFile(file));
    if (decoded.ok) sources.push({ path: shown, content: decoded.text });
    else problems.push({ ...decoded.problem, file: shown });
  }
  return { sources, problems };
}

async function listYamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith(".")) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if ((entry.isFile() || entry.isSymbolicLink()) && YAML_FILE.test(entry.name)) out.push(full);
  }
  return out;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

type Decoded = { ok: true; text: string } | { ok: false; problem: ConfigProblem };

/** Strict UTF-8 decoding that says where the first bad byte is, instead of silently replacing it. */
export function decodeUtf8(bytes: Uint8Array): Decoded {
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return notUtf8(1, 1, "the file is UTF-16 (little-endian); save it as UTF-8");
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return notUtf8(1, 1, "the file is UTF-16 (big-endian); save it as UTF-8");
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    return { ok: true, text };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    const byte = (bytes[offset] ?? 0).toString(16).padStart(2, "0");
    return notUtf8(
      line,
      offset - lineStart + 1,
      `the file is not valid UTF-8 (byte 0x${byte} at offset ${offset}); save it as UTF-8`,
    );
  }
}

function notUtf8(line: number, column: number, message: string): Decoded {
  return { ok: false, problem: { file: "", line, column, severity: "error", message } };
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    const need =
      b < 0x80
        ? 0
        : b >= 0xc2 && b <= 0xdf
          ? 1
          : b >= 0xe0 && b <= 0xef
            ? 2
            : b >= 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
