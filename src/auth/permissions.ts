import { type Ctx, ROLES, type Role } from "../platform/context.js";
import { NinesError } from "../platform/errors.js";

/**
 * Every permission in Nines and the weakest role that holds it. This table and authorize() below are the one
 * place where roles are checked; service functions call authorize() before they touch anything.
 * `read` marks permissions that the anonymousRead setting opens to callers without a token.
 */
export const PERMISSIONS = {
  "catalog.read": { role: "viewer", read: true },
  "config.read": { role: "viewer", read: true },
  "config.plan": { role: "viewer", read: true },
  "config.apply": { role: "editor", read: false },
  "config.rollback": { role: "editor", read: false },
  "audit.read": { role: "viewer", read: false },
  "check.read": { role: "viewer", read: true },
  "check.run": { role: "responder", read: false },
  /** Heartbeat ping URLs hold a secret: shown to those who may change the configuration. */
  "check.secrets": { role: "editor", read: false },
  "metrics.read": { role: "viewer", read: true },
  "slo.read": { role: "viewer", read: true },
  "metrics.write": { role: "responder", read: false },
  "alert.read": { role: "viewer", read: true },
  /** Prometheus and other senders post alerts with a responder token. */
  "alert.write": { role: "responder", read: false },
  /** Responders silence alerts while they work on them. */
  "silence.write": { role: "responder", read: false },
  /** Delivery state of notifications (no receiver secrets); retrying a dead letter sends it again. */
  "notification.read": { role: "viewer", read: false },
  "notification.retry": { role: "editor", read: false },
  "token.read": { role: "admin", read: false },
  "token.create": { role: "admin", read: false },
  "token.revoke": { role: "admin", read: false },
} as const satisfies Record<string, { role: Role; read: boolean }>;

export type Permission = keyof typeof PERMISSIONS;

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

export function roleAtLeast(role: Role, required: Role): boolean {
  return roleRank(role) >= roleRank(required);
}

export function can(ctx: Pick<Ctx, "actor" | "anonymousRead">, permission: Permission): boolean {
  const rule = PERMISSIONS[permission];
  const role = ctx.actor.role;
  if (role === null) return rule.read && ctx.anonymousRead;
  return roleAtLeast(role, rule.role);
}

export function authorize(ctx: Pick<Ctx, "actor" | "anonymousRead">, permission: Permission): void {
  if (can(ctx, permission)) return;
  const rule = PERMISSIONS[permission];
  if (ctx.actor.role === null) {
    throw new NinesError(
      "UNAUTHENTICATED",
      `This needs a token with role ${rule.role} or higher: send "Authorization: Bearer <token>" (the CLI reads --token or NINES_TOKEN).`,
    );
  }
  throw new NinesError(
    "FORBIDDEN",
    `"${permission}" needs role ${rule.role} or higher; ${ctx.actor.name} has role ${ctx.actor.role}. Ask an admin for a token with that role.`,
  );
}
