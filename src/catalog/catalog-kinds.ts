import { z } from "zod";
import { type ConfigObject, defineKind, ObjectName } from "../config/index.js";

const Url = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });

export const TeamSpec = z.strictObject({
  displayName: z.string().max(200).optional().describe("Human-readable name; defaults to metadata.name."),
  description: z.string().max(2000).optional(),
  contact: z
    .strictObject({
      email: z.email().optional(),
      slackChannel: z.string().max(100).optional().describe("For example #payments-oncall."),
    })
    .optional(),
});
export type TeamSpec = z.infer<typeof TeamSpec>;

export const ServiceSpec = z.strictObject({
  ownerTeam: ObjectName.describe("The Team that owns the service."),
  tier: z.number().int().min(1).max(4).default(3).describe("Criticality: 1 (most critical) to 4."),
  description: z.string().max(2000).optional(),
  links: z
    .strictObject({
      runbook: Url.optional(),
      dashboard: Url.optional(),
      repository: Url.optional(),
    })
    .optional(),
  dependsOn: z.array(ObjectName).default([]).describe("Services this one needs to work (its upstream)."),
});
export type ServiceSpec = z.infer<typeof ServiceSpec>;

const json = (value: unknown): string => JSON.stringify(value);

export const teamKind = defineKind<TeamSpec>({
  apiVersion: "nines/v1",
  kind: "Team",
  description: "A team of people that owns services and is paged for them.",
  spec: TeamSpec,
  order: 10,
  store: {
    async upsert(ctx, objects: ReadonlyArray<ConfigObject<TeamSpec>>) {
      const now = ctx.clock.now();
      for (const { metadata, spec } of objects) {
        const row = {
          name: metadata.name,
          display_name: spec.displayName ?? null,
          description: spec.description ?? null,
          spec: json(spec),
          updated_at: now,
        };
        await ctx.db
          .insertInto("teams")
          .values(row)
          .onConflict((oc) =>
            oc.column("name").doUpdateSet({
              display_name: row.display_name,
              description: row.description,
              spec: row.spec,
              updated_at: now,
            }),
          )
          .execute();
      }
    },
    async remove(ctx, names) {
      await ctx.db.deleteFrom("teams").where("name", "in", names).execute();
    },
  },
});

export const serviceKind = defineKind<ServiceSpec>({
  apiVersion: "nines/v1",
  kind: "Service",
  description: "A service that the team runs: checks, SLOs and alerts attach to it.",
  spec: ServiceSpec,
  order: 30,
  references: (spec) => [
    { kind: "Team", name: spec.ownerTeam, path: ["ownerTeam"] },
    ...spec.dependsOn.map((name, i) => ({ kind: "Service", name, path: ["dependsOn", i], acyclic: true })),
  ],
  store: {
    async upsert(ctx, objects: ReadonlyArray<ConfigObject<ServiceSpec>>) {
      const now = ctx.clock.now();
      for (const { metadata, spec } of objects) {
        const row = {
          name: metadata.name,
          owner_team: spec.ownerTeam,
          tier: spec.tier,
          description: spec.description ?? null,
          runbook_url: spec.links?.runbook ?? null,
          dashboard_url: spec.links?.dashboard ?? null,
          repository_url: spec.links?.repository ?? null,
          spec: json(spec),
          updated_at: now,
        };
        const { name: _name, ...update } = row;
        await ctx.db
          .insertInto("services")
          .values(row)
          .onConflict((oc) => oc.column("name").doUpdateSet(update))
          .execute();
      }
      // Dependencies go in once every service of the apply exists, so they may point at each other.
      for (const { metadata, spec } of objects) {
        await ctx.db.deleteFrom("service_dependencies").where("service_name", "=", metadata.name).execute();
        const unique = [...new Set(spec.dependsOn)];
        if (unique.length > 0) {
          await ctx.db
            .insertInto("service_dependencies")
            .values(unique.map((dependsOn) => ({ service_name: metadata.name, depends_on: dependsOn })))
            .execute();
        }
      }
    },
    async remove(ctx, names) {
      await ctx.db.deleteFrom("services").where("name", "in", names).execute();
    },
  },
});
