import { appendAudit } from "../audit/index.js";
import { authorize } from "../auth/index.js";
import { type Ctx, inTransaction, publish } from "../platform/context.js";
import { NinesError } from "../platform/errors.js";
import { digest } from "../platform/ids.js";
import type { ConfigObject, KindRegistry } from "./kinds.js";
import type { Position, RawDocument } from "./parse-yaml.js";
import { type ObjectChange, type Plan, planChanges, sortObjects } from "./plan.js";
import { type ConfigProblem, hasErrors } from "./problems.js";
import type { ConfigSource } from "./sources.js";
import { validateDocuments, validateSources } from "./validate.js";

declare module "../platform/events.js" {
  interface NinesEventMap {
    /** A configuration revision was committed; subscribers reload what they derive from config. */
    "config.applied": {
      revision: number;
      changes: ReadonlyArray<Pick<ObjectChange, "action" | "kind" | "name">>;
    };
  }
}

export interface ApplyResult {
  /** False when the configuration has errors; nothing was applied then. */
  ok: boolean;
  dryRun: boolean;
  problems: ConfigProblem[];
  plan: Plan | null;
  /** The revision now in force: a new one when something changed, else the current one (0 before any). */
  revision: number;
  applied: boolean;
}

export interface RevisionSummary {
  revision: number;
  createdAt: string;
  actor: string;
  source: string;
  contentHash: string;
  rollbackOf: number | null;
  counts: { create: number; update: number; delete: number };
}

export interface RevisionDetail extends RevisionSummary {
  changes: ObjectChange[];
  objects: ConfigObject[];
}

export type ApplySource = "api" | "startup" | "reload" | "rollback";

/**
 * Validation, planning, applying and rolling back configuration: the one code path behind the CLI, the HTTP
 * API and start-up. An apply is all or nothing: the domain tables, the stored objects, the revision and the
 * audit records commit together or not at all.
 */
export class ConfigService {
  constructor(private readonly registry: KindRegistry) {}

  validate(sources: readonly ConfigSource[]): { documents: ConfigObject[]; problems: ConfigProblem[] } {
    const { documents, problems } = validateSources(sources, this.registry);
    return { documents: documents.map((d) => d.object), problems };
  }

  async apply({
    ctx,
    input,
  }: {
    ctx: Ctx;
    input: { sources: readonly ConfigSource[]; dryRun: boolean; source?: ApplySource };
  }): Promise<ApplyResult> {
    authorize(ctx, input.dryRun ? "config.plan" : "config.apply");
    const { documents, problems } = validateSources(input.sources, this.registry);
    return this.applyValidated(ctx, {
      objects: documents.map((d) => d.object),
      problems,
      dryRun: input.dryRun,
      source: input.source ?? "api",
      rollbackOf: null,
    });
  }

  /** Applies the desired state of an earlier revision again, as a new revision. */
  async rollback({
    ctx,
    input,
  }: {
    ctx: Ctx;
    input: { revision: number; dryRun?: boolean };
  }): Promise<ApplyResult> {
    authorize(ctx, input.dryRun ? "config.plan" : "config.rollback");
    const row = await ctx.db
      .selectFrom("config_revisions")
      .select(["documents"])
      .where("revision", "=", input.revision)
      .executeTakeFirst();
    if (!row)
      throw new NinesError(
        "NOT_FOUND",
        `Revision ${input.revision} does not exist; \`nines revisions\` lists them.`,
      );
    const stored = JSON.parse(row.documents) as ConfigObject[];
    // Kinds may have gained checks since that revision; it is validated again like any input.
    const file = `revision ${input.revision}`;
    const raws: RawDocument[] = stored.map((value, index) => {
      const position = (): Position => ({
        file: `${file}, object ${index + 1} (${value.kind} ${value.metadata.name})`,
        line: 0,
        column: 0,
      });
      return { value, file, locate: position, locateKey: position };
    });
    const { documents, problems } = validateDocuments(raws, this.registry);
    return this.applyValidated(ctx, {
      objects: documents.map((d) => d.object),
      problems,
      dryRun: input.dryRun ?? false,
      source: "rollback",
      rollbackOf: input.revision,
    });
  }

  private async applyValidated(
    ctx: Ctx,
    input: {
      objects: ConfigObject[];
      problems: ConfigProblem[];
      dryRun: boolean;
      source: ApplySource;
      rollbackOf: number | null;
    },
  ): Promise<ApplyResult> {
    const { objects, problems, dryRun } = input;
    if (hasErrors(problems)) {
      return {
        ok: false,
        dryRun,
        problems,
        plan: null,
        revision: await currentRevision(ctx),
        applied: false,
      };
    }
    if (dryRun) {
      const plan = planChanges(await this.currentObjects(ctx), objects);
      return { ok: true, dryRun, problems, plan, revision: await currentRevision(ctx), applied: false };
    }
    const outcome = await inTransaction(ctx, async (trx) => {
      await trx.adapter.lockForUpdate(trx.db, "nines.config");
      const current = await this.currentObjects(trx);
      const plan = planChanges(current, objects);
      const latest = await currentRevision(trx);
      if (plan.changes.length === 0) return { plan, revision: latest, applied: false };
      const revision = latest + 1;
      await this.writeDomainTables(trx, plan, objects, current);
      await writeStoredObjects(trx, plan, objects, revision);
      const counts = countChanges(plan.changes);
      await trx.db
        .insertInto("config_revisions")
        .values({
          revision,
          created_at: trx.clock.now(),
          actor: trx.actor.name,
          source: input.source,
          content_hash: plan.contentHash,
          documents: JSON.stringify(sortObjects(objects)),
          diff: JSON.stringify(plan.changes),
          summary: JSON.stringify(counts),
          rollback_of: input.rollbackOf,
        })
        .execute();
      const currentByKey = new Map(current.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
      const desiredByKey = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
      for (const change of plan.changes) {
        const key = `${change.kind}/${change.name}`;
        await appendAudit(trx, {
          action: `config.${change.action}`,
          object: { kind: change.kind, name: change.name },
          before: currentByKey.get(key),
          after: desiredByKey.get(key),
          details: { revision, fields: change.fields.map((f) => f.path) },
        });
      }
      await appendAudit(trx, {
        action: input.source === "rollback" ? "config.rollback" : "config.apply",
        object: { kind: "ConfigRevision", name: String(revision) },
        after: { contentHash: plan.contentHash },
        details: { revision, source: input.source, rollbackOf: input.rollbackOf, ...counts },
      });
      publish(trx, "config.applied", {
        revision,
        changes: plan.changes.map(({ action, kind, name }) => ({ action, kind, name })),
      });
      return { plan, revision, applied: true };
    });
    return { ok: true, dryRun, problems, ...outcome };
  }

  /** Calls each kind's store: creates and updates in kind order, then deletes in reverse kind order. */
  private async writeDomainTables(
    ctx: Ctx,
    plan: Plan,
    desired: ConfigObject[],
    current: ConfigObject[],
  ): Promise<void> {
    const changed = new Set(
      plan.changes.filter((c) => c.action !== "delete").map((c) => `${c.kind}/${c.name}`),
    );
    const kinds = this.registry.all();
    for (const kind of kinds) {
      const upserts = desired.filter(
        (o) =>
          o.kind === kind.kind &&
          o.apiVersion === kind.apiVersion &&
          changed.has(`${o.kind}/${o.metadata.name}`),
      );
      if (upserts.length > 0) await kind.store.upsert(ctx, upserts);
    }
    for (const kind of [...kinds].reverse()) {
      const deletes = plan.changes
        .filter((c) => c.action === "delete" && c.kind === kind.kind)
        .filter((c) =>
          current.some(
            (o) => o.kind === c.kind && o.metadata.name === c.name && o.apiVersion === kind.apiVersion,
          ),
        )
        .map((c) => c.name);
      if (deletes.length > 0) await kind.store.remove(ctx, deletes);
    }
  }

  async currentObjects(ctx: Ctx): Promise<ConfigObject[]> {
    const rows = await ctx.db
      .selectFrom("config_objects")
      .select(["document"])
      .orderBy("kind")
      .orderBy("name")
      .execute();
    return rows.map((r) => JSON.parse(r.document) as ConfigObject);
  }

  async listObjects({
    ctx,
    input,
  }: {
    ctx: Ctx;
    input: { kind?: string | undefined };
  }): Promise<ConfigObject[]> {
    authorize(ctx, "config.read");
    const all = await this.currentObjects(ctx);
    return input.kind === undefined ? all : all.filter((o) => o.kind === input.kind);
  }

  async listRevisions({ ctx, input }: { ctx: Ctx; input: { limit: number } }): Promise<RevisionSummary[]> {
    authorize(ctx, "config.read");
    const rows = await ctx.db
      .selectFrom("config_revisions")
      .select(["revision", "created_at", "actor", "source", "content_hash", "rollback_of", "summary"])
      .orderBy("revision", "desc")
      .limit(input.limit)
      .execute();
    return rows.map(toSummary);
  }

  async getRevision({ ctx, input }: { ctx: Ctx; input: { revision: number } }): Promise<RevisionDetail> {
    authorize(ctx, "config.read");
    const row = await ctx.db
      .selectFrom("config_revisions")
      .selectAll()
      .where("revision", "=", input.revision)
      .executeTakeFirst();
    if (!row)
      throw new NinesError(
        "NOT_FOUND",
        `Revision ${input.revision} does not exist; \`nines revisions\` lists them.`,
      );
    return {
      ...toSummary(row),
      changes: JSON.parse(row.diff) as ObjectChange[],
      objects: JSON.parse(row.documents) as ConfigObject[],
    };
  }
}

async function currentRevision(ctx: Ctx): Promise<number> {
  const row = await ctx.db
    .selectFrom("config_revisions")
    .select((eb) => eb.fn.max("revision").as("latest"))
    .executeTakeFirst();
  return Number(row?.latest ?? 0);
}

async function writeStoredObjects(
  ctx: Ctx,
  plan: Plan,
  desired: ConfigObject[],
  revision: number,
): Promise<void> {
  const now = ctx.clock.now();
  for (const change of plan.changes) {
    if (change.action === "delete") {
      await ctx.db
        .deleteFrom("config_objects")
        .where("kind", "=", change.kind)
        .where("name", "=", change.name)
        .execute();
      continue;
    }
    const object = desired.find((o) => o.kind === change.kind && o.metadata.name === change.name);
    if (!object) continue;
    const row = {
      kind: object.kind,
      name: object.metadata.name,
      document: JSON.stringify(object),
      digest: digest(object),
      revision,
      updated_at: now,
    };
    await ctx.db
      .insertInto("config_objects")
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(["kind", "name"])
          .doUpdateSet({ document: row.document, digest: row.digest, revision, updated_at: now }),
      )
      .execute();
  }
}

function countChanges(changes: readonly ObjectChange[]): { create: number; update: number; delete: number } {
  const counts = { create: 0, update: 0, delete: 0 };
  for (const c of changes) counts[c.action]++;
  return counts;
}

function toSummary(row: {
  revision: number;
  created_at: number;
  actor: string;
  source: string;
  content_hash: string;
  rollback_of: number | null;
  summary: string;
}): RevisionSummary {
  return {
    revision: row.revision,
    createdAt: new Date(row.created_at).toISOString(),
    actor: row.actor,
    source: row.source,
    contentHash: row.content_hash,
    rollbackOf: row.rollback_of,
    counts: JSON.parse(row.summary) as RevisionSummary["counts"],
  };
}
