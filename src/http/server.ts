import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import type { Kysely } from "kysely";
import type { z } from "zod";
import { authenticateToken } from "../auth/index.js";
import type { Clock } from "../platform/clock.js";
import { type Actor, anonymousActor, type Ctx } from "../platform/context.js";
import type { DialectAdapter } from "../platform/db/dialect.js";
import type { Schema } from "../platform/db/schema.js";
import { NinesError } from "../platform/errors.js";
import type { EventBus } from "../platform/events.js";
import { newId } from "../platform/ids.js";
import type { Logger } from "../platform/logger.js";
import { type Metrics, renderMetrics } from "../platform/metrics.js";
import { type AnyRoute, isRawRoute, type RawRouteSpec } from "../platform/route.js";
import { toNinesError } from "./http-errors.js";
import { openApiDocument } from "./openapi.js";

export interface ServerDeps {
  db: Kysely<Schema>;
  adapter: DialectAdapter;
  clock: Clock;
  log: Logger;
  events: EventBus;
  metrics: Metrics;
  anonymousRead: boolean;
  version: string;
  /** Whether the server can serve: database reachable, migrations applied. */
  readiness(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    access?: "public";
    readOnly?: boolean;
    errorResponse?: RawRouteSpec["errorResponse"];
  }
}

const DEFAULT_BODY_LIMIT = 1024 * 1024;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * The Fastify server: mounts each domain's routes, resolves the caller's token into an actor, validates
 * with the routes' zod schemas, and maps every error to `{ code, message, requestId }` in one place.
 */
export async function buildServer(deps: ServerDeps, routes: readonly AnyRoute[]) {
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: DEFAULT_BODY_LIMIT,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : newId(deps.clock.now());
    },
    // One line per request is written by the onResponse hook below, with the route and timing.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: "idle",
  });
  app.decorateRequest("actor", null as unknown as Actor);
  // Form posts (curl -d, Prometheus API clients) arrive as an object of their fields.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  const ctxOf = (request: FastifyRequest): Ctx => ({
    actor: request.actor,
    clock: deps.clock,
    db: deps.db,
    adapter: deps.adapter,
    log: request.log,
    events: deps.events,
    anonymousRead: deps.anonymousRead,
    requestId: request.id,
  });

  app.addHook("onRequest", async (request, reply) => {
    request.actor = anonymousActor;
    reply.header("x-request-id", request.id);
    if (request.routeOptions.config.access === "public") return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match?.[1]) {
        throw new NinesError("UNAUTHENTICATED", 'The Authorization header must be "Bearer <token>".');
      }
      request.actor = await authenticateToken({ db: deps.db, clock: deps.clock }, match[1]);
    }
    // Writes always need a token, whatever a domain's permission table says about reads; routes marked
    // readOnly (queries sent by POST) leave the decision to their handler's authorize().
    const reads =
      request.method === "GET" || request.method === "HEAD" || request.routeOptions.config.readOnly === true;
    if (!reads && request.actor.role === null) {
      throw new NinesError(
        "UNAUTHENTICATED",
        'This endpoint changes state and needs a token: send "Authorization: Bearer <token>".',
      );
    }
  });

  // Answers finished after shutdown began close their connection, so close() need not wait for keep-alive
  // connections to time out.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) reply.header("connection", "close");
    return payload;
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    deps.metrics.httpRequestDuration
      .labels(request.method, route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    const level = reply.statusCode >= 500 ? "error" : "info";
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    const ninesError = toNinesError(error);
    if (ninesError.code === "INTERNAL") request.log.error({ err: error }, "request failed");
    // Routes of another protocol (Alertmanager's API) answer every error in that protocol's shape, the auth
    // hook's included, so its clients never meet a second one.
    const protocolAnswer = request.routeOptions.config.errorResponse?.(ninesError, request.id);
    if (protocolAnswer !== undefined) {
      reply.code(protocolAnswer.status);
      for (const [name, value] of Object.entries(protocolAnswer.headers ?? {})) reply.header(name, value);
      return reply.send(protocolAnswer.body ?? "");
    }
    return reply.code(ninesError.httpStatus).send({
      code: ninesError.code,
      message: ninesError.message,
      requestId: request.id,
      ...(ninesError.details === undefined ? {} : { details: ninesError.details }),
    });
  });

  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send({
      code: "NOT_FOUND",
      message: `No route ${request.method} ${request.url.split("?")[0]}. The API is described at /api/v1/openapi.json.`,
      requestId: request.id,
    });
  });

  const parse = <T extends z.ZodType | undefined>(schema: T, value: unknown): unknown =>
    schema ? schema.parse(value) : value;

  const configOf = (route: AnyRoute) => ({
    ...(route.access === "public" ? { access: "public" as const } : {}),
    ...(route.readOnly === true ? { readOnly: true } : {}),
    ...(isRawRoute(route) && route.errorResponse !== undefined ? { errorResponse: route.errorResponse } : {}),
  });

  const rawRoutes = routes.filter(isRawRoute);
  if (rawRoutes.length > 0) {
    // Raw routes get every body as bytes, whatever its Content-Type: their protocol decides what it takes.
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
      for (const route of rawRoutes) mountRaw(scope, route);
    });
  }

  function mountRaw(scope: FastifyInstance, route: RawRouteSpec): void {
    scope.route({
      method: route.method,
      url: route.url,
      bodyLimit: route.bodyLimit ?? DEFAULT_BODY_LIMIT,
      config: configOf(route),
      handler: async (request, reply) => {
        const search = request.url.indexOf("?");
        const result = await route.raw({
          ctx: ctxOf(request),
          request: {
            method: request.method,
            headers: request.headers,
            query: new URLSearchParams(search === -1 ? "" : request.url.slice(search + 1)),
            params: (request.params ?? {}) as Record<string, string>,
            body: Buffer.isBuffer(request.body) ? request.body : undefined,
          },
        });
        reply.code(result.status);
        for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
        return reply.send(result.body);
      },
    });
  }

  for (const route of routes) {
    if (isRawRoute(route)) continue;
    app.route({
      method: route.method,
      url: route.url,
      bodyLimit: route.bodyLimit ?? DEFAULT_BODY_LIMIT,
      config: configOf(route),
      handler: async (request, reply) => {
        const result = await route.handler({
          ctx: ctxOf(request),
          body: parse(route.body, request.body ?? {}),
          query: parse(route.query, request.query ?? {}),
          params: parse(route.params, request.params ?? {}),
        });
        return reply.code(route.status ?? 200).send(result);
      },
    });
  }

  // Built on the first request: converting every route's schemas costs each start about 50 ms otherwise.
  let openapi: ReturnType<typeof openApiDocument> | undefined;
  app.get("/api/v1/openapi.json", { config: { access: "public" } }, async () => {
    openapi ??= openApiDocument(
      routes.filter((route) => !isRawRoute(route)),
      deps.version,
    );
    return openapi;
  });
  app.get("/healthz", { config: { access: "public" } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { access: "public" } }, async (_request, reply) => {
    const readiness = await deps.readiness();
    return reply
      .code(readiness.ok ? 200 : 503)
      .send({ status: readiness.ok ? "ready" : "not ready", checks: readiness.checks });
  });
  app.get("/metrics", { config: { access: "public" } }, async (_request, reply) => {
    reply.header("content-type", deps.metrics.registry.contentType);
    return renderMetrics(deps.metrics);
  });

  await app.ready();
  return app;
}

export type NinesServer = Awaited<ReturnType<typeof buildServer>>;
