import { z } from "zod";
import { type AnyRoute, defineRoute } from "../platform/route.js";
import {
  getService,
  getServiceDependencies,
  getTeam,
  listServices,
  listTeams,
  listUsers,
  ServiceDependencies,
  ServiceView,
  TeamView,
  UserView,
} from "./catalog-queries.js";

const NameParam = z.object({ name: z.string().min(1) });

export function catalogRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: "GET",
      url: "/api/v1/teams",
      tag: "catalog",
      summary: "Teams with their services and members",
      response: z.object({ teams: z.array(TeamView) }),
      handler: async ({ ctx }) => ({ teams: await listTeams({ ctx }) }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/teams/:name",
      tag: "catalog",
      summary: "One team",
      params: NameParam,
      response: TeamView,
      handler: async ({ ctx, params }) => getTeam({ ctx, input: params }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/services",
      tag: "catalog",
      summary: "Services, optionally of one team",
      query: z.object({ team: z.string().optional() }),
      response: z.object({ services: z.array(ServiceView) }),
      handler: async ({ ctx, query }) => ({ services: await listServices({ ctx, input: query }) }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/services/:name",
      tag: "catalog",
      summary: "One service",
      params: NameParam,
      response: ServiceView,
      handler: async ({ ctx, params }) => getService({ ctx, input: params }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/services/:name/dependencies",
      tag: "catalog",
      summary: "A service's upstream (what it needs) and downstream (what needs it), transitively",
      params: NameParam,
      response: ServiceDependencies,
      handler: async ({ ctx, params }) => getServiceDependencies({ ctx, input: params }),
    }),
    defineRoute({
      method: "GET",
      url: "/api/v1/users",
      tag: "catalog",
      summary: "People, their roles and teams",
      response: z.object({ users: z.array(UserView) }),
      handler: async ({ ctx }) => ({ users: await listUsers({ ctx }) }),
    }),
  ];
}
