import type { z } from "zod";
import type { Ctx } from "./context.js";

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
  handler(args: { ctx: Ctx; body: z.infer<B>; query: z.infer<Q>; params: z.infer<P> }): Promise<z.infer<R>>;
}

// biome-ignore lint/suspicious/noExplicitAny: a list of routes holds specs of different schema types.
export type AnyRoute = RouteSpec<any, any, any, any>;

/** Keeps each route's handler typed against its own schemas. */
export function defineRoute<
  B extends z.ZodType,
  Q extends z.ZodType,
  P extends z.ZodType,
  R extends z.ZodType,
>(spec: RouteSpec<B, Q, P, R>): AnyRoute {
  return spec as AnyRoute;
}
