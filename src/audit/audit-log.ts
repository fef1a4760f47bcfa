import type { Ctx } from "../platform/context.js";
import type { AuditLogTable } from "../platform/db/schema.js";
import { NinesError } from "../platform/errors.js";
import { canonicalJson, digest, sha256Hex } from "../platform/ids.js";
import { authorize } from "../auth/index.js";

export const GENESIS_HASH = "0".repeat(64);

export interface AuditEntry {
  /** Dotted verb, domain first: "config.apply", "token.create", "service.update". */
  action: string;
  object: { kind: string; name: string };
  /** The object's state before and after; only their digests are chained and stored. */
  before?: unknown;
  after?: unknown;
  /** Small structured context shown to auditors (a revision number, the fields that changed). */
  details?: unknown;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: { kind: string; name: string };
  action: string;
  object: { kind: string; name: string };
  beforeDigest: string | null;
  afterDigest: string | null;
  details: unknown;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

/** What the hash of a record covers: every stored column except the hash itself. */
function hashOf(row: Omit<AuditLogTable, "hash">): string {
  return sha256Hex(
    canonicalJson({
      seq: row.seq,
      at: row.at,
      actorKind: row.actor_kind,
      actorName: row.actor_name,
      action: row.action,
      objectKind: row.object_kind,
      objectName: row.object_name,
      beforeDigest: row.before_digest,
      afterDigest: row.after_digest,
      details: row.details,
      requestId: row.request_id,
      prevHash: row.prev_hash,
    }),
  );
}

/**
 * Appends one record to the hash chain in the caller's transaction, so the record exists if and only if the
 * change it describes was committed.
 */
export async function appendAudit(ctx: Ctx, entry: AuditEntry): Promise<number> {
  if (!ctx.transaction)
    throw new Error("appendAudit must run inside the transaction of the change it records");
  await ctx.adapter.lockForUpdate(ctx.db, "nines.audit_log");
  const last = await ctx.db
    .selectFrom("audit_log")
    .select(["seq", "hash"])
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
  const row: Omit<AuditLogTable, "hash"> = {
    seq: (last?.seq ?? 0) + 1,
    at: ctx.clock.now(),
    actor_kind: ctx.actor.kind,
    actor_name: ctx.actor.name,
    action: entry.action,
    object_kind: entry.object.kind,
    object_name: entry.object.name,
    before_digest: entry.before === undefined ? null : digest(entry.before),
    after_digest: entry.after === undefined ? null : digest(entry.after),
    details: entry.details === undefined ? null : canonicalJson(entry.details),
    request_id: ctx.requestId ?? null,
    prev_hash: last?.hash ?? GENESIS_HASH,
  };
  await ctx.db
    .insertInto("audit_log")
    .values({ ...row, hash: hashOf(row) })
    .execute();
  return row.seq;
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  headHash: string;
  /** The first record that does not match the chain, and why. */
  firstBroken?: { seq: number; reason: string };
}

const PAGE = 1000;

/** Recomputes the chain from the first record and names the first one that was altered, removed or forged. */
export async function verifyAudit({ ctx }: { ctx: Ctx }): Promise<AuditVerification> {
  authorize(ctx, "audit.read");
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let records = 0;
  for (;;) {
    const rows = await ctx.db
      .selectFrom("audit_log")
      .selectAll()
      .where("seq", ">=", expectedSeq)
      .orderBy("seq")
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const broken = (reason: string): AuditVerification => ({
        ok: false,
        records,
        headHash: prevHash,
        firstBroken: { seq: row.seq, reason },
      });
      if (row.seq !== expectedSeq) {
        return {
          ok: false,
          records,
          headHash: prevHash,
          firstBroken: { seq: expectedSeq, reason: `record ${expectedSeq} is missing (next is ${row.seq})` },
        };
      }
      if (row.prev_hash !== prevHash)
        return broken("its prev_hash does not match the hash of the record before");
      const { hash, ...rest } = row;
      if (hashOf(rest) !== hash) return broken("its content does not match its hash: the record was altered");
      prevHash = hash;
      expectedSeq++;
      records++;
    }
    if (rows.length < PAGE) break;
  }
  return { ok: true, records, headHash: prevHash };
}

function toRecord(row: AuditLogTable): AuditRecord {
  return {
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: { kind: row.actor_kind, name: row.actor_name },
    action: row.action,
    object: { kind: row.object_kind, name: row.object_name },
    beforeDigest: row.before_digest,
    afterDigest: row.after_digest,
    details: row.details === null ? null : JSON.parse(row.details),
    requestId: row.request_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** Records from `since` (inclusive), oldest first, in pages of `limit`; `afterSeq` continues a page. */
export async function listAudit({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { since?: number | undefined; afterSeq?: number | undefined; limit: number };
}): Promise<AuditRecord[]> {
  authorize(ctx, "audit.read");
  if (input.limit < 1 || input.limit > 10_000) {
    throw new NinesError("INVALID_INPUT", "limit must be between 1 and 10000.");
  }
  let query = ctx.db.selectFrom("audit_log").selectAll().orderBy("seq").limit(input.limit);
  if (input.since !== undefined) query = query.where("at", ">=", input.since);
  if (input.afterSeq !== undefined) query = query.where("seq", ">", input.afterSeq);
  return (await query.execute()).map(toRecord);
}
