import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createKindRegistry } from "../app/registry.js";
import { ConfigService } from "./config-service.js";
import { formatProblem } from "./problems.js";
import { readConfigPath } from "./sources.js";

const service = new ConfigService(createKindRegistry());

function problemsOf(content: string, path = "config.yaml"): string[] {
  return service.validate([{ path, content }]).problems.map(formatProblem);
}

const TEAM = `apiVersion: nines/v1
kind: Team
metadata:
  name: payments
spec: {}
`;

describe("config validation", () => {
  it("accepts a valid team and service and fills in defaults", () => {
    const result = service.validate([
      {
        path: "a.yaml",
        content: `${TEAM}---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec:
  ownerTeam: payments
`,
      },
    ]);
    expect(result.problems).toEqual([]);
    expect(result.documents.map((d) => [d.kind, d.metadata.name])).toEqual([
      ["Team", "payments"],
      ["Service", "api"],
    ]);
    expect(result.documents[1]?.spec).toEqual({ ownerTeam: "payments", tier: 3, dependsOn: [] });
  });

  it("reports malformed YAML with its line and column", () => {
    const problems = problemsOf("apiVersion: nines/v1\nkind: Team\nmetadata:\n  name: [unclosed\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^config\.yaml:\d+:\d+: error: YAML: /);
  });

  it("reports a wrong type at the value's position, naming what was expected and what was found", () => {
    const problems = problemsOf(`${TEAM}---
apiVersion: nines/v1
kind: Service
metadata:
  name: api
spec:
  ownerTeam: payments
  tier: high
`);
    expect(problems).toEqual(['config.yaml:13:9: error: spec.tier: expected number, got the string "high"']);
  });

  it("reports an unknown kind with a suggestion", () => {
    const problems = problemsOf("apiVersion: nines/v1\nkind: Servcie\nmetadata:\n  name: api\nspec: {}\n");
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('config.yaml:2:7: error: unknown kind "Servcie"');
    expect(problems[0]).toContain('Did you mean "Service"?');
  });

  it("reports an unknown field at the key with a did-you-mean, including nested ones", () => {
    const problems = problemsOf(`${TEAM}---
apiVersion: nines/v1
kind: Service
metadata:
  name: api
spec:
  ownerTeam: payments
  dependOn: []
  links:
    runbok: https://example.com
`);
    expect(problems).toEqual([
      'config.yaml:13:3: error: unknown field "dependOn" in spec. Did you mean "dependsOn"?',
      'config.yaml:15:5: error: unknown field "runbok" in spec.links. Did you mean "runbook"?',
    ]);
  });

  it("reports every problem at once, across files", () => {
    const result = service.validate([
      {
        path: "one.yaml",
        content: "apiVersion: nines/v1\nkind: Team\nmetadata:\n  name: Bad_Name\nspec: {}\n",
      },
      { path: "two.yaml", content: "apiVersion: nines/v2\nkind: Team\nmetadata:\n  name: ok\nspec: {}\n" },
    ]);
    const lines = result.problems.map(formatProblem);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^one\.yaml:4:9: error: metadata\.name: /);
    expect(lines[1]).toMatch(/^two\.yaml:1:13: error: unknown apiVersion "nines\/v2"/);
  });

  it("reports a duplicate name at the second definition and points at the first", () => {
    const problems = problemsOf(`${TEAM}---\n${TEAM}`);
    expect(problems).toEqual([
      'config.yaml:10:9: error: duplicate Team "payments": it is already defined at config.yaml:4:9; rename or remove one',
    ]);
  });

  it("reports a reference to an object that does not exist, with a suggestion", () => {
    const problems = problemsOf(`${TEAM}---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec:
  ownerTeam: paymnets
`);
    expect(problems).toEqual([
      'config.yaml:11:14: error: Service "api" refers to Team "paymnets", which is not defined. Did you mean "payments"?',
    ]);
  });

  it("reports a dependency cycle with every service on it", () => {
    const svc = (name: string, dep: string) =>
      `---\napiVersion: nines/v1\nkind: Service\nmetadata: { name: ${name} }\nspec:\n  ownerTeam: payments\n  dependsOn: [${dep}]\n`;
    const problems = problemsOf(TEAM + svc("a", "b") + svc("b", "c") + svc("c", "a"));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("dependency cycle: a → b → c → a");
  });

  it("rejects a file that is not UTF-8, naming the line of the bad byte", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-cfg-"));
    const file = join(dir, "latin1.yaml");
    writeFileSync(
      file,
      Buffer.concat([Buffer.from(`${TEAM}  # caf`), Buffer.from([0xe9]), Buffer.from("\n")]),
    );
    const read = await readConfigPath(file);
    expect(read.sources).toEqual([]);
    expect(read.problems.map(formatProblem)).toEqual([
      `${file}:6:8: error: the file is not valid UTF-8 (byte 0xe9 at offset 75); save it as UTF-8`,
    ]);
  });

  it("rejects a 10 MB file before parsing it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-cfg-"));
    const file = join(dir, "huge.yaml");
    writeFileSync(file, `${TEAM}# ${"x".repeat(10 * 1024 * 1024)}\n`);
    const read = await readConfigPath(file);
    expect(read.sources).toEqual([]);
    expect(read.problems[0]?.message).toMatch(/the file is 10\.0 MiB; a config file may be at most 4\.0 MiB/);
  });

  it("reads every YAML file below a directory in path order and skips hidden ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nines-cfg-"));
    writeFileSync(join(dir, "b.yaml"), TEAM);
    writeFileSync(join(dir, "a.yml"), TEAM.replace("payments", "platform"));
    writeFileSync(join(dir, ".hidden.yaml"), "not: [valid");
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const read = await readConfigPath(dir);
    expect(read.problems).toEqual([]);
    expect(read.sources.map((s) => s.path)).toEqual([join(dir, "a.yml"), join(dir, "b.yaml")]);
  });
});
