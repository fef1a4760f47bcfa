import { z } from "zod";
import { type KindRegistry, Metadata } from "./kinds.js";

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType): JsonSchema {
  // Draft-07 is what YAML language servers understand best; "input" keeps fields with defaults optional.
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/**
 * One JSON Schema that accepts any Nines document, for editors: with yaml-language-server, put
 * `# yaml-language-server: $schema=./nines.schema.json` at the top of a config file.
 */
export function configJsonSchema(registry: KindRegistry): JsonSchema {
  const metadata = toSchema(Metadata);
  const kinds = registry.all().map((kind) => ({
    title: `${kind.apiVersion} ${kind.kind}`,
    description: kind.description,
    type: "object",
    additionalProperties: false,
    required: ["apiVersion", "kind", "metadata", "spec"],
    properties: {
      apiVersion: { const: kind.apiVersion },
      kind: { const: kind.kind },
      metadata,
      spec: toSchema(kind.spec),
    },
  }));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://nines.dev/schemas/config.json",
    title: "Nines configuration document",
    oneOf: kinds,
  };
}
