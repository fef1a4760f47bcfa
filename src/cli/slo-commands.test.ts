import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { runCli } from "./main.js";

const EXAMPLES = resolve(import.meta.dirname, "../../examples");

/** Runs the command in-process and collects what it writes. */
async function nines(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await runCli(["node", "nines", ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

const SLOTH = `version: "prometheus/v1"
service: "checkout"
slos:
  - name: "requests"
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
`;

describe("nines slo export-rules", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "nines-export-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it("exports the PromQL SLOs of local files, skipping check-based ones with a warning", async () => {
    const run = await nines(["slo", "export-rules", "--from", EXAMPLES]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("nines: skipped checkout-availability: its SLI counts check runs");
    expect(run.stderr).toContain(
      "checkout-api-errors: the calendar month is exported as a rolling 30d period",
    );
    const file = parse(run.stdout) as { groups: Array<{ name: string }> };
    expect(file.groups.map((g) => g.name)).toEqual([
      "sloth-slo-sli-recordings-checkout-api-errors",
      "sloth-slo-meta-recordings-checkout-api-errors",
      "sloth-slo-alerts-checkout-api-errors",
    ]);
  });

  it("takes Sloth specs as input and fails when a named SLO cannot be exported", async () => {
    const config = join(dir, "config");
    const { cpSync } = await import("node:fs");
    cpSync(EXAMPLES, config, { recursive: true });
    writeFileSync(join(config, "sloth.yaml"), SLOTH);
    const out = join(dir, "rules.yaml");
    const run = await nines([
      "slo",
      "export-rules",
      "--from",
      config,
      "--slo",
      "checkout-requests",
      "--out",
      out,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${out}: rules for 1 SLO`);
    expect(readFileSync(out, "utf8")).toContain("sloth-slo-alerts-checkout-requests");

    const refused = await nines(["slo", "export-rules", "--from", config, "--slo", "checkout-availability"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /checkout-availability: its SLI counts check runs[\s\S]*cannot be exported/,
    );
    const missing = await nines(["slo", "export-rules", "--from", config, "--slo", "nope"]);
    expect(missing).toMatchObject({ code: 4, stderr: expect.stringContaining("no SLO named nope") });
  });

  describe("against a server", () => {
    let server: Server;
    let url: string;
    const asked: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        asked.push(`${req.method} ${req.url} ${req.headers.authorization}`);
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            objects: [
              {
                apiVersion: "nines/v1",
                kind: "SLO",
                metadata: { name: "api-errors" },
                spec: {
                  service: "api",
                  sli: {
                    ratio: {
                      bad: "sum(rate(errors_total[{{.window}}]))",
                      total: "sum(rate(requests_total[{{.window}}]))",
                    },
                  },
                  objective: 99,
                },
              },
            ],
          }),
        );
      });
      await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
      const address = server.address();
      url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it("fetches the SLOs in force from the config API", async () => {
      const run = await nines(["--server", url, "--token", "t0k", "slo", "export-rules"]);
      expect(run.code).toBe(0);
      expect(asked).toEqual(["GET /api/v1/config/objects?kind=SLO Bearer t0k"]);
      expect(run.stdout).toContain("record: slo:sli_error:ratio_rate30d");
      expect(run.stdout).toContain("vector(0.99)");
    });
  });
});
