/**
 * The service catalog: teams, the people in them, the services they own and how services depend on each
 * other. Its kinds (Team, User, Service) are configured as code; checks, SLOs, alerts and incidents attach
 * to its services.
 */
export { ServiceSpec, serviceKind, TeamSpec, teamKind } from "./catalog-kinds.js";
export {
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
export { UserSpec, userKind } from "./user-kind.js";
export { catalogRoutes } from "./catalog-routes.js";
