import { z } from "zod";
import { type ConfigObject, defineKind, ObjectName } from "../config/index.js";
import { ROLES } from "../platform/context.js";

export const UserSpec = z.strictObject({
  displayName: z.string().max(200).optional(),
  email: z.email().optional().describe("Where notifications and pages for this person go."),
  role: z
    .enum(ROLES)
    .default("viewer")
    .describe("viewer < responder < editor < admin; tokens of this user never exceed it."),
  teams: z.array(ObjectName).default([]).describe("Teams this person belongs to."),
});
export type UserSpec = z.infer<typeof UserSpec>;

export const userKind = defineKind<UserSpec>({
  apiVersion: "nines/v1",
  kind: "User",
  description: "A person: their role, their teams, and how to reach them.",
  spec: UserSpec,
  order: 20,
  references: (spec) => spec.teams.map((name, i) => ({ kind: "Team", name, path: ["teams", i] })),
  store: {
    async upsert(ctx, objects: ReadonlyArray<ConfigObject<UserSpec>>) {
      const now = ctx.clock.now();
      for (const { metadata, spec } of objects) {
        const row = {
          name: metadata.name,
          email: spec.email ?? null,
          display_name: spec.displayName ?? null,
          role: spec.role,
          spec: JSON.stringify(spec),
          updated_at: now,
        };
        const { name: _name, ...update } = row;
        await ctx.db
          .insertInto("users")
          .values(row)
          .onConflict((oc) => oc.column("name").doUpdateSet(update))
          .execute();
        await ctx.db.deleteFrom("team_members").where("user_name", "=", metadata.name).execute();
        const teams = [...new Set(spec.teams)];
        if (teams.length > 0) {
          await ctx.db
            .insertInto("team_members")
            .values(teams.map((team) => ({ team_name: team, user_name: metadata.name })))
            .execute();
        }
      }
    },
    async remove(ctx, names) {
      // A removed person's tokens stop working at once (authenticateToken also checks the user exists).
      await ctx.db
        .updateTable("api_tokens")
        .set({ revoked_at: ctx.clock.now() })
        .where("user_name", "in", names)
        .where("revoked_at", "is", null)
        .execute();
      await ctx.db.deleteFrom("users").where("name", "in", names).execute();
    },
  },
});
