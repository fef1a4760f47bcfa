import type { Kysely } from "kysely";
import type { Clock } from "./clock.js";
import type { DialectAdapter } from "./db/dialect.js";
import type { Schema } from "./db/schema.js";
import type { EventBus, EventName, NinesEventMap } from "./events.js";
import type { Log } from "./logger.js";

/** Roles, weakest first: each can do everything the ones before it can. */
export const ROLES = ["viewer", "responder", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type ActorKind = "token" | "system" | "anonymous";

/** Who is acting. Every mutation records its actor in the audit log. */
export interface Actor {
  kind: ActorKind;
  /** Token name (with its user, when it has one), system job name, or "anonymous". */
  name: string;
  /** Null for anonymous callers: they hold no role unless reads are opened by setting. */
  role: Role | null;
  tokenId?: string;
  userName?: string | null;
}

export const systemActor = (job: string): Actor => ({ kind: "system", name: `system:${job}`, role: "admin" });
export const anonymousActor: Actor = { kind: "anonymous", name: "anonymous", role: null };

/**
 * What every service function receives: the actor, the injected clock, the database (a transaction while
 * one is open), the logger and the event bus.
 */
export interface Ctx {
  actor: Actor;
  clock: Clock;
  db: Kysely<Schema>;
  adapter: DialectAdapter;
  log: Log;
  events: EventBus;
  /** Reads are open to anonymous callers when the server is configured so. */
  anonymousRead: boolean;
  requestId?: string;
  /** Set while a transaction is open: events raised inside wait here until it commits. */
  transaction?: { pendingEvents: Array<() => void> };
}

/**
 * Runs fn in a transaction, reusing the caller's when one is open, so that service functions compose: an
 * apply that creates ten objects commits or rolls back as one.
 */
export async function inTransaction<T>(ctx: Ctx, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.transaction) return fn(ctx);
  const pendingEvents: Array<() => void> = [];
  const result = await ctx.db
    .transaction()
    .execute((trx) => fn({ ...ctx, db: trx, transaction: { pendingEvents } }));
  for (const deliver of pendingEvents) deliver();
  return result;
}

/** Announces an event; inside a transaction, only once it has committed. */
export function publish<K extends EventName>(ctx: Ctx, name: K, event: NinesEventMap[K]): void {
  const deliver = () => ctx.events.emit(name, event);
  if (ctx.transaction) ctx.transaction.pendingEvents.push(deliver);
  else deliver();
}
