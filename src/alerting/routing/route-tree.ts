import type { RouteNode } from "./am-config.js";
import type { LabelSet } from "./fingerprint.js";
import { matchesAll } from "./matchers.js";

/**
 * Route.Match from dispatch/route.go: a route that matches hands the alert to its children in order; a
 * matching child stops the search unless it has `continue`; when no child matches, the route itself is
 * the result. Returns the matched routes, depth first, in the order Alertmanager notifies them.
 */
export function matchRoutes(route: RouteNode, labels: LabelSet): RouteNode[] {
  if (!matchesAll(route.matchers, labels)) return [];
  const all: RouteNode[] = [];
  for (const child of route.routes) {
    const matched = matchRoutes(child, labels);
    all.push(...matched);
    if (matched.length > 0 && !child.continue) break;
  }
  return all.length > 0 ? all : [route];
}

/** The receivers a label set is routed to, in order, as `amtool config routes test` prints them. */
export function routeReceivers(route: RouteNode, labels: LabelSet): string[] {
  return matchRoutes(route, labels).map((r) => r.receiver);
}

/** Every route of the tree, root first. */
export function allRoutes(route: RouteNode): RouteNode[] {
  return [route, ...route.routes.flatMap(allRoutes)];
}
