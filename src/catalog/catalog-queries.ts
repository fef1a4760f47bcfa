import { z } from "zod";
import { authorize } from "../auth/index.js";
import type { Ctx } from "../platform/context.js";
import { notFound } from "../platform/errors.js";
import type { ServiceSpec, TeamSpec } from "./catalog-kinds.js";

export const TeamView = z.object({
  name: z.string(),
  displayName: z.string(),
  description: z.string().nullable(),
  contact: z.object({ email: z.string().optional(), slackChannel: z.string().optional() }).nullable(),
  services: z.array(z.string()),
  members: z.array(z.string()),
});
export type TeamView = z.infer<typeof TeamView>;

export const ServiceView = z.object({
  name: z.string(),
  ownerTeam: z.string(),
  tier: z.number(),
  description: z.string().nullable(),
  links: z.object({
    runbook: z.string().nullable(),
    dashboard: z.string().nullable(),
    repository: z.string().nullable(),
  }),
  dependsOn: z.array(z.string()),
});
export type ServiceView = z.infer<typeof ServiceView>;

export const UserView = z.object({
  name: z.string(),
  displayName: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  teams: z.array(z.string()),
});
export type UserView = z.infer<typeof UserView>;

export const DependencyEdge = z.object({
  name: z.string(),
  /** 1 for a direct dependency, 2 for a dependency of a dependency, … */
  depth: z.number(),
  via: z.string().nullable().describe("The service through which this one is reached; null when direct."),
});
export const ServiceDependencies = z.object({
  service: z.string(),
  upstream: z.array(DependencyEdge).describe("What this service needs, directly or transitively."),
  downstream: z.array(DependencyEdge).describe("What needs this service, directly or transitively."),
});
export type ServiceDependencies = z.infer<typeof ServiceDependencies>;

export async function listTeams({ ctx }: { ctx: Ctx }): Promise<TeamView[]> {
  authorize(ctx, "catalog.read");
  const [teams, services, members] = await Promise.all([
    ctx.db.selectFrom("teams").selectAll().orderBy("name").execute(),
    ctx.db.selectFrom("services").select(["name", "owner_team"]).orderBy("name").execute(),
    ctx.db.selectFrom("team_members").selectAll().orderBy("user_name").execute(),
  ]);
  return teams.map((t) => {
    const spec = JSON.parse(t.spec) as TeamSpec;
    return {
      name: t.name,
      displayName: t.display_name ?? t.name,
      description: t.description,
      contact: spec.contact ?? null,
      services: services.filter((s) => s.owner_team === t.name).map((s) => s.name),
      members: members.filter((m) => m.team_name === t.name).map((m) => m.user_name),
    };
  });
}

export async function getTeam({ ctx, input }: { ctx: Ctx; input: { name: string } }): Promise<TeamView> {
  const team = (await listTeams({ ctx })).find((t) => t.name === input.name);
  if (!team) throw notFound("Team", input.name);
  return team;
}

export async function listServices({
  ctx,
  input = {},
}: {
  ctx: Ctx;
  input?: { team?: string | undefined };
}): Promise<ServiceView[]> {
  authorize(ctx, "catalog.read");
  let query = ctx.db.selectFrom("services").selectAll().orderBy("name");
  if (input.team !== undefined) query = query.where("owner_team", "=", input.team);
  const rows = await query.execute();
  return rows.map((s) => {
    const spec = JSON.parse(s.spec) as ServiceSpec;
    return {
      name: s.name,
      ownerTeam: s.owner_team,
      tier: s.tier,
      description: s.description,
      links: { runbook: s.runbook_url, dashboard: s.dashboard_url, repository: s.repository_url },
      dependsOn: spec.dependsOn,
    };
  });
}

export async function getService({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { name: string };
}): Promise<ServiceView> {
  authorize(ctx, "catalog.read");
  const [service] = (await listServices({ ctx })).filter((s) => s.name === input.name);
  if (!service) throw notFound("Service", input.name);
  return service;
}

export async function listUsers({ ctx }: { ctx: Ctx }): Promise<UserView[]> {
  authorize(ctx, "catalog.read");
  const [users, members] = await Promise.all([
    ctx.db.selectFrom("users").selectAll().orderBy("name").execute(),
    ctx.db.selectFrom("team_members").selectAll().orderBy("team_name").execute(),
  ]);
  return users.map((u) => ({
    name: u.name,
    displayName: u.display_name,
    email: u.email,
    role: u.role,
    teams: members.filter((m) => m.user_name === u.name).map((m) => m.team_name),
  }));
}

/** Breadth-first over the dependency graph in both directions, each service listed once at its shortest depth. */
export async function getServiceDependencies({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { name: string };
}): Promise<ServiceDependencies> {
  authorize(ctx, "catalog.read");
  const exists = await ctx.db
    .selectFrom("services")
    .select("name")
    .where("name", "=", input.name)
    .executeTakeFirst();
  if (!exists) throw notFound("Service", input.name);
  const edges = await ctx.db.selectFrom("service_dependencies").selectAll().execute();
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const e of edges) {
    up.set(e.service_name, [...(up.get(e.service_name) ?? []), e.depends_on]);
    down.set(e.depends_on, [...(down.get(e.depends_on) ?? []), e.service_name]);
  }
  return { service: input.name, upstream: walk(input.name, up), downstream: walk(input.name, down) };
}

function walk(start: string, next: Map<string, string[]>): Array<z.infer<typeof DependencyEdge>> {
  const out: Array<z.infer<typeof DependencyEdge>> = [];
  const seen = new Set([start]);
  let frontier = [start];
  for (let depth = 1; frontier.length > 0; depth++) {
    const following: string[] = [];
    for (const parent of frontier) {
      for (const name of [...(next.get(parent) ?? [])].sort()) {
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({ name, depth, via: depth === 1 ? null : parent });
        following.push(name);
      }
    }
    frontier = following;
  }
  return out;
}
