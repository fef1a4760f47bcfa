import { z } from "zod";
import type { Ctx } from "../platform/context.js";
import type { DocumentTranslator } from "./document-translator.js";

/** Names of config objects: DNS-label style, so they work in URLs, metric labels and file names alike. */
export const ObjectName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    "use lower-case letters, digits and '-', starting and ending with a letter or digit",
  );

export const Metadata = z.strictObject({
  name: ObjectName.describe("Unique among objects of this kind."),
  labels: z.record(z.string(), z.string()).optional().describe("Free-form key/value pairs for selection."),
  annotations: z
    .record(z.string(), z.string())
    .optional()
    .describe("Free-form notes; not used for selection."),
});
export type Metadata = z.infer<typeof Metadata>;

/** A path inside a document, as YAML and zod see it: keys and array indexes. */
export type DocPath = ReadonlyArray<string | number>;

/** A reference from one object to another, checked at validation time. */
export interface Reference {
  kind: string;
  name: string;
  /** Where in the referring document the name was written, for the error position. */
  path: DocPath;
  /** References of one kind to itself that must not form a cycle (service dependencies, composite SLOs). */
  acyclic?: boolean;
}

/** One object as it is stored and applied: envelope plus the spec after schema parsing (defaults filled in). */
export interface ConfigObject<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec: Spec;
}

export interface KindStore<Spec> {
  /** Creates or updates these objects in the domain's own tables, inside the apply transaction. */
  upsert(ctx: Ctx, objects: ReadonlyArray<ConfigObject<Spec>>): Promise<void>;
  /** Removes these objects; runs after every upsert of the same apply. */
  remove(ctx: Ctx, names: readonly string[]): Promise<void>;
}

/**
 * What a domain tells the config machinery about one of its kinds. Later issues add kinds by defining one of
 * these and listing it in the app's registry.
 */
export interface KindDefinition<Spec = unknown> {
  apiVersion: string;
  kind: string;
  description: string;
  spec: z.ZodType<Spec>;
  /** Creates and updates run in ascending order, deletes in descending order, so references stay valid. */
  order: number;
  references?: (spec: Spec) => Reference[];
  /**
   * Checks that need other objects (after references resolved), e.g. warnings on an SLO's alert tiers at its
   * check's run rate. `lookup` finds any object of the same input by kind and name.
   */
  lint?: (
    object: ConfigObject<Spec>,
    lookup: (kind: string, name: string) => ConfigObject | undefined,
  ) => LintFinding[];
  store: KindStore<Spec>;
}

/** A problem `lint` found, at a path inside the object's spec. */
export interface LintFinding {
  path: DocPath;
  message: string;
  severity: "error" | "warning";
}

/** Erases the spec type so kinds of different specs can sit in one registry. */
export type AnyKind = KindDefinition<unknown>;

export function defineKind<Spec>(definition: KindDefinition<Spec>): AnyKind {
  return definition as unknown as AnyKind;
}

export class KindRegistry {
  private readonly byKey = new Map<string, AnyKind>();

  /** `documentTranslators` turn documents in other formats (OpenSLO, Sloth) into these kinds. */
  constructor(
    kinds: readonly AnyKind[],
    private readonly documentTranslators: readonly DocumentTranslator[] = [],
  ) {
    for (const kind of kinds) {
      const key = `${kind.apiVersion}/${kind.kind}`;
      if (this.byKey.has(key)) throw new Error(`kind ${key} is registered twice`);
      this.byKey.set(key, kind);
    }
  }

  get(apiVersion: string, kind: string): AnyKind | undefined {
    return this.byKey.get(`${apiVersion}/${kind}`);
  }

  /** Every kind, in apply order. */
  all(): AnyKind[] {
    return [...this.byKey.values()].sort((a, b) => a.order - b.order);
  }

  translators(): readonly DocumentTranslator[] {
    return this.documentTranslators;
  }

  apiVersions(): string[] {
    return [...new Set(this.all().map((k) => k.apiVersion))];
  }

  kindsOf(apiVersion: string): string[] {
    return this.all()
      .filter((k) => k.apiVersion === apiVersion)
      .map((k) => k.kind);
  }
}
