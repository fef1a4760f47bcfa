import type { AddressInfo, Socket } from "node:net";
import { createServer, type SecureVersion, type Server } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import type { ProbeOptions } from "./probe-options.js";
import { makeChain } from "./test-certificates.test-helpers.js";
import { runTlsProbe, TlsProbeSpec, type TlsProbeSpecInput } from "./tls-probe.js";

const DAY = 86_400_000;
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

const now = Date.now();
const chain = makeChain(now, { root: 3650, intermediate: 10, leaf: 90 });
const localhost = async () => [{ address: "127.0.0.1", family: 4 }];

async function tlsServer(options: { maxVersion?: SecureVersion; cert?: string } = {}): Promise<number> {
  const server: Server = createServer(
    { cert: options.cert ?? chain.serverCert, key: chain.leaf.keyPem, maxVersion: options.maxVersion },
    (s) => s.end(),
  );
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => sockets.add(s));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const options = (overrides: Partial<ProbeOptions> = {}): ProbeOptions => ({
  now: () => now,
  timeoutMs: 3000,
  lookup: localhost,
  ...overrides,
});
const spec = (input: Omit<TlsProbeSpecInput, "type">): TlsProbeSpec =>
  TlsProbeSpec.parse({ type: "tls", ca: chain.root.certPem, ...input });
const seconds = (ms: number): number => Math.floor(ms / 1000) * 1000;

describe("tls probe", () => {
  it("reports the leaf's expiry and the earlier expiry of the intermediate as two values", async () => {
    const port = await tlsServer();
    const result = await runTlsProbe(spec({ host: "localhost", port }), options());
    expect(result.failure).toBeNull();
    expect(result.tls?.leafNotAfter).toBe(seconds(now + 90 * DAY));
    expect(result.tls?.earliestNotAfter).toBe(seconds(now + 10 * DAY));
    expect(result.tls?.chain.map((c) => c.subject)).toEqual([
      "CN=localhost",
      "CN=Nines Test Intermediate",
      "CN=Nines Test Root",
    ]);
    expect(result.tls?.hostnameVerified).toBe(true);
    expect(result.tls?.chainVerified).toBe(true);
    expect(result.tls?.protocol).toBe("TLSv1.3");
    expect(result.ip).toBe("127.0.0.1");
    expect(result.timings.tls).toBeGreaterThan(0);
  });

  it("judges expiry with the probe's clock: the run fails once the intermediate has expired", async () => {
    const port = await tlsServer();
    const result = await runTlsProbe(
      spec({ host: "localhost", port }),
      options({ now: () => now + 11 * DAY }),
    );
    expect(result.failure).toEqual({ kind: "tls", reason: "tls: certificate has expired" });
    expect(result.tls?.earliestNotAfter).toBe(seconds(now + 10 * DAY));
  });

  it("reports a name mismatch separately from chain trust", async () => {
    const port = await tlsServer();
    const result = await runTlsProbe(
      spec({ host: "localhost", serverName: "api.example.test", port }),
      options(),
    );
    expect(result.failure).toEqual({
      kind: "tls",
      reason: "tls: certificate is not valid for api.example.test",
    });
    expect(result.tls?.chainVerified).toBe(true);
    expect(result.tls?.hostnameVerified).toBe(false);

    const unverified = await runTlsProbe(
      spec({ host: "localhost", serverName: "api.example.test", port, verify: false }),
      options(),
    );
    expect(unverified.ok).toBe(true);
    expect(unverified.tls?.hostnameVerified).toBe(false);
  });

  it("fails a chain the trusted CAs did not issue", async () => {
    const port = await tlsServer();
    const other = makeChain(now);
    const result = await runTlsProbe(spec({ host: "localhost", port, ca: other.root.certPem }), options());
    expect(result.ok).toBe(false);
    expect(result.failure?.reason).toMatch(/^tls: /);
    expect(result.tls?.chainVerified).toBe(false);
  });

  it("fails when the server is missing its intermediate", async () => {
    const port = await tlsServer({ cert: chain.leaf.certPem });
    const result = await runTlsProbe(spec({ host: "localhost", port }), options());
    expect(result.failure?.reason).toBe(
      "tls: unable to verify the first certificate (is an intermediate missing?)",
    );
  });

  it("fails when the negotiated version is older than the minimum", async () => {
    const port = await tlsServer({ maxVersion: "TLSv1.2" });
    const ok = await runTlsProbe(spec({ host: "localhost", port, minVersion: "TLSv1.2" }), options());
    expect(ok.ok).toBe(true);
    expect(ok.tls?.protocol).toBe("TLSv1.2");
    const result = await runTlsProbe(spec({ host: "localhost", port, minVersion: "TLSv1.3" }), options());
    expect(result.failure).toEqual({
      kind: "tls",
      reason: "tls: negotiated TLSv1.2, older than the minimum TLSv1.3",
    });
  });

  it("fails with a reason when the port does not speak TLS", async () => {
    const { createServer: createNetServer } = await import("node:net");
    const server = createNetServer((s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
    cleanup.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const result = await runTlsProbe(spec({ host: "localhost", port }), options());
    expect(result.ok).toBe(false);
    expect(result.connected).toBe(true);
    expect(result.failure?.kind).toBe("tls");
  });
});
