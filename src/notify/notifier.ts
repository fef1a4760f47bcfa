import { readFile } from "node:fs/promises";
import type { Agent, Dispatcher } from "undici";
import type { NotificationRequest } from "../alerting/routing/index.js";
import { type RedirectableRequest, redirectedRequest } from "../platform/http-redirect.js";
import type { TemplateFile } from "./notify-template.js";

/** What a notifier gets for one attempt. */
export interface SendInput<C> {
  request: NotificationRequest;
  config: C;
  /** The outbox row's idempotency key: the same on every retry of this notification. */
  idempotencyKey: string;
  externalURL: string;
  /** The configuration's template files: their `{{ define }}`s are used by the integration's text fields. */
  templates?: readonly TemplateFile[];
  /** Aborted on the per-attempt timeout and when the worker stops. */
  signal: AbortSignal;
  /**
   * The alerts as the webhook's JSON array, as the outbox stored them (stored-request.ts). Given to the
   * webhook notifier only, with `request.alerts` left empty: it splices the array into its body unparsed.
   */
  webhookAlertsJson?: string;
}

/**
 * One attempt's outcome. `retry: false` marks a failure that will not succeed by trying again (a 4xx other
 * than 408/429: the request itself is wrong), so the row is dead-lettered at once.
 */
export type SendOutcome =
  | { ok: true; statusCode?: number; response?: string }
  | { ok: false; retry: boolean; statusCode?: number; response?: string; error: string };

export interface Notifier<C> {
  send(input: SendInput<C>): Promise<SendOutcome>;
}

const RESPONSE_LIMIT = 1024;

export function truncate(text: string, limit = RESPONSE_LIMIT): string {
  return text.length <= limit ? text : `${text.slice(0, limit)}…`;
}

/** A value given inline or in a file (Alertmanager's `x` / `x_file` pairs); the file's text is trimmed. */
export async function secretOf(
  value: string | undefined,
  file: string | undefined,
): Promise<string | undefined> {
  if (value !== undefined && value !== "") return value;
  if (file !== undefined && file !== "") return (await readFile(file, "utf8")).trim();
  return undefined;
}

/** Alertmanager's http_config fields that change a request: credentials and extra headers. */
export async function httpConfigHeaders(httpConfig: unknown): Promise<Record<string, string>> {
  const headers: Record<string, string> = {};
  if (!httpConfig || typeof httpConfig !== "object") return headers;
  const hc = httpConfig as Record<string, unknown>;
  const s = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
  const bearer = await secretOf(s(hc.bearer_token), s(hc.bearer_token_file));
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const auth = hc.authorization as Record<string, unknown> | undefined;
  if (auth && typeof auth === "object") {
    const credentials = await secretOf(s(auth.credentials), s(auth.credentials_file));
    if (credentials) headers.authorization = `${s(auth.type) ?? "Bearer"} ${credentials}`;
  }
  const basic = hc.basic_auth as Record<string, unknown> | undefined;
  if (basic && typeof basic === "object") {
    const password = (await secretOf(s(basic.password), s(basic.password_file))) ?? "";
    const username = s(basic.username) ?? "";
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  }
  const extra = hc.http_headers as Record<string, unknown> | undefined;
  if (extra && typeof extra === "object") {
    for (const [name, spec] of Object.entries(extra)) {
      if (typeof spec === "string") headers[name.toLowerCase()] = spec;
      else if (spec && typeof spec === "object") {
        const h = spec as Record<string, unknown>;
        const values = [
          ...(Array.isArray(h.values) ? h.values : []),
          ...(Array.isArray(h.secrets) ? h.secrets : []),
        ].filter((v): v is string => typeof v === "string");
        if (values.length > 0) headers[name.toLowerCase()] = values.join(", ");
      }
    }
  }
  return headers;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * Keep-alive connection pools per receiver origin, as Alertmanager's Go client keeps them: a storm sends
 * thousands of notifications a minute to the same few hosts. undici costs the send thread about half the CPU
 * per request of node:http. The caller's signal bounds each attempt, so undici's own header and body timeouts
 * are off; connecting is bounded as Go's dialer bounds it, so that a host that never answers frees its slot.
 */
let agent: Promise<Agent> | undefined;

/**
 * undici loads with the first request: a tenth of a second of CPU that a process that never sends (the CLI,
 * the main thread beside the send thread) does not pay.
 */
function loadAgent(): Promise<Agent> {
  agent ??= import("undici").then(
    ({ Agent }) => new Agent({ connections: 64, headersTimeout: 0, bodyTimeout: 0, connectTimeout: 30_000 }),
  );
  return agent;
}

/** Read at most this much of an answer: it is stored truncated, and a receiver must not fill the memory. */
const MAX_ANSWER_BYTES = 1 << 20;
/** Go's http.Client follows at most 10 redirects. */
const MAX_REDIRECTS = 10;

interface RawAnswer extends HttpAnswer {
  location: string | undefined;
}

/** Why an answer stopped being read at MAX_ANSWER_BYTES: the connection is dropped, the answer kept. */
const ANSWER_CUT = new Error("answer longer than the limit");

/**
 * One request, no redirect followed. Dispatched with a handler rather than undici's `request()`: no stream per
 * answer, and an abort settles at once even while the request waits for a connection (`request()` rejects
 * only once a connection is free, which for a host that does not accept can be the connect timeout).
 */
function sendOnce(
  dispatcher: Dispatcher,
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<RawAnswer> {
  const protocol = url.protocol;
  if (protocol !== "http:" && protocol !== "https:")
    return Promise.reject(new Error(`unsupported URL scheme ${protocol}`));
  if (signal.aborted) return Promise.reject(signal.reason);
  let sentHeaders = headers;
  // node:http and Go send a URL's user:password as basic auth unless the request has its own credentials.
  const hasUserInfo = url.username !== "" || url.password !== "";
  if (hasUserInfo && !Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    sentHeaders = { ...headers, authorization: `Basic ${Buffer.from(credentials).toString("base64")}` };
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let status = 0;
    let location: string | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const settle = () => {
      settled = true;
      signal.removeEventListener("abort", onAbort);
    };
    const finish = () => {
      settle();
      resolve({ status, body: Buffer.concat(chunks).toString("utf8"), location });
    };
    const fail = (error: unknown) => {
      settle();
      reject(error);
    };
    // Settles now; a request still queued for a connection is dropped when it gets one (onRequestStart).
    function onAbort() {
      if (settled) return;
      fail(signal.reason);
      controller?.abort(signal.reason);
    }
    signal.addEventListener("abort", onAbort);
    dispatcher.dispatch(
      { origin: url.origin, path: url.pathname + url.search, method, headers: sentHeaders, body },
      {
        onRequestStart(c) {
          controller = c;
          if (settled) c.abort(signal.reason);
        },
        onResponseStart(_c, statusCode, responseHeaders) {
          // 1xx answers are interim (RFC 9110 §15.2): the final one follows on the same request.
          if (statusCode < 200) return;
          status = statusCode;
          const l = responseHeaders.location;
          location = Array.isArray(l) ? l[0] : l;
        },
        onResponseData(c, chunk) {
          if (settled) return;
          const room = MAX_ANSWER_BYTES - size;
          size += chunk.length;
          if (chunk.length <= room) {
            chunks.push(chunk);
            return;
          }
          // An answer cut at the limit is still an answer (its status and first megabyte).
          chunks.push(chunk.subarray(0, room));
          finish();
          c.abort(ANSWER_CUT);
        },
        onResponseEnd() {
          if (!settled) finish();
        },
        onResponseError(_c, error) {
          if (!settled) fail(error);
        },
      },
    );
  });
}

/**
 * Sends one HTTP request over a kept-alive connection, following redirects as Go's client does
 * (redirectedRequest: 303, and 301/302 after a POST, continue as a GET; credentials stay with the origin).
 * Network errors, timeouts and malformed answers throw.
 */
export async function httpRequest(
  url: string,
  init: { method?: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
): Promise<HttpAnswer> {
  let request: RedirectableRequest = {
    url: new URL(url),
    method: init.method ?? "POST",
    headers: init.headers,
    body: init.body,
  };
  const dispatcher = await loadAgent();
  for (let redirects = 0; ; redirects++) {
    const { url: target, method, headers, body } = request;
    const answer = await sendOnce(dispatcher, target, method, headers, body, init.signal);
    const redirect = [301, 302, 303, 307, 308].includes(answer.status) && answer.location !== undefined;
    if (!redirect || answer.location === undefined) return { status: answer.status, body: answer.body };
    if (redirects >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    const next = redirectedRequest(request, answer.status, answer.location);
    if (next === null) throw new Error(`redirect to an invalid or non-HTTP location ${answer.location}`);
    request = next;
  }
}

/**
 * Alertmanager's retry rule (notify/util.go Retrier): 2xx is success, 5xx is retried, other codes are not,
 * except 408 and 429 which Nines also retries. `accept` checks a 2xx body where the provider documents one
 * (Telegram's `ok`, Slack's `ok`): an answer that does not parse is retried.
 */
export function outcomeOf(answer: HttpAnswer, accept?: (body: string) => boolean): SendOutcome {
  const response = truncate(answer.body);
  const { status } = answer;
  if (status >= 200 && status < 300) {
    if (accept === undefined || accept(answer.body)) return { ok: true, statusCode: status, response };
    return { ok: false, retry: true, statusCode: status, response, error: "unexpected response body" };
  }
  const retry =
    status >= 500 || status === 408 || status === 429 || status < 200 || (status >= 300 && status < 400);
  return { ok: false, retry, statusCode: status, response, error: `unexpected status code ${status}` };
}

/** A network error, timeout or malformed answer: retried. */
export function failureOf(error: unknown, signal: AbortSignal): SendOutcome {
  if (signal.aborted) {
    const reason = signal.reason instanceof Error ? signal.reason.message : "aborted";
    return { ok: false, retry: true, error: `request aborted: ${reason}` };
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return {
    ok: false,
    retry: true,
    error: `${error instanceof Error ? error.message : String(error)}${cause}`,
  };
}

/** POSTs JSON and classifies the answer; the common case for HTTP notifiers. */
export function postJson(url: string, payload: unknown, options: PostOptions): Promise<SendOutcome> {
  return postJsonText(url, JSON.stringify(payload), options);
}

interface PostOptions {
  headers?: Record<string, string>;
  signal: AbortSignal;
  accept?: (body: string) => boolean;
  method?: string;
}

/** postJson with the body already rendered (a signed body is sent as the very bytes that were signed). */
export async function postJsonText(url: string, body: string, options: PostOptions): Promise<SendOutcome> {
  try {
    const answer = await httpRequest(url, {
      method: options.method ?? "POST",
      headers: { "content-type": "application/json", "user-agent": "Nines", ...options.headers },
      body,
      signal: options.signal,
    });
    return outcomeOf(answer, options.accept);
  } catch (error) {
    return failureOf(error, options.signal);
  }
}

export function jsonField(body: string, field: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>)[field] : undefined;
  } catch {
    return undefined;
  }
}

/** A stable short hash of the group key: PagerDuty's dedup_key, Opsgenie's alias (as Alertmanager does). */
export { sha256Hex as hashKey } from "../platform/ids.js";

export function missing(what: string): SendOutcome {
  return { ok: false, retry: false, error: `${what} is not configured` };
}
