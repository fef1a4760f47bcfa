import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../app/registry.js";
import { configJsonSchema } from "./json-schema.js";

describe("the JSON Schema for editors", () => {
  it("matches the copy in docs/ that the examples point their language server at", () => {
    const committed = JSON.parse(
      readFileSync(new URL("../../docs/nines.schema.json", import.meta.url), "utf8"),
    );
    // If this fails after changing a kind, run: node dist/cli/main.js schema --out docs/nines.schema.json
    expect(committed).toEqual(configJsonSchema(createKindRegistry()));
  });

  it("describes each kind with its apiVersion and kind as constants and no extra fields", () => {
    const schema = configJsonSchema(createKindRegistry()) as { oneOf: Array<Record<string, unknown>> };
    for (const kind of schema.oneOf) {
      expect(kind.additionalProperties).toBe(false);
      expect(kind.required).toEqual(["apiVersion", "kind", "metadata", "spec"]);
    }
    const service = schema.oneOf.find((k) => k.title === "nines/v1 Service") as {
      properties: { spec: { properties: Record<string, unknown> } };
    };
    expect(Object.keys(service.properties.spec.properties)).toEqual([
      "ownerTeam",
      "tier",
      "description",
      "links",
      "dependsOn",
    ]);
  });
});
