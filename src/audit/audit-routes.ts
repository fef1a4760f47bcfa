import { z } from "zod";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import { listAudit, verifyAudit } from "./audit-log.js";

const Record = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.object({ kind: z.string(), name: z.string() }),
  action: z.string(),
  object: z.object({ kind: z.string(), name: z.string() }),
  beforeDigest: z.string().nullable(),
  afterDigest: z.string().nullable(),
  details: z.unknown(),
  requestId: z.string().nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

export function auditRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/audit",
      tag: "audit",
      summary: "Audit records, oldest first; page with afterSeq",
      query: z.object({
        since: z.iso.datetime({ offset: true }).or(z.iso.date()).optional().describe("ISO 8601 date or time"),
        afterSeq: z.coerce.number().int().min(0).optional(),
        limit: z.coerce.number().int().min(1).max(10_000).default(1000),
      }),
      response: z.object({ records: z.array(Record) }),
      handler: async ({ ctx, query }) => ({
        records: await listAudit({
          ctx,
          input: {
            since: query.since === undefined ? undefined : Date.parse(query.since),
            afterSeq: query.afterSeq,
            limit: query.limit,
          },
        }),
      }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/audit/verify",
      tag: "audit",
      summary: "Recompute the hash chain and name the first record that does not match",
      response: z.object({
        ok: z.boolean(),
        records: z.number(),
        headHash: z.string(),
        firstBroken: z.object({ seq: z.number(), reason: z.string() }).optional(),
      }),
      handler: async ({ ctx }) => verifyAudit({ ctx }),
    }),
  ];
}
