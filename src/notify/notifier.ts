import { readFile } from "node:fs/promises";
import * as http from "node:http";
import * as https from "node:https";
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
 * Keep-alive connections per receiver host, as Alertmanager's Go client keeps them: a storm sends thousands of
 * notifications a minute to the same few hosts.
 */
const AGENTS = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 64 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 64 }),
};
/** Read at most this much of an answer: it is stored truncated, and a receiver must not fill the memory. */
const MAX_ANSWER_BYTES = 1 << 20;
/** Go's http.Client follows at most 10 redirects. */
const MAX_REDIRECTS = 10;

interface RawAnswer extends HttpAnswer {
  location: string | undefined;
}

function sendOnce(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<RawAnswer> {
  const protocol = url.protocol;
  if (protocol !== "http:" && protocol !== "https:")
    return Promise.reject(new Error(`unsupported URL scheme ${protocol}`));
  const client = protocol === "https:" ? https : http;
  const sentHeaders =
    body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const request = client.request(
      url,
      { method, headers: sentHeaders, agent: AGENTS[protocol], signal },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
          else response.destroy();
        });
        const finish = () =>
          resolve({
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            location: response.headers.location,
          });
        response.on("end", finish);
        // An answer cut at the limit is still an answer (its status and first megabyte).
        response.on("close", () => (size > MAX_ANSWER_BYTES ? finish() : undefined));
        response.on("error", (error) => (size > MAX_ANSWER_BYTES ? finish() : reject(error)));
      },
    );
    request.on("error", reject);
    request.end(body);
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
  for (let redirects = 0; ; redirects++) {
    const { url: target, method, headers, body } = request;
    const answer = await sendOnce(target, method, headers, body, init.signal);
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
