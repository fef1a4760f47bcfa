import { randomBytes } from "node:crypto";
import { z } from "zod";
import { appendAudit } from "../audit/index.js";
import { type Actor, type Ctx, inTransaction, ROLES, type Role } from "../platform/context.js";
import type { ApiTokensTable } from "../platform/db/schema.js";
import { NinesError } from "../platform/errors.js";
import { newId, sha256Hex } from "../platform/ids.js";
import { authorize, roleAtLeast } from "./permissions.js";

const TOKEN_PREFIX = "nines_";
const DAY_MS = 86_400_000;
/** last_used_at is written at most this often per token, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const TokenName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:@-]*$/, "use letters, digits, spaces and . _ : @ -");

export const CreateTokenInput = z.strictObject({
  name: TokenName,
  role: z.enum(ROLES),
  /** Days until the token stops working; omit for a token that does not expire. */
  expiresInDays: z.number().int().min(1).max(3650).optional(),
  userName: z.string().min(1).optional(),
});
export type CreateTokenInput = z.infer<typeof CreateTokenInput>;

export const TokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe("The first characters of the token, to recognise it; never the whole token."),
  role: z.enum(ROLES),
  userName: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

export const CreatedToken = TokenInfo.extend({
  token: z.string().describe("The secret. It is shown this once and stored only as a hash."),
});
export type CreatedToken = z.infer<typeof CreatedToken>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function toInfo(row: ApiTokensTable): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    role: row.role as Role,
    userName: row.user_name,
    createdAt: new Date(row.created_at).toISOString(),
    createdBy: row.created_by,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
  };
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Inserts a token row; callers have authorised and opened the transaction. */
async function insertToken(
  ctx: Ctx,
  input: { name: string; role: Role; expiresAt: number | null; userName: string | null; secret: string },
): Promise<CreatedToken> {
  const row: ApiTokensTable = {
    id: newId(ctx.clock.now()),
    name: input.name,
    token_hash: hashToken(input.secret),
    prefix: input.secret.slice(0, TOKEN_PREFIX.length + 6),
    role: input.role,
    user_name: input.userName,
    created_at: ctx.clock.now(),
    created_by: ctx.actor.name,
    expires_at: input.expiresAt,
    last_used_at: null,
    revoked_at: null,
  };
  await ctx.db.insertInto("api_tokens").values(row).execute();
  await appendAudit(ctx, {
    action: "token.create",
    object: { kind: "Token", name: `${row.name} (${row.id})` },
    after: { ...toInfo(row) },
    details: { role: row.role, expiresAt: iso(row.expires_at) },
  });
  return { ...toInfo(row), token: input.secret };
}

export async function createToken({ ctx, input }: { ctx: Ctx; input: unknown }): Promise<CreatedToken> {
  authorize(ctx, "token.create");
  const parsed = CreateTokenInput.parse(input);
  const callerRole = ctx.actor.role;
  if (callerRole === null || !roleAtLeast(callerRole, parsed.role)) {
    throw new NinesError(
      "FORBIDDEN",
      `You cannot create a token with a stronger role (${parsed.role}) than your own.`,
    );
  }
  return inTransaction(ctx, async (trx) => {
    if (parsed.userName !== undefined) {
      const user = await trx.db
        .selectFrom("users")
        .select("name")
        .where("name", "=", parsed.userName)
        .executeTakeFirst();
      if (!user)
        throw new NinesError(
          "NOT_FOUND",
          `User "${parsed.userName}" does not exist; add it as a User in config first.`,
        );
    }
    return insertToken(trx, {
      name: parsed.name,
      role: parsed.role,
      userName: parsed.userName ?? null,
      expiresAt: parsed.expiresInDays === undefined ? null : trx.clock.now() + parsed.expiresInDays * DAY_MS,
      secret: generateToken(),
    });
  });
}

export async function listTokens({ ctx }: { ctx: Ctx }): Promise<TokenInfo[]> {
  authorize(ctx, "token.read");
  const rows = await ctx.db.selectFrom("api_tokens").selectAll().orderBy("created_at").execute();
  return rows.map(toInfo);
}

/** Revokes by id, or by name when exactly one live token has it. */
export async function revokeToken({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { idOrName: string };
}): Promise<TokenInfo> {
  authorize(ctx, "token.revoke");
  return inTransaction(ctx, async (trx) => {
    const rows = await trx.db
      .selectFrom("api_tokens")
      .selectAll()
      .where((eb) => eb.or([eb("id", "=", input.idOrName), eb("name", "=", input.idOrName)]))
      .where("revoked_at", "is", null)
      .execute();
    if (rows.length === 0)
      throw new NinesError("NOT_FOUND", `No live token has the id or name "${input.idOrName}".`);
    if (rows.length > 1) {
      throw new NinesError(
        "CONFLICT",
        `${rows.length} live tokens are named "${input.idOrName}"; revoke by id instead.`,
      );
    }
    const row = rows[0] as ApiTokensTable;
    const revokedAt = trx.clock.now();
    await trx.db.updateTable("api_tokens").set({ revoked_at: revokedAt }).where("id", "=", row.id).execute();
    const after = { ...row, revoked_at: revokedAt };
    await appendAudit(trx, {
      action: "token.revoke",
      object: { kind: "Token", name: `${row.name} (${row.id})` },
      before: toInfo(row),
      after: toInfo(after),
    });
    return toInfo(after);
  });
}

/** Resolves a bearer token to the actor it stands for, or says why it cannot be used. */
export async function authenticateToken(ctx: Pick<Ctx, "db" | "clock">, secret: string): Promise<Actor> {
  const row = await ctx.db
    .selectFrom("api_tokens")
    .selectAll()
    .where("token_hash", "=", hashToken(secret))
    .executeTakeFirst();
  if (!row)
    throw new NinesError("UNAUTHENTICATED", "The token is not valid. Create one with `nines token create`.");
  if (row.revoked_at !== null)
    throw new NinesError("UNAUTHENTICATED", "The token was revoked. Use another token.");
  const now = ctx.clock.now();
  if (row.expires_at !== null && row.expires_at <= now) {
    throw new NinesError("TOKEN_EXPIRED", `The token expired at ${iso(row.expires_at)}. Create a new one.`);
  }
  let role = row.role as Role;
  if (row.user_name !== null) {
    // A user's token never carries more than the user's current role.
    const user = await ctx.db
      .selectFrom("users")
      .select("role")
      .where("name", "=", row.user_name)
      .executeTakeFirst();
    if (!user)
      throw new NinesError("UNAUTHENTICATED", `The token's user "${row.user_name}" no longer exists.`);
    if (!roleAtLeast(user.role as Role, role)) role = user.role as Role;
  }
  if (row.last_used_at === null || now - row.last_used_at >= LAST_USED_RESOLUTION_MS) {
    await ctx.db.updateTable("api_tokens").set({ last_used_at: now }).where("id", "=", row.id).execute();
  }
  return {
    kind: "token",
    name: row.user_name ? `${row.user_name}/${row.name}` : row.name,
    role,
    tokenId: row.id,
    userName: row.user_name,
  };
}

export const BOOTSTRAP_TOKEN_NAME = "bootstrap-admin";

/**
 * Makes sure an admin can reach a new server. With a token given (NINES_ADMIN_TOKEN) that token is made to
 * exist; otherwise, when `writeNew` says the token file is missing, a fresh bootstrap token replaces the old
 * one. Returns the secret when a new one was created.
 */
export async function ensureBootstrapAdmin(
  ctx: Ctx,
  options: { fixedSecret?: string | undefined; createIfMissing: boolean },
): Promise<string | null> {
  return inTransaction(ctx, async (trx) => {
    if (options.fixedSecret) {
      const existing = await trx.db
        .selectFrom("api_tokens")
        .select("id")
        .where("token_hash", "=", hashToken(options.fixedSecret))
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (!existing) {
        await insertToken(trx, {
          name: `${BOOTSTRAP_TOKEN_NAME} (NINES_ADMIN_TOKEN)`,
          role: "admin",
          expiresAt: null,
          userName: null,
          secret: options.fixedSecret,
        });
      }
      return null;
    }
    if (!options.createIfMissing) return null;
    const previous = await trx.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("name", "=", BOOTSTRAP_TOKEN_NAME)
      .where("revoked_at", "is", null)
      .execute();
    for (const row of previous) {
      await trx.db
        .updateTable("api_tokens")
        .set({ revoked_at: trx.clock.now() })
        .where("id", "=", row.id)
        .execute();
      await appendAudit(trx, {
        action: "token.revoke",
        object: { kind: "Token", name: `${row.name} (${row.id})` },
        details: {
          reason: "the admin token file was missing at start-up; a new bootstrap token replaces it",
        },
      });
    }
    const secret = generateToken();
    await insertToken(trx, {
      name: BOOTSTRAP_TOKEN_NAME,
      role: "admin",
      expiresAt: null,
      userName: null,
      secret,
    });
    return secret;
  });
}
