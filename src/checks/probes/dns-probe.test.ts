import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { type AddressInfo, createServer, type Server } from "node:net";
import { type Answer, decode, encode, type Packet } from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import { createAddressPolicy } from "./address-policy.js";
import { DnsProbeSpec, type DnsProbeSpecInput, runDnsProbe } from "./dns-probe.js";
import type { ProbeOptions } from "./probe-options.js";

type Zone = Record<string, { rcode?: number; answers?: Answer[]; truncate?: boolean; silent?: boolean }>;

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function answerFor(zone: Zone, query: Packet, overTcp: boolean): Buffer | null {
  const question = query.questions?.[0];
  const entry = zone[`${question?.type} ${question?.name}`] ?? { rcode: 3 };
  if (entry.silent) return null;
  const truncated = entry.truncate === true && !overTcp;
  return encode({
    type: "response",
    id: query.id,
    flags: (entry.rcode ?? 0) | (truncated ? 0x200 : 0),
    questions: query.questions,
    answers: truncated ? [] : (entry.answers ?? []),
  });
}

/** A tiny authoritative server on 127.0.0.1, UDP and TCP on the same port. */
async function dnsServer(zone: Zone): Promise<{ resolver: string; queries: string[] }> {
  const queries: string[] = [];
  const onMessage = (message: Buffer, remote: { port: number; address: string }) => {
    const query = decode(message);
    queries.push(`udp ${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
    const reply = answerFor(zone, query, false);
    if (reply) udp.send(reply, remote.port, remote.address);
  };
  let udp: UdpSocket = createSocket("udp4");
  udp.on("message", onMessage);
  const tcp: Server = createServer((socket) => {
    socket.on("data", (data) => {
      const query = decode(data.subarray(2));
      queries.push(`tcp ${query.questions?.[0]?.type} ${query.questions?.[0]?.name}`);
      const reply = answerFor(zone, query, true);
      if (!reply) return;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      socket.end(Buffer.concat([length, reply]));
    });
  });
  // The TCP listener takes the port the UDP socket got; another process may hold it for TCP: try again.
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    port = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once("error", reject);
        tcp.listen(port, "127.0.0.1", () => {
          tcp.off("error", reject);
          resolve();
        });
      });
      break;
    } catch (error) {
      if (attempt >= 20 || (error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      udp = createSocket("udp4");
      udp.on("message", onMessage);
    }
  }
  closers.push(
    () => udp.close(),
    () => tcp.close(),
  );
  expect((tcp.address() as AddressInfo).port).toBe(port);
  return { resolver: `127.0.0.1:${port}`, queries };
}

const options = (overrides: Partial<ProbeOptions> = {}): ProbeOptions => ({
  now: () => Date.now(),
  timeoutMs: 2000,
  ...overrides,
});
const spec = (input: Omit<DnsProbeSpecInput, "type">): DnsProbeSpec =>
  DnsProbeSpec.parse({ type: "dns", ...input });

const zone: Zone = {
  "A example.test": {
    answers: [
      { type: "A", name: "example.test", ttl: 60, data: "192.0.2.10" },
      { type: "A", name: "example.test", ttl: 60, data: "192.0.2.11" },
    ],
  },
  "MX example.test": {
    answers: [
      { type: "MX", name: "example.test", ttl: 300, data: { preference: 10, exchange: "mail.example.test" } },
    ],
  },
  "TXT example.test": {
    answers: [{ type: "TXT", name: "example.test", ttl: 300, data: ["v=spf1 ", "-all"] }],
  },
  "SRV _sip._tcp.example.test": {
    answers: [
      {
        type: "SRV",
        name: "_sip._tcp.example.test",
        ttl: 300,
        data: { priority: 1, weight: 5, port: 5060, target: "sip.example.test" },
      },
    ],
  },
  "CAA example.test": {
    answers: [
      {
        type: "CAA",
        name: "example.test",
        ttl: 300,
        data: { flags: 0, tag: "issue", value: "letsencrypt.org" },
      },
    ],
  },
  "A broken.test": { rcode: 2 },
  "A big.test": { truncate: true, answers: [{ type: "A", name: "big.test", ttl: 60, data: "192.0.2.99" }] },
  "A silent.test": { silent: true },
};

describe("dns probe", () => {
  it("reports NOERROR and the answers in presentation form", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(
      spec({ name: "example.test", resolver, expectedAnswers: ["192.0.2.11"] }),
      options(),
    );
    expect(result.ok).toBe(true);
    expect(result.rcode).toBe("NOERROR");
    expect(result.answers.map((a) => a.data)).toEqual(["192.0.2.10", "192.0.2.11"]);
    expect(result.answers[0]).toEqual({ name: "example.test", type: "A", ttl: 60, data: "192.0.2.10" });
    expect(result.ip).toBe("127.0.0.1");
    expect(result.timings.processing).toBeGreaterThan(0);
  });

  it("renders MX, TXT, SRV and CAA data as dig prints them", async () => {
    const { resolver } = await dnsServer(zone);
    const data = async (recordType: DnsProbeSpec["recordType"], name = "example.test") =>
      (await runDnsProbe(spec({ name, recordType, resolver }), options())).answers.map((a) => a.data);
    expect(await data("MX")).toEqual(["10 mail.example.test"]);
    expect(await data("TXT")).toEqual(["v=spf1 -all"]);
    expect(await data("SRV", "_sip._tcp.example.test")).toEqual(["1 5 5060 sip.example.test"]);
    expect(await data("CAA")).toEqual(['0 issue "letsencrypt.org"']);
  });

  it("matches expected names without case or trailing dot", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(
      spec({ name: "example.test", recordType: "MX", resolver, expectedAnswers: ["10 Mail.Example.Test."] }),
      options(),
    );
    expect(result.ok).toBe(true);
  });

  it("fails on NXDOMAIN unless NXDOMAIN is what the spec expects", async () => {
    const { resolver } = await dnsServer(zone);
    const failed = await runDnsProbe(spec({ name: "missing.test", resolver }), options());
    expect(failed.ok).toBe(false);
    expect(failed.rcode).toBe("NXDOMAIN");
    expect(failed.failure).toEqual({
      kind: "unexpected_response",
      reason: "rcode NXDOMAIN, expected NOERROR",
    });
    const expected = await runDnsProbe(
      spec({ name: "missing.test", resolver, expectedRcode: "NXDOMAIN" }),
      options(),
    );
    expect(expected.ok).toBe(true);
  });

  it("reports SERVFAIL", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(spec({ name: "broken.test", resolver }), options());
    expect(result.rcode).toBe("SERVFAIL");
    expect(result.ok).toBe(false);
  });

  it("fails when an expected answer is missing and says what came back", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(
      spec({ name: "example.test", resolver, expectedAnswers: ["192.0.2.99"] }),
      options(),
    );
    expect(result.failure?.reason).toBe("expected answer 192.0.2.99 not found (got 192.0.2.10, 192.0.2.11)");
  });

  it("retries over TCP when the UDP answer is truncated", async () => {
    const { resolver, queries } = await dnsServer(zone);
    const result = await runDnsProbe(spec({ name: "big.test", resolver }), options());
    expect(result.ok).toBe(true);
    expect(result.usedTcp).toBe(true);
    expect(result.answers.map((a) => a.data)).toEqual(["192.0.2.99"]);
    expect(queries).toEqual(["udp A big.test", "tcp A big.test"]);
  });

  it("queries over TCP when the spec asks for it", async () => {
    const { resolver, queries } = await dnsServer(zone);
    const result = await runDnsProbe(spec({ name: "example.test", resolver, transport: "tcp" }), options());
    expect(result.ok).toBe(true);
    expect(queries).toEqual(["tcp A example.test"]);
  });

  it("times out when the resolver never answers", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(spec({ name: "silent.test", resolver }), options({ timeoutMs: 200 }));
    expect(result.failure?.kind).toBe("timeout");
    expect(result.connected).toBe(false);
    expect(result.rcode).toBeNull();
  });

  it("refuses to query a resolver the address policy blocks", async () => {
    const { resolver } = await dnsServer(zone);
    const result = await runDnsProbe(
      spec({ name: "example.test", resolver }),
      options({ addressPolicy: createAddressPolicy({ deny: ["127.0.0.1"] }) }),
    );
    expect(result.failure).toEqual({
      kind: "blocked",
      reason: "address 127.0.0.1 is blocked by the target policy",
    });
  });

  it("rejects a malformed resolver at config time", () => {
    expect(DnsProbeSpec.safeParse({ type: "dns", name: "a.test", resolver: "1.1.1.1:99999" }).success).toBe(
      false,
    );
    expect(DnsProbeSpec.safeParse({ type: "dns", name: "a.test", resolver: "[::1]:5353" }).success).toBe(
      true,
    );
  });
});
