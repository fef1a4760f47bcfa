import type { Kysely } from "kysely";
import type { Schema } from "../../platform/db/schema.js";
import type { Matcher, Silence } from "../routing/index.js";

/** Alertmanager's matcher JSON (api/v2 models.Matcher). */
export interface ApiMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export function toApiMatcher(m: Matcher): ApiMatcher {
  return {
    name: m.name,
    value: m.value,
    isRegex: m.type === "=~" || m.type === "!~",
    isEqual: m.type === "=" || m.type === "=~",
  };
}

export function fromApiMatcher(m: ApiMatcher): Matcher {
  const type = m.isRegex ? (m.isEqual ? "=~" : "!~") : m.isEqual ? "=" : "!=";
  return { type, name: m.name, value: m.value };
}

export interface StoredSilence extends Silence {
  updatedAt: number;
}

function rowToSilence(row: Schema["silences"]): StoredSilence {
  const s: StoredSilence = {
    id: row.id,
    matchers: (JSON.parse(row.matchers) as ApiMatcher[]).map(fromApiMatcher),
    startsAt: Number(row.starts_at),
    endsAt: Number(row.ends_at),
    createdBy: row.created_by,
    comment: row.comment,
    updatedAt: Number(row.updated_at),
  };
  if (row.recurrence !== null) s.recurrence = JSON.parse(row.recurrence) as Silence["recurrence"];
  return s;
}

export async function loadSilences(db: Kysely<Schema>): Promise<StoredSilence[]> {
  return (await db.selectFrom("silences").selectAll().execute()).map(rowToSilence);
}

export async function loadSilence(db: Kysely<Schema>, id: string): Promise<StoredSilence | undefined> {
  const row = await db.selectFrom("silences").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? rowToSilence(row) : undefined;
}

/** Inserts or replaces a silence, in the caller's transaction. */
export async function saveSilence(db: Kysely<Schema>, s: Silence, now: number): Promise<void> {
  const row = {
    id: s.id,
    matchers: JSON.stringify(s.matchers.map(toApiMatcher)),
    starts_at: s.startsAt,
    ends_at: s.endsAt,
    created_by: s.createdBy,
    comment: s.comment,
    recurrence: s.recurrence === undefined ? null : JSON.stringify(s.recurrence),
    updated_at: now,
  };
  await db
    .insertInto("silences")
    .values(row)
    .onConflict((oc) =>
      oc.column("id").doUpdateSet({
        matchers: row.matchers,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        created_by: row.created_by,
        comment: row.comment,
        recurrence: row.recurrence,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}
