import { randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect as netConnect } from "node:net";
import { type Answer, decode, type DecodedPacket, encode, RECURSION_DESIRED } from "dns-packet";
import { z } from "zod";
import { describeNetworkError } from "./failure-reason.js";
import type { ProbeOptions } from "./probe-options.js";
import { DNS_RCODES, type DnsAnswer, type DnsProbeResult, type ProbeFailure } from "./probe-result.js";
import { ProbeRun } from "./probe-run.js";
import { resolveTarget } from "./resolve-target.js";
import { Host } from "./target-spec.js";

export const DNS_RECORD_TYPES = [
  "A",
  "AAAA",
  "CNAME",
  "MX",
  "TXT",
  "NS",
  "SOA",
  "SRV",
  "PTR",
  "CAA",
] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

const Resolver = z
  .string()
  .refine((value) => parseResolver(value) !== null, {
    message: "must be host, host:port, or [ipv6]:port, e.g. 1.1.1.1:53 or [2606:4700::1111]:53",
  })
  .describe(
    "Resolver to ask, host:port (port 53 when left out); default: the first of the system's resolvers.",
  );

export const DnsProbeSpec = z
  .strictObject({
    type: z.literal("dns"),
    name: Host.describe("The name to query, e.g. example.com."),
    recordType: z.enum(DNS_RECORD_TYPES).default("A").describe("Record type to ask for."),
    resolver: Resolver.optional(),
    transport: z
      .enum(["udp", "tcp"])
      .default("udp")
      .describe("udp (retried over tcp when the answer is truncated, as dig does) or tcp."),
    recursionDesired: z
      .boolean()
      .default(true)
      .describe("Set the RD flag; turn off to query an authoritative server."),
    expectedRcode: z.enum(DNS_RCODES).default("NOERROR").describe("Response code that counts as success."),
    expectedAnswers: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Values that must all be among the answers of the queried type, in presentation form: 192.0.2.1, "10 mail.example.com", the TXT text. Names compare without case or trailing dot.',
      ),
  })
  .describe("Sends one DNS query and judges the response code and answers.");
export type DnsProbeSpec = z.infer<typeof DnsProbeSpec>;
export type DnsProbeSpecInput = z.input<typeof DnsProbeSpec>;

const MAX_DNS_MESSAGE = 65_535;

export async function runDnsProbe(spec: DnsProbeSpec, options: ProbeOptions): Promise<DnsProbeResult> {
  const run = new ProbeRun(options);
  const result: DnsProbeResult = {
    type: "dns",
    ...run.emptyResult(),
    rcode: null,
    answers: [],
    authority: [],
    usedTcp: false,
  };
  return run.complete(result, () => probe(run, spec, result));
}

async function probe(
  run: ProbeRun,
  spec: DnsProbeSpec,
  result: DnsProbeResult,
): Promise<ProbeFailure | null> {
  const resolver = parseResolver(spec.resolver ?? getServers()[0] ?? "127.0.0.1");
  if (!resolver) return { kind: "dns", reason: "no resolver configured on this host; set `resolver`" };
  const target = await resolveTarget(run, resolver.host, 0);
  if (!target.ok) return target.failure;
  result.ip = target.ip;
  const query = encode({
    type: "query",
    id: randomInt(0, 65_536),
    flags: spec.recursionDesired ? RECURSION_DESIRED : 0,
    questions: [{ type: spec.recordType, name: spec.name, class: "IN" }],
  });

  let response: Exchange;
  if (spec.transport === "tcp") response = await exchangeTcp(run, target.ip, resolver.port, query);
  else {
    response = await exchangeUdp(run, target.ip, target.family, resolver.port, query);
    if (response.packet?.flag_tc) response = await exchangeTcp(run, target.ip, resolver.port, query);
  }
  result.usedTcp = response.tcp;
  if (!response.packet) return response.failure;
  const { packet } = response;
  result.connected = true;
  const code = (packet.flags ?? 0) & 0xf;
  result.rcode = DNS_RCODES[code] ?? `RCODE${code}`;
  result.answers = (packet.answers ?? []).flatMap(presentAnswer);
  result.authority = (packet.authorities ?? []).flatMap(presentAnswer);
  if (result.rcode !== spec.expectedRcode) {
    return { kind: "unexpected_response", reason: `rcode ${result.rcode}, expected ${spec.expectedRcode}` };
  }
  const norm = (value: string): string => normalizeAnswer(spec.recordType, value);
  const values = result.answers.filter((a) => a.type === spec.recordType).map((a) => a.data);
  const missing = spec.expectedAnswers.filter((expected) => !values.map(norm).includes(norm(expected)));
  if (missing.length > 0) {
    const got = values.length > 0 ? values.join(", ") : "no answers";
    return {
      kind: "unexpected_response",
      reason: `expected answer ${missing.join(", ")} not found (got ${got})`,
    };
  }
  return null;
}

/** Names compare without case or the trailing root dot ("Mail.Example.com." is mail.example.com); TXT exactly. */
function normalizeAnswer(type: DnsRecordType, value: string): string {
  if (type === "TXT") return value;
  return value
    .trim()
    .split(/\s+/)
    .map((token) => token.toLowerCase().replace(/(.)\.$/, "$1"))
    .join(" ");
}

interface Exchange {
  packet: DecodedPacket | null;
  failure: ProbeFailure;
  tcp: boolean;
}

function exchangeUdp(
  run: ProbeRun,
  ip: string,
  family: 4 | 6,
  port: number,
  query: Buffer,
): Promise<Exchange> {
  const id = query.readUInt16BE(0);
  return new Promise((resolve) => {
    const socket = createSocket(family === 6 ? "udp6" : "udp4");
    const stop = run.startPhase("processing", `waiting for the DNS answer from ${ip} port ${port}`);
    const finish = (packet: DecodedPacket | null, failure: ProbeFailure): void => {
      stop();
      run.signal.removeEventListener("abort", onAbort);
      socket.close();
      resolve({ packet, failure, tcp: false });
    };
    const onAbort = (): void => finish(null, run.abortFailure());
    socket.on("error", (error) => finish(null, describeNetworkError(error, run.activity)));
    socket.on("message", (message, remote) => {
      // Anything but the answer to our id from the resolver is noise (or spoofing): keep waiting.
      if (remote.port !== port || message.length < 12 || message.readUInt16BE(0) !== id) return;
      const packet = safeDecode(message);
      if (packet) finish(packet, { kind: "protocol", reason: "" });
      else finish(null, { kind: "protocol", reason: "invalid DNS response" });
    });
    if (run.signal.aborted) onAbort();
    else {
      run.signal.addEventListener("abort", onAbort, { once: true });
      socket.send(query, port, ip);
    }
  });
}

function exchangeTcp(run: ProbeRun, ip: string, port: number, query: Buffer): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: ip, port });
    let stop = run.startPhase("connect", `connecting to ${ip} port ${port}`);
    let buffered = Buffer.alloc(0);
    const finish = (packet: DecodedPacket | null, failure: ProbeFailure): void => {
      stop();
      run.signal.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve({ packet, failure, tcp: true });
    };
    const onAbort = (): void => finish(null, run.abortFailure());
    socket.on("error", (error) => finish(null, describeNetworkError(error, run.activity)));
    socket.on("connect", () => {
      stop();
      stop = run.startPhase("processing", `waiting for the DNS answer from ${ip} port ${port} over TCP`);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_DNS_MESSAGE + 2)
        return finish(null, { kind: "protocol", reason: "invalid DNS response" });
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const packet = safeDecode(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      if (packet) finish(packet, { kind: "protocol", reason: "" });
      else finish(null, { kind: "protocol", reason: "invalid DNS response" });
    });
    socket.on("end", () =>
      finish(null, { kind: "connection_reset", reason: "connection closed before the DNS answer" }),
    );
    if (run.signal.aborted) onAbort();
    else run.signal.addEventListener("abort", onAbort, { once: true });
  });
}

function safeDecode(message: Buffer): DecodedPacket | null {
  try {
    const packet = decode(message);
    return packet.type === "response" ? packet : null;
  } catch {
    return null;
  }
}

/** Renders a record's data as a zone file would, so users can write expected answers as dig prints them. */
function presentAnswer(answer: Answer): DnsAnswer[] {
  const base = { name: answer.name, type: answer.type, ttl: "ttl" in answer ? (answer.ttl ?? 0) : 0 };
  switch (answer.type) {
    case "A":
    case "AAAA":
    case "CNAME":
    case "DNAME":
    case "NS":
    case "PTR":
      return [{ ...base, data: answer.data }];
    case "MX":
      return [{ ...base, data: `${answer.data.preference ?? 0} ${answer.data.exchange}` }];
    case "TXT": {
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      return [{ ...base, data: parts.map((part) => part.toString()).join("") }];
    }
    case "SOA": {
      const d = answer.data;
      const numbers = [d.serial, d.refresh, d.retry, d.expire, d.minimum].map((n) => n ?? 0).join(" ");
      return [{ ...base, data: `${d.mname} ${d.rname} ${numbers}` }];
    }
    case "SRV": {
      const d = answer.data;
      return [{ ...base, data: `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${d.target}` }];
    }
    case "CAA": {
      const d = answer.data;
      return [{ ...base, data: `${d.flags ?? 0} ${d.tag} "${d.value}"` }];
    }
    case "OPT":
      return [];
    default:
      return [
        {
          ...base,
          data: Buffer.isBuffer(answer.data) ? answer.data.toString("hex") : JSON.stringify(answer.data),
        },
      ];
  }
}

export function parseResolver(value: string): { host: string; port: number } | null {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed?.[1]) return withPort(bracketed[1], bracketed[2]);
  const colons = value.split(":").length - 1;
  if (colons > 1) return withPort(value, undefined);
  const [host = "", port] = value.split(":");
  return host === "" ? null : withPort(host, port);
}

function withPort(host: string, port: string | undefined): { host: string; port: number } | null {
  if (port === undefined) return { host, port: 53 };
  const n = Number(port);
  return /^\d+$/.test(port) && n >= 1 && n <= 65_535 ? { host, port: n } : null;
}
