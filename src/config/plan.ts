import { canonicalJson, digest } from "../platform/ids.js";
import type { ConfigObject } from "./kinds.js";

export interface FieldChange {
  /** Dotted path inside the object: "spec.tier", "metadata.labels.team". */
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface ObjectChange {
  action: "create" | "update" | "delete";
  kind: string;
  name: string;
  fields: FieldChange[];
}

export interface Plan {
  changes: ObjectChange[];
  unchanged: number;
  /** Digest of the whole desired state, independent of file layout and key order. */
  contentHash: string;
}

const keyOf = (o: { kind: string; metadata: { name: string } }): string => `${o.kind}/${o.metadata.name}`;

/** Sorted by kind then name, so plans, revisions and hashes do not depend on file order. */
export function sortObjects<T extends ConfigObject>(objects: readonly T[]): T[] {
  return [...objects].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

export function contentHashOf(objects: readonly ConfigObject[]): string {
  return digest(sortObjects(objects));
}

/** What applying `desired` over `current` would create, change field by field, and delete. */
export function planChanges(current: readonly ConfigObject[], desired: readonly ConfigObject[]): Plan {
  const currentByKey = new Map(current.map((o) => [keyOf(o), o]));
  const desiredKeys = new Set(desired.map(keyOf));
  const changes: ObjectChange[] = [];
  let unchanged = 0;
  for (const object of sortObjects(desired)) {
    const before = currentByKey.get(keyOf(object));
    const after = { metadata: object.metadata, spec: object.spec };
    if (!before) {
      changes.push({
        action: "create",
        kind: object.kind,
        name: object.metadata.name,
        fields: flatten(after).map(([path, value]) => ({ path, after: value })),
      });
      continue;
    }
    const fields = diffFields({ metadata: before.metadata, spec: before.spec }, after);
    if (fields.length === 0) unchanged++;
    else changes.push({ action: "update", kind: object.kind, name: object.metadata.name, fields });
  }
  for (const object of sortObjects(current)) {
    if (desiredKeys.has(keyOf(object))) continue;
    changes.push({
      action: "delete",
      kind: object.kind,
      name: object.metadata.name,
      fields: flatten({ metadata: object.metadata, spec: object.spec }).map(([path, value]) => ({
        path,
        before: value,
      })),
    });
  }
  return { changes, unchanged, contentHash: contentHashOf(desired) };
}

/** Leaves of nested mappings as dotted paths; lists are compared and shown whole. */
function flatten(value: unknown, prefix = ""): Array<[string, unknown]> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const out: Array<[string, unknown]> = [];
    for (const key of Object.keys(value).sort()) {
      const child = (value as Record<string, unknown>)[key];
      if (child === undefined) continue;
      out.push(...flatten(child, prefix ? `${prefix}.${key}` : key));
    }
    return out;
  }
  return [[prefix, value]];
}

function diffFields(before: unknown, after: unknown): FieldChange[] {
  const a = new Map(flatten(before));
  const b = new Map(flatten(after));
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: FieldChange[] = [];
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    if (canonicalJson(x) === canonicalJson(y)) continue;
    const change: FieldChange = { path };
    if (a.has(path)) change.before = x;
    if (b.has(path)) change.after = y;
    out.push(change);
  }
  return out;
}
