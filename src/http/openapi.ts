import { z } from "zod";
import type { AnyRoute } from "../platform/route.js";

type Json = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  }) as Json;
  return rest;
}

const ErrorBody = z.object({
  code: z.string().describe("Stable error code: INVALID_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, …"),
  message: z.string().describe("What went wrong and what to do about it."),
  requestId: z.string(),
  details: z.unknown().optional(),
});

/** Parameters of one location (path or query) from an object schema. */
function parameters(schema: z.ZodType | undefined, location: "path" | "query"): Json[] {
  if (!schema) return [];
  const json = schemaOf(schema, "input");
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || required.has(name),
    schema: property,
    ...(typeof property.description === "string" ? { description: property.description } : {}),
  }));
}

/** The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. */
export function openApiDocument(routes: readonly AnyRoute[], version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    const operation: Json = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      parameters: [...parameters(route.params, "path"), ...parameters(route.query, "query")],
      responses: {
        [String(route.status ?? 200)]: {
          description: "Success",
          content: { "application/json": { schema: schemaOf(route.response, "output") } },
        },
        default: {
          description: "Error",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      },
      ...(route.access === "public" ? { security: [] } : {}),
    };
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: schemaOf(route.body, "input") } },
      };
    }
    paths[path] = { ...(paths[path] ?? {}), [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Nines API",
      version,
      description:
        "Nines's own JSON API. Every request but the public ones needs `Authorization: Bearer <token>`.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: schemaOf(ErrorBody, "output") },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
