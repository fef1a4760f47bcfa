import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../../app/registry.js";
import { ConfigService } from "../../config/config-service.js";
import { KindRegistry } from "../../config/kinds.js";
import { formatProblem } from "../../config/problems.js";
import { slothTranslator } from "../sloth/sloth-translator.js";
import { openSloTranslator } from "./openslo-translator.js";

const DOC = resolve(import.meta.dirname, "../../../docs/slo.md");

describe("docs/slo.md", () => {
  it("holds YAML examples that validate together as one configuration", () => {
    const blocks = [...readFileSync(DOC, "utf8").matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    expect(blocks.length).toBe(8);
    const registry = new KindRegistry(createKindRegistry().all(), [openSloTranslator, slothTranslator]);
    const { documents, problems } = new ConfigService(registry).validate([
      { path: "slo.md", content: blocks.join("---\n") },
    ]);
    expect(problems.filter((p) => p.severity === "error").map(formatProblem)).toEqual([]);
    expect(documents.filter((d) => d.kind === "SLO").map((d) => d.metadata.name)).toEqual([
      "checkout-requests",
      "checkout-latency",
      "checkout-availability",
      "checkout-routes",
      "checkout-slices",
      "payments-availability",
      "checkout-requests-availability",
    ]);
  });
});
