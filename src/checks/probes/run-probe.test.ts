import { type AddressInfo, createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { evaluateConditions, parseCondition, ProbeSpec, runProbe } from "../probe-api.js";

describe("runProbe", () => {
  it("dispatches on the spec's type and feeds conditions", async () => {
    const server = createServer((socket) => socket.end("+PONG\r\n"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const spec = ProbeSpec.parse({ type: "tcp", host: "127.0.0.1", port, expect: { contains: "PONG" } });
      const result = await runProbe(spec, { now: () => Date.now(), timeoutMs: 2000 });
      expect(result.type).toBe("tcp");
      expect(result.ok).toBe(true);
      const conditions = [
        "[CONNECTED] == true",
        "[BODY] == pat(+PONG*)",
        "[RESPONSE_TIME] < 2000",
        "[IP] == 127.0.0.1",
      ].map((text) => {
        const parsed = parseCondition(text, { probeType: "tcp" });
        if (!parsed.ok) throw new Error(parsed.error.message);
        return parsed.condition;
      });
      expect(evaluateConditions(conditions, result).every((o) => o.ok)).toBe(true);
    } finally {
      server.close();
    }
  });

  it("fills defaults and rejects unknown fields in specs", () => {
    expect(ProbeSpec.parse({ type: "http", url: "https://example.com/health" })).toEqual({
      type: "http",
      url: "https://example.com/health",
      method: "GET",
      headers: {},
      followRedirects: true,
      maxRedirects: 10,
      expectedStatus: ["2xx"],
      bodyLimitBytes: 1024 * 1024,
      tls: { verify: true },
      ipFamily: "auto",
    });
    expect(ProbeSpec.safeParse({ type: "http", url: "https://example.com", timeout: 5 }).success).toBe(false);
    expect(ProbeSpec.safeParse({ type: "http", url: "ftp://example.com" }).success).toBe(false);
    expect(
      ProbeSpec.safeParse({ type: "http", url: "https://example.com", bodyLimitBytes: 1024 ** 3 }).success,
    ).toBe(false);
    expect(ProbeSpec.parse({ type: "tls", host: "example.com" })).toMatchObject({ port: 443, verify: true });
    expect(ProbeSpec.parse({ type: "dns", name: "example.com" })).toMatchObject({
      recordType: "A",
      expectedRcode: "NOERROR",
      transport: "udp",
    });
  });

  it("generates the JSON Schema that users' editors read", () => {
    const schema = JSON.stringify(z.toJSONSchema(ProbeSpec, { io: "input" }));
    expect(schema).toContain("Read at most this many bytes of the body");
    expect(schema).toContain('"additionalProperties":false');
  });
});
