import type { z } from "zod";
import type { Ctx } from "./context.js";
import type { NinesError } from "./errors.js";

/**
 * An HTTP route as a domain describes it: method, path, zod schemas for what comes in and goes out, and a
 * handler that calls the domain's service functions. The HTTP layer mounts these, validates with the same
 * schemas, and generates the OpenAPI document from them, so routes stay thin and transport-free.
 */
export interface RouteSpec<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Fastify-style path with :params, e.g. /api/v1/services/:name */
  url: string;
  summary: string;
  tag: string;
  /** "public" routes need no token (health, heartbeat pings); every other route resolves the caller's token. */
  access?: "public";
  body?: B;
  query?: Q;
  params?: P;
  response: R;
  /** Status of a successful answer; 200 unless said. */
  status?: number;
  /** Largest accepted body in bytes; the server default (1 MiB) unless said. */
  bodyLimit?: number;
  /**
   * A POST that only reads (a PromQL query sent as a form): it is not held to the rule that every non-GET
   * request needs a token, so the handler's own authorize() decides, as for a GET.
   */
  readOnly?: boolean;
  handler(args: { ctx: Ctx; body: z.infer<B>; query: z.infer<Q>; params: z.infer<P> }): Promise<z.infer<R>>;
}

/** What a raw route sees of a request: its bytes and text as they came, nothing parsed against a schema. */
export interface RawRequest {
  readonly method: string;
  /** Header names in lower case, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The query string's parameters, repeated ones kept (`match[]=a&match[]=b`). */
  readonly query: URLSearchParams;
  readonly params: Readonly<Record<string, string>>;
  /** The body's bytes whatever its Content-Type; undefined without a body. */
  readonly body: Buffer | undefined;
}

export interface RawResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/**
 * A route that speaks another protocol's wire format (the Prometheus HTTP API, remote_write): the handler
 * gets the raw request and answers with status, headers and body as they go out. Errors it throws still go
 * through the server's error handler (`{ code, message, requestId }`), so it answers its protocol's errors
 * itself. Raw routes are left out of the OpenAPI document, whose error shape they do not share.
 */
export interface RawRouteSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  summary: string;
  tag: string;
  access?: "public";
  readOnly?: boolean;
  bodyLimit?: number;
  raw(args: { ctx: Ctx; request: RawRequest }): Promise<RawResponse>;
  /**
   * The protocol's own answer to an error raised for this route anywhere in the server (the auth hook's 401,
   * an authorize() 403, an unexpected failure), so clients of that protocol see one error shape; without it,
   * Nines's `{ code, message, requestId }`.
   */
  errorResponse?(error: NinesError, requestId: string): RawResponse;
  // Schema fields of RouteSpec that a raw route never has, so that code reading any route compiles.
  body?: undefined;
  query?: undefined;
  params?: undefined;
  response?: undefined;
  status?: undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of routes holds specs of different schema types.
export type AnyRoute = RouteSpec<any, any, any, any> | RawRouteSpec;

export function isRawRoute(route: AnyRoute): route is RawRouteSpec {
  return "raw" in route && typeof route.raw === "function";
}

/** Keeps each route's handler typed against its own schemas. */
export function defineRoute<
  B extends z.ZodType,
  Q extends z.ZodType,
  P extends z.ZodType,
  R extends z.ZodType,
>(spec: RouteSpec<B, Q, P, R>): AnyRoute {
  return spec as AnyRoute;
}

export function defineRawRoute(spec: RawRouteSpec): AnyRoute {
  return spec;
}
