import { z } from "zod";
import { connectTarget } from "./connect-target.js";
import { describeNetworkError } from "./failure-reason.js";
import type { ProbeOptions } from "./probe-options.js";
import type { ProbeFailure, TcpProbeResult } from "./probe-result.js";
import { ProbeRun } from "./probe-run.js";
import { resolveTarget } from "./resolve-target.js";
import { Host, Port, unbracket } from "./target-spec.js";
import { IpFamily, lookupFamily, TlsClientSpec } from "./tls-client-spec.js";

export const DEFAULT_READ_LIMIT_BYTES = 64 * 1024;
export const MAX_READ_LIMIT_BYTES = 1024 * 1024;

const Expectation = z.union([
  z.strictObject({ contains: z.string().min(1).describe("Text the target must send.") }),
  z.strictObject({
    regex: z
      .string()
      .min(1)
      .refine(isValidRegex, { message: "not a valid regular expression" })
      .describe("JavaScript regular expression the received text must match."),
  }),
]);

export const TcpProbeSpec = z
  .strictObject({
    type: z.literal("tcp"),
    host: Host,
    port: Port.describe("TCP port."),
    tls: TlsClientSpec.optional().describe(
      "Speak TLS after connecting; `tls: {}` turns it on with verification.",
    ),
    send: z.string().max(65_536).optional().describe('Text to send once connected, e.g. "PING\\r\\n".'),
    expect: Expectation.optional().describe(
      "What the target must send back: { contains: text } or { regex: pattern }. Without it, connecting is enough.",
    ),
    readLimitBytes: z
      .int()
      .min(1)
      .max(MAX_READ_LIMIT_BYTES)
      .default(DEFAULT_READ_LIMIT_BYTES)
      .describe("Stop reading after this many bytes while waiting for `expect`."),
    ipFamily: IpFamily,
  })
  .describe("Opens a TCP connection, optionally with TLS, sends a line and checks the answer.");
export type TcpProbeSpec = z.infer<typeof TcpProbeSpec>;
export type TcpProbeSpecInput = z.input<typeof TcpProbeSpec>;

export async function runTcpProbe(spec: TcpProbeSpec, options: ProbeOptions): Promise<TcpProbeResult> {
  const run = new ProbeRun(options);
  const result: TcpProbeResult = {
    type: "tcp",
    ...run.emptyResult(),
    received: "",
    tls: null,
  };
  return run.complete(result, () => probe(run, spec, result));
}

async function probe(
  run: ProbeRun,
  spec: TcpProbeSpec,
  result: TcpProbeResult,
): Promise<ProbeFailure | null> {
  const target = await resolveTarget(run, spec.host, lookupFamily(spec.ipFamily));
  if (!target.ok) return target.failure;
  result.ip = target.ip;
  const connection = await connectTarget(run, {
    ip: target.ip,
    port: spec.port,
    hostname: unbracket(spec.host),
    tls: spec.tls ?? null,
  });
  result.connected = connection.ok || connection.connected;
  result.tls = connection.tls;
  if (!connection.ok) return connection.failure;
  const { socket } = connection;
  const { expect } = spec;
  const matches = (text: string): boolean =>
    expect === undefined ||
    ("contains" in expect ? text.includes(expect.contains) : new RegExp(expect.regex).test(text));

  return new Promise<ProbeFailure | null>((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let stopReading: (() => void) | null = null;
    const received = (): string => Buffer.concat(chunks).toString("utf8");
    const finish = (failure: ProbeFailure | null): void => {
      stopReading?.();
      run.signal.removeEventListener("abort", onAbort);
      result.received = received();
      socket.destroy();
      resolve(failure);
    };
    const onAbort = (): void => finish(run.abortFailure());
    const missing = (why: string): ProbeFailure => ({
      kind: "unexpected_response",
      reason: `${describeExpectation(spec)} not found in ${length} bytes received (${why})`,
    });
    socket.on("error", (error) => finish(describeNetworkError(error, run.activity)));
    if (run.signal.aborted) {
      onAbort();
      return;
    }
    run.signal.addEventListener("abort", onAbort, { once: true });

    const awaitAnswer = (): void => {
      if (expect === undefined) {
        finish(null);
        return;
      }
      stopReading = run.startPhase("processing", `waiting for ${describeExpectation(spec)}`);
      socket.on("data", (chunk: Buffer) => {
        const room = spec.readLimitBytes - length;
        chunks.push(chunk.subarray(0, room));
        length += Math.min(chunk.length, room);
        if (matches(received())) finish(null);
        else if (length >= spec.readLimitBytes)
          finish(missing(`read limit of ${spec.readLimitBytes} bytes reached`));
      });
      socket.on("end", () => finish(missing("connection closed by peer")));
    };
    if (spec.send === undefined) awaitAnswer();
    else {
      run.activity = "sending";
      socket.write(spec.send, awaitAnswer);
    }
  });
}

function describeExpectation(spec: TcpProbeSpec): string {
  if (!spec.expect) return "nothing";
  return "contains" in spec.expect
    ? JSON.stringify(spec.expect.contains)
    : `match for /${spec.expect.regex}/`;
}

function isValidRegex(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}
