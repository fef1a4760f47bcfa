import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import type { ProbeOptions } from "./probe-options.js";
import { runTcpProbe, TcpProbeSpec, type TcpProbeSpecInput } from "./tcp-probe.js";
import { makeChain } from "./test-certificates.test-helpers.js";

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function listen(server: Server): Promise<number> {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => sockets.add(s));
  server.on("secureConnection", (s: Socket) => sockets.add(s));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

const options = (overrides: Partial<ProbeOptions> = {}): ProbeOptions => ({
  now: () => Date.now(),
  timeoutMs: 2000,
  ...overrides,
});
const spec = (input: Omit<TcpProbeSpecInput, "type">): TcpProbeSpec =>
  TcpProbeSpec.parse({ type: "tcp", ...input });

describe("tcp probe", () => {
  it("succeeds on connect when nothing is to be sent or expected", async () => {
    const port = await listen(createServer(() => {}));
    const result = await runTcpProbe(spec({ host: "127.0.0.1", port }), options());
    expect(result.ok).toBe(true);
    expect(result.connected).toBe(true);
    expect(result.ip).toBe("127.0.0.1");
    expect(result.timings.connect).toBeGreaterThanOrEqual(0);
  });

  it("sends a line and finds the expected answer, by substring and by regex", async () => {
    const port = await listen(
      createServer((socket) =>
        socket.on("data", (data) => socket.write(data.toString() === "PING\r\n" ? "+PONG\r\n" : "-ERR\r\n")),
      ),
    );
    const contains = await runTcpProbe(
      spec({ host: "127.0.0.1", port, send: "PING\r\n", expect: { contains: "PONG" } }),
      options(),
    );
    expect(contains.ok).toBe(true);
    expect(contains.received).toBe("+PONG\r\n");
    const regex = await runTcpProbe(
      spec({ host: "127.0.0.1", port, send: "PING\r\n", expect: { regex: "^\\+PO[N]G" } }),
      options(),
    );
    expect(regex.ok).toBe(true);
  });

  it("reads a banner without sending", async () => {
    const port = await listen(createServer((socket) => socket.write("220 mail.test ESMTP\r\n")));
    const result = await runTcpProbe(
      spec({ host: "127.0.0.1", port, expect: { contains: "ESMTP" } }),
      options(),
    );
    expect(result.ok).toBe(true);
  });

  it("fails when the answer lacks the expected text, reporting what was received", async () => {
    const port = await listen(createServer((socket) => socket.end("-ERR unknown\r\n")));
    const result = await runTcpProbe(
      spec({ host: "127.0.0.1", port, expect: { contains: "PONG" } }),
      options(),
    );
    expect(result.ok).toBe(false);
    expect(result.failure).toEqual({
      kind: "unexpected_response",
      reason: '"PONG" not found in 14 bytes received (connection closed by peer)',
    });
    expect(result.received).toBe("-ERR unknown\r\n");
  });

  it("stops reading at the read limit from a target that streams forever", async () => {
    const port = await listen(
      createServer((socket) => {
        const timer = setInterval(() => socket.write(Buffer.alloc(8192, "x")), 1);
        socket.on("close", () => clearInterval(timer));
        socket.on("error", () => clearInterval(timer));
      }),
    );
    const result = await runTcpProbe(
      spec({ host: "127.0.0.1", port, expect: { contains: "never" }, readLimitBytes: 20_000 }),
      options(),
    );
    expect(result.failure?.reason).toBe(
      '"never" not found in 20000 bytes received (read limit of 20000 bytes reached)',
    );
    expect(result.received.length).toBe(20_000);
  });

  it("times out waiting for an answer that never comes", async () => {
    const port = await listen(createServer(() => {}));
    const result = await runTcpProbe(
      spec({ host: "127.0.0.1", port, expect: { contains: "x" } }),
      options({ timeoutMs: 200 }),
    );
    expect(result.failure).toEqual({ kind: "timeout", reason: 'timeout after 200 ms while waiting for "x"' });
    expect(result.connected).toBe(true);
  });

  it("speaks TLS when asked and reports the certificate", async () => {
    const now = Date.now();
    const chain = makeChain(now);
    const port = await listen(
      createTlsServer({ cert: chain.serverCert, key: chain.leaf.keyPem }, (socket) =>
        socket.end("hello over tls\n"),
      ),
    );
    const result = await runTcpProbe(
      spec({ host: "localhost", port, tls: { ca: chain.root.certPem }, expect: { contains: "hello" } }),
      options({ lookup: async () => [{ address: "127.0.0.1", family: 4 }] }),
    );
    expect(result.failure).toBeNull();
    expect(result.tls?.protocol).toBe("TLSv1.3");
    expect(result.timings.tls).toBeGreaterThan(0);
  });

  it("rejects an invalid regex at config time", () => {
    const parsed = TcpProbeSpec.safeParse({
      type: "tcp",
      host: "db.internal",
      port: 5432,
      expect: { regex: "([" },
    });
    expect(parsed.success).toBe(false);
  });
});
