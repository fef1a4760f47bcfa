import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { z } from "zod";
import { type RedirectableRequest, redirectedRequest } from "../../platform/http-redirect.js";
import { connectTarget } from "./connect-target.js";
import { describeNetworkError } from "./failure-reason.js";
import { HttpResponseParser, invalidFieldValue, type ParseState } from "./http-response-parser.js";
import type { ProbeOptions } from "./probe-options.js";
import type { HttpProbeResult, ProbeFailure } from "./probe-result.js";
import { ProbeRun } from "./probe-run.js";
import { resolveTarget } from "./resolve-target.js";
import { IpFamily, lookupFamily, TlsClientSpec } from "./tls-client-spec.js";

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const MAX_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

const StatusPattern = z
  .union([
    z.int().min(100).max(599),
    z.string().regex(/^[1-5]xx$/, "use a code such as 204 or a class such as 2xx"),
  ])
  .describe("A status code (204) or a class (2xx).");

export const HttpProbeSpec = z
  .strictObject({
    type: z.literal("http"),
    url: z
      .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
      .describe("The URL to request, http:// or https://."),
    method: z.enum(HTTP_METHODS).default("GET").describe("HTTP method."),
    headers: z
      .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "not a valid header name"), z.string())
      .default({})
      .describe("Request headers. Host is derived from the URL unless set here."),
    body: z.string().max(MAX_BODY_LIMIT_BYTES).optional().describe("Request body, sent as given."),
    followRedirects: z
      .boolean()
      .default(true)
      .describe("Follow 3xx responses with a Location header; off: the 3xx itself is the response judged."),
    maxRedirects: z.int().min(0).max(30).default(10).describe("Redirects to follow before the run fails."),
    expectedStatus: z
      .array(StatusPattern)
      .default(["2xx"])
      .describe(
        "Status codes that count as success; an empty list accepts any status (leave it to conditions).",
      ),
    bodyLimitBytes: z
      .int()
      .min(0)
      .max(MAX_BODY_LIMIT_BYTES)
      .default(DEFAULT_BODY_LIMIT_BYTES)
      .describe(
        "Read at most this many bytes of the body; a longer body fails the run. Default 1 MiB, at most 64 MiB.",
      ),
    tls: TlsClientSpec.prefault({}),
    ipFamily: IpFamily,
  })
  .describe("Requests a URL over HTTP or HTTPS and judges the response's status.");
export type HttpProbeSpec = z.infer<typeof HttpProbeSpec>;
export type HttpProbeSpecInput = z.input<typeof HttpProbeSpec>;

interface HopResponse {
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Requests the spec's URL on fresh connections (one per redirect hop), timing each phase as blackbox_exporter
 * does. Every hop's address passes the address policy, so a redirect cannot lead the probe to a blocked one.
 */
export async function runHttpProbe(spec: HttpProbeSpec, options: ProbeOptions): Promise<HttpProbeResult> {
  const run = new ProbeRun(options);
  const result: HttpProbeResult = {
    type: "http",
    ...run.emptyResult(),
    status: null,
    httpVersion: null,
    headers: {},
    body: "",
    bodyBytes: 0,
    finalUrl: spec.url,
    redirects: [],
    tls: null,
  };
  return run.complete(result, () => follow(run, spec, result));
}

async function follow(
  run: ProbeRun,
  spec: HttpProbeSpec,
  result: HttpProbeResult,
): Promise<ProbeFailure | null> {
  let hop: RedirectableRequest = {
    url: new URL(spec.url),
    method: spec.method,
    headers: { ...spec.headers },
    body: spec.body,
  };
  for (let redirects = 0; ; redirects++) {
    result.finalUrl = hop.url.href;
    const https = hop.url.protocol === "https:";
    const target = await resolveTarget(run, hop.url.hostname, lookupFamily(spec.ipFamily));
    if (!target.ok) return target.failure;
    result.ip = target.ip;
    const port = Number(hop.url.port) || (https ? 443 : 80);
    const connection = await connectTarget(run, {
      ip: target.ip,
      port,
      hostname: hop.url.hostname.replace(/^\[|\]$/g, ""),
      tls: https ? spec.tls : null,
      alpn: https ? ["http/1.1"] : undefined,
    });
    result.connected = connection.ok || connection.connected;
    result.tls = connection.tls ?? result.tls;
    if (!connection.ok) return connection.failure;

    const exchange = await exchangeOnSocket(run, connection.socket, hop, spec.bodyLimitBytes);
    if (exchange.response) {
      result.status = exchange.response.status;
      result.httpVersion = exchange.response.httpVersion;
      result.headers = exchange.response.headers;
      result.body = exchange.response.body.toString("utf8");
      result.bodyBytes = exchange.response.body.length;
    }
    if (exchange.failure || !exchange.response) return exchange.failure ?? bug("no response and no failure");

    const { status, headers } = exchange.response;
    const location = headers.location;
    if (spec.followRedirects && status >= 300 && status < 400 && status !== 304 && location !== undefined) {
      if (redirects >= spec.maxRedirects) {
        return { kind: "too_many_redirects", reason: `stopped after ${spec.maxRedirects} redirects` };
      }
      const next = redirectedRequest(hop, status, location);
      if (!next)
        return {
          kind: "unexpected_response",
          reason: `redirect to an invalid or non-HTTP location ${location}`,
        };
      result.redirects.push(next.url.href);
      hop = next;
      continue;
    }
    if (!statusExpected(status, spec.expectedStatus)) {
      return {
        kind: "unexpected_status",
        reason:
          `status ${status} ${STATUS_CODES[status] ?? ""}`.trim() +
          `, expected ${spec.expectedStatus.join(", ")}`,
      };
    }
    return null;
  }
}

export function statusExpected(status: number, expected: ReadonlyArray<number | string>): boolean {
  if (expected.length === 0) return true;
  return expected.some((pattern) =>
    typeof pattern === "number" ? pattern === status : Math.floor(status / 100) === Number(pattern[0]),
  );
}

interface Exchange {
  response: HopResponse | null;
  failure: ProbeFailure | null;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * The request's bytes: the spec's headers as written (names keep their case), Host from the URL unless set,
 * a content-length for a body, and `connection: close`, since every run uses a fresh connection anyway.
 */
function requestBytes(hop: RedirectableRequest): Buffer | ProbeFailure {
  let fields = "";
  const given = new Set<string>();
  for (const [name, value] of Object.entries(hop.headers)) {
    const lower = name.toLowerCase();
    // The framing is ours: a length the spec states could disagree with the body sent.
    if (lower === "content-length" || lower === "transfer-encoding") continue;
    // Node's client refuses these too: a line break in a value would smuggle in a header of its own.
    if (invalidFieldValue(value))
      return {
        kind: "protocol",
        reason: `header ${name} holds a character HTTP does not allow (a line break?)`,
      };
    given.add(lower);
    fields += `${name}: ${value}\r\n`;
  }
  let head = `${hop.method} ${hop.url.pathname}${hop.url.search} HTTP/1.1\r\n`;
  if (!given.has("host")) head += `host: ${hop.url.host}\r\n`;
  if (!given.has("user-agent")) head += "user-agent: Nines-Probe/1\r\n";
  head += fields;
  if (!given.has("connection")) head += "connection: close\r\n";
  const body = hop.body === undefined ? null : Buffer.from(hop.body, "utf8");
  if (body !== null || BODY_METHODS.has(hop.method)) head += `content-length: ${body?.length ?? 0}\r\n`;
  const bytes = Buffer.from(`${head}\r\n`, "latin1");
  return body === null || body.length === 0 ? bytes : Buffer.concat([bytes, body]);
}

/**
 * Sends one request on an open connection and reads the response up to the body limit. The client is a
 * small one of our own over the socket: Node's (ClientRequest, IncomingMessage, streams, llhttp) allocated
 * several times what a probe needs, thousands of times a second. Phases as blackbox_exporter times them:
 * processing from the request's last byte written to the response's first byte, transfer to its last.
 */
function exchangeOnSocket(
  run: ProbeRun,
  socket: Socket,
  hop: RedirectableRequest,
  bodyLimit: number,
): Promise<Exchange> {
  const bytes = requestBytes(hop);
  if (!Buffer.isBuffer(bytes)) {
    socket.destroy();
    return Promise.resolve({ response: null, failure: bytes });
  }
  return new Promise((resolve) => {
    const parser = new HttpResponseParser(hop.method, bodyLimit);
    let settled = false;
    let stopProcessing: (() => void) | null = null;
    let stopTransfer: (() => void) | null = null;
    const finish = (failure: ProbeFailure | null): void => {
      if (settled) return;
      settled = true;
      stopProcessing?.();
      stopTransfer?.();
      run.signal.removeEventListener("abort", onAbort);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onError);
      socket.destroy();
      const head = parser.head;
      const response =
        head === null
          ? null
          : {
              status: head.status,
              httpVersion: head.httpVersion,
              headers: head.headers,
              body: parser.body(),
            };
      resolve({ response, failure });
    };
    const onAbort = (): void => finish(run.abortFailure());
    const onData = (chunk: Buffer): void => {
      if (stopTransfer === null) {
        stopProcessing?.();
        stopTransfer = run.startPhase("transfer", "reading the body");
      }
      const state = parser.push(chunk);
      if (state !== "more") finish(judgeParse(state, parser, bodyLimit));
    };
    const onEnd = (): void => {
      const state = parser.end();
      if (state === "incomplete_head")
        finish(
          parser.started
            ? { kind: "protocol", reason: "invalid HTTP response: the connection closed inside the header" }
            : { kind: "connection_reset", reason: "connection closed before a response arrived" },
        );
      else if (state === "incomplete_body")
        finish({ kind: "connection_reset", reason: "connection closed before the body was complete" });
      else finish(judgeParse(state, parser, bodyLimit));
    };
    const onError = (error: unknown): void =>
      finish(describeNetworkError(error, parser.head ? "reading the body" : "waiting for the response"));
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.on("error", onError);
    if (run.signal.aborted) {
      onAbort();
      return;
    }
    run.signal.addEventListener("abort", onAbort, { once: true });
    run.activity = "sending the request";
    socket.write(bytes, () => {
      if (!settled && stopTransfer === null)
        stopProcessing = run.startPhase("processing", "waiting for the response");
    });
  });
}

function judgeParse(state: ParseState, parser: HttpResponseParser, bodyLimit: number): ProbeFailure | null {
  if (state === "complete") return null;
  if (state === "too_large") {
    const declared = parser.declaredLength;
    return {
      kind: "body_too_large",
      reason:
        declared !== null && declared > bodyLimit
          ? `body exceeded ${bodyLimit} bytes (content-length ${declared})`
          : `body exceeded ${bodyLimit} bytes`,
    };
  }
  return { kind: "protocol", reason: `invalid HTTP response: ${parser.error}` };
}

function bug(message: string): never {
  throw new Error(`bug in the http probe: ${message}`);
}
