import { z } from "zod";
import { NinesError } from "../platform/errors.js";
import { defineRoute, type AnyRoute } from "../platform/route.js";
import type { ApplyResult, ConfigService } from "./config-service.js";
import { configJsonSchema } from "./json-schema.js";
import type { KindRegistry } from "./kinds.js";
import { MAX_TOTAL_BYTES } from "./sources.js";

const Problem = z.object({
  file: z.string(),
  line: z.number(),
  column: z.number(),
  severity: z.enum(["error", "warning"]),
  message: z.string(),
});
const FieldChangeSchema = z.object({
  path: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
const ObjectChangeSchema = z.object({
  action: z.enum(["create", "update", "delete"]),
  kind: z.string(),
  name: z.string(),
  fields: z.array(FieldChangeSchema),
});
export const ApplyResultSchema = z.object({
  ok: z.boolean(),
  dryRun: z.boolean(),
  problems: z.array(Problem),
  plan: z
    .object({ changes: z.array(ObjectChangeSchema), unchanged: z.number(), contentHash: z.string() })
    .nullable(),
  revision: z.number(),
  applied: z.boolean(),
});
const ConfigObjectSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.object({ name: z.string() }).loose(),
  spec: z.unknown(),
});
const RevisionSummarySchema = z.object({
  revision: z.number(),
  createdAt: z.string(),
  actor: z.string(),
  source: z.string(),
  contentHash: z.string(),
  rollbackOf: z.number().nullable(),
  counts: z.object({ create: z.number(), update: z.number(), delete: z.number() }),
});

export const ApplyBody = z.strictObject({
  files: z
    .array(z.strictObject({ path: z.string().min(1).max(1000), content: z.string() }))
    .min(1)
    .max(5000)
    .describe("The whole desired configuration: objects of a known kind that are not in it are deleted."),
  dryRun: z.boolean().default(false).describe("Validate and plan only; nothing is applied."),
});

/** Invalid configuration is an answer (422 with every problem), not a crash, and nothing is applied. */
function orReject(result: ApplyResult): ApplyResult {
  if (result.ok) return result;
  const errors = result.problems.filter((p) => p.severity === "error").length;
  throw new NinesError(
    "INVALID_CONFIG",
    `The configuration has ${errors} error${errors === 1 ? "" : "s"}; nothing was applied.`,
    {
      details: { problems: result.problems },
    },
  );
}

export function configRoutes(service: ConfigService, registry: KindRegistry): AnyRoute[] {
  return [
    defineRoute({
      method: "POST",
      url: "/api/v1/config/apply",
      tag: "config",
      summary: "Validate, plan and (unless dryRun) apply a whole configuration, all or nothing",
      body: ApplyBody,
      response: ApplyResultSchema,
      bodyLimit: MAX_TOTAL_BYTES * 2,
      handler: async ({ ctx, body }) =>
        orReject(
          await service.apply({ ctx, input: { sources: body.files, dryRun: body.dryRun, source: "api" } }),
        ),
    }),
    defineRoute({
      method: "POST",
      url: "/api/v1/config/rollback",
      tag: "config",
      summary: "Apply the configuration of an earlier revision again, as a new revision",
      body: z.strictObject({ revision: z.number().int().min(1), dryRun: z.boolean().default(false) }),
      response: ApplyResultSchema,
      handler: async ({ ctx, body }) => orReject(await service.rollback({ ctx, input: body })),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/config/revisions",
      tag: "config",
      summary: "Configuration revisions, newest first",
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) }),
      response: z.object({ revisions: z.array(RevisionSummarySchema) }),
      handler: async ({ ctx, query }) => ({ revisions: await service.listRevisions({ ctx, input: query }) }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/config/revisions/:revision",
      tag: "config",
      summary: "One revision: who applied it, what changed field by field, and the objects it holds",
      params: z.object({ revision: z.coerce.number().int().min(1) }),
      response: RevisionSummarySchema.extend({
        changes: z.array(ObjectChangeSchema),
        objects: z.array(ConfigObjectSchema),
      }),
      handler: async ({ ctx, params }) => service.getRevision({ ctx, input: params }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/config/objects",
      tag: "config",
      summary: "The configuration objects now in force",
      query: z.object({ kind: z.string().optional() }),
      response: z.object({ objects: z.array(ConfigObjectSchema) }),
      handler: async ({ ctx, query }) => ({ objects: await service.listObjects({ ctx, input: query }) }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/config/schema",
      tag: "config",
      summary: "JSON Schema of every configuration kind, for editors",
      access: "public",
      response: z.record(z.string(), z.unknown()),
      handler: async () => configJsonSchema(registry),
    }),
  ];
}
