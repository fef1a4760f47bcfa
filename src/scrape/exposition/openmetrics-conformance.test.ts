import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ExpositionError } from "./exposition.js";
import { parseOpenMetrics } from "./openmetrics-parser.js";

// The OpenMetrics project's parser test cases, kept unchanged beside the repository (shared/conformance).
const DIR = fileURLToPath(new URL("../../../../shared/conformance/openmetrics/", import.meta.url));

interface Case {
  name: string;
  shouldParse: boolean;
  metrics: string;
}

function loadCases(): Case[] {
  return readdirSync(DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`${DIR}${d.name}/test.json`))
    .map((d) => {
      const spec = JSON.parse(readFileSync(`${DIR}${d.name}/test.json`, "utf8")) as {
        file: string;
        shouldParse: boolean;
      };
      return {
        name: d.name,
        shouldParse: spec.shouldParse,
        metrics: readFileSync(`${DIR}${d.name}/${spec.file}`, "utf8"),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

describe("OpenMetrics conformance (prometheus/OpenMetrics tests/testdata/parsers)", () => {
  it("gives every case its expected verdict: accept or reject", () => {
    const cases = loadCases();
    const mismatches: string[] = [];
    for (const c of cases) {
      let verdict: string | null = null;
      try {
        parseOpenMetrics(c.metrics);
      } catch (error) {
        if (!(error instanceof ExpositionError)) throw error;
        verdict = error.message;
      }
      if ((verdict === null) !== c.shouldParse)
        mismatches.push(c.shouldParse ? `${c.name}: rejected (${verdict})` : `${c.name}: accepted`);
    }
    const failed = mismatches.length;
    console.log(`openmetrics: ${cases.length - failed} passed, ${failed} failed`);
    expect(cases.length).toBe(211);
    expect(
      mismatches,
      `${cases.length - failed} passed, ${failed} failed:\n${mismatches.join("\n")}`,
    ).toEqual([]);
  });
});
