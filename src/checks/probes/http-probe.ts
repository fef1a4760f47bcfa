import { type IncomingMessage, request as httpRequest, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { z } from "zod";
import { connectTarget } from "./connect-target.js";
import { describeNetworkError } from "./failure-reason.js";
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

/** Headers that must not follow a redirect to another origin, as browsers and curl do. */
const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

interface HopRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

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
  let hop: HopRequest = {
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
      const next = nextHop(hop, status, location);
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

/** Per RFC 9110: 303 (and 301/302 after POST, as every client does) become GET without a body. */
function nextHop(hop: HopRequest, status: number, location: string): HopRequest | null {
  let url: URL;
  try {
    url = new URL(location, hop.url);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const toGet =
    status === 303 ? hop.method !== "HEAD" : (status === 301 || status === 302) && hop.method === "POST";
  const headers = { ...hop.headers };
  if (url.origin !== hop.url.origin) {
    for (const name of Object.keys(headers))
      if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
  }
  if (toGet) {
    for (const name of Object.keys(headers)) {
      if (/^content-(length|type|encoding)$/i.test(name)) delete headers[name];
    }
  }
  return { url, method: toGet ? "GET" : hop.method, headers, body: toGet ? undefined : hop.body };
}

interface Exchange {
  response: HopResponse | null;
  failure: ProbeFailure | null;
}

/** Sends one request on an open connection and reads the response up to the body limit. */
function exchangeOnSocket(
  run: ProbeRun,
  socket: Socket,
  hop: HopRequest,
  bodyLimit: number,
): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    let response: HopResponse | null = null;
    let stopProcessing: (() => void) | null = null;
    let stopTransfer: (() => void) | null = null;
    const finish = (failure: ProbeFailure | null): void => {
      if (settled) return;
      settled = true;
      stopProcessing?.();
      stopTransfer?.();
      run.signal.removeEventListener("abort", onAbort);
      request.destroy();
      socket.destroy();
      resolve({ response, failure });
    };
    const onAbort = (): void => finish(run.abortFailure());

    const headers: Record<string, string> = { "user-agent": "Nines-Probe/1", ...hop.headers };
    if (!Object.keys(headers).some((name) => name.toLowerCase() === "host")) headers.host = hop.url.host;
    if (hop.body !== undefined) headers["content-length"] = String(Buffer.byteLength(hop.body));
    const request = httpRequest({
      method: hop.method,
      path: `${hop.url.pathname}${hop.url.search}`,
      headers,
      setHost: false,
      createConnection: () => socket,
    });
    run.activity = "sending the request";
    request.on("error", (error) =>
      finish(describeNetworkError(error, response ? "reading the body" : "waiting for the response")),
    );
    request.on("finish", () => {
      stopProcessing = run.startPhase("processing", "waiting for the response");
    });
    request.on("response", (message: IncomingMessage) => {
      stopProcessing?.();
      stopTransfer = run.startPhase("transfer", "reading the body");
      const chunks: Buffer[] = [];
      let length = 0;
      response = {
        status: message.statusCode ?? 0,
        httpVersion: message.httpVersion,
        headers: flattenHeaders(message),
        body: Buffer.alloc(0),
      };
      const declared = Number(message.headers["content-length"]);
      if (Number.isFinite(declared) && declared > bodyLimit) {
        finish({
          kind: "body_too_large",
          reason: `body exceeded ${bodyLimit} bytes (content-length ${declared})`,
        });
        return;
      }
      message.on("data", (chunk: Buffer) => {
        if (settled || !response) return;
        if (length + chunk.length > bodyLimit) {
          chunks.push(chunk.subarray(0, bodyLimit - length));
          response.body = Buffer.concat(chunks);
          finish({ kind: "body_too_large", reason: `body exceeded ${bodyLimit} bytes` });
          return;
        }
        chunks.push(chunk);
        length += chunk.length;
      });
      message.on("end", () => {
        if (!response) return;
        response.body = Buffer.concat(chunks);
        finish(null);
      });
      message.on("aborted", () =>
        finish({ kind: "connection_reset", reason: "connection closed before the body was complete" }),
      );
      message.on("error", (error) => finish(describeNetworkError(error, "reading the body")));
    });
    request.on("close", () => {
      if (!settled)
        finish({ kind: "connection_reset", reason: "connection closed before a response arrived" });
    });
    if (run.signal.aborted) onAbort();
    else run.signal.addEventListener("abort", onAbort, { once: true });
    request.end(hop.body);
  });
}

function flattenHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headersDistinct)) {
    if (value) headers[name] = value.join(name === "set-cookie" ? "\n" : ", ");
  }
  return headers;
}

function bug(message: string): never {
  throw new Error(`bug in the http probe: ${message}`);
}
