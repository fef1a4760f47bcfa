import { tmpdir } from "node:os";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKindRegistry } from "../src/app/registry.js";
import { verifyAudit } from "../src/audit/index.js";
import { authenticateToken, createToken, listTokens, revokeToken } from "../src/auth/index.js";
import {
  getServiceDependencies,
  listServices,
  listTeams,
  listUsers,
  serviceKind,
  teamKind,
  userKind,
} from "../src/catalog/index.js";
import { ConfigService, defineKind, KindRegistry } from "../src/config/index.js";
import { ManualClock } from "../src/platform/clock.js";
import { type Actor, anonymousActor, type Ctx, systemActor } from "../src/platform/context.js";
import type { OpenedDatabase } from "../src/platform/db/dialect.js";
import { openDatabase } from "../src/platform/db/database.js";
import { migrateTo, migrateToLatest, migrationsApplied } from "../src/platform/db/migrate.js";
import { notificationGroupHash } from "../src/notify/index.js";
import { createEventBus } from "../src/platform/events.js";
import { silentLogger } from "../src/platform/logger.js";
import { z } from "zod";
import { type DialectName, newTestDatabase, openMigrated, type TestDatabase } from "./support/databases.js";

const files = (content: string) => [{ path: "test.yaml", content }];

const BASE = `apiVersion: nines/v1
kind: Team
metadata: { name: payments }
spec: { displayName: Payments }
---
apiVersion: nines/v1
kind: Team
metadata: { name: platform }
spec: {}
---
apiVersion: nines/v1
kind: User
metadata: { name: alice }
spec: { role: viewer, teams: [payments] }
---
apiVersion: nines/v1
kind: Service
metadata: { name: db }
spec: { ownerTeam: platform, tier: 1 }
---
apiVersion: nines/v1
kind: Service
metadata: { name: api }
spec: { ownerTeam: payments, dependsOn: [db] }
`;

/**
 * The store suite: everything that touches the state database, run once per dialect (SQLite and PostgreSQL)
 * so the two can never drift apart.
 */
export function runStoreSuite({ dialect }: { dialect: DialectName }): void {
  describe(`store [${dialect}]`, () => {
    let database: TestDatabase;
    let opened: OpenedDatabase;
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const events = createEventBus(() => {});
    const ctxAs = (actor: Actor, anonymousRead = false): Ctx => ({
      actor,
      clock,
      db: opened.db,
      adapter: opened.adapter,
      log: silentLogger,
      events,
      anonymousRead,
    });
    const admin = () => ctxAs(systemActor("test"));
    const config = new ConfigService(createKindRegistry());

    beforeAll(async () => {
      database = await newTestDatabase(dialect);
      opened = await openMigrated(database);
    });
    afterAll(async () => {
      await opened?.db.destroy();
      await database?.drop();
    });

    it("applies migrations once and reports them applied", async () => {
      expect(await migrationsApplied(opened.db)).toBe(true);
      expect(await migrateToLatest(opened.db)).toEqual([]);
    });

    it("gives notifications stored before migration 0004 the group hash the outbox writes", async () => {
      const older = await newTestDatabase(dialect);
      const db = openDatabase({ url: older.url, dataDir: tmpdir() }).db;
      try {
        await migrateTo(db, "0003-alerting");
        const request = { receiver: "team", groupKey: '{}:{alertname="Old"}', alerts: [] };
        await sql`insert into notification_outbox (id, idempotency_key, receiver, integration, request, status,
          attempts, next_attempt_at, last_error, created_at, updated_at) values ('n1', 'k-1/webhook_configs[0]',
          'team', 'webhook_configs[0]', ${JSON.stringify({ request, type: "webhook_configs", config: {} })},
          'delivered', 1, 0, null, 0, 0)`.execute(db);
        expect(await migrateToLatest(db)).toContain("0004-outbox-groups");
        const row = await db.selectFrom("notification_outbox").select("group_hash").executeTakeFirst();
        expect(row?.group_hash).toBe(notificationGroupHash("team", '{}:{alertname="Old"}'));
      } finally {
        await db.destroy();
        await older.drop();
      }
    });

    it("moves the requests of notifications stored before migration 0005 to their own table, and back down", async () => {
      const older = await newTestDatabase(dialect);
      const db = openDatabase({ url: older.url, dataDir: tmpdir() }).db;
      try {
        await migrateTo(db, "0004-outbox-groups");
        // Both formats of a stored request: one JSON document (rows before stored-request.ts), and the
        // envelope, a line break, then the alerts.
        const alert = { fingerprint: "f1", status: "firing", labels: { alertname: "Old" }, annotations: {} };
        const request = { receiver: "team", groupKey: '{}:{alertname="Old"}', status: "firing" };
        const requests = {
          n1: JSON.stringify({
            request: { ...request, alerts: [alert] },
            type: "webhook_configs",
            config: {},
          }),
          n2: `${JSON.stringify({ request, type: "webhook_configs", config: {} })}\n[${JSON.stringify(alert)}]`,
        };
        for (const [id, text] of Object.entries(requests))
          await sql`insert into notification_outbox (id, idempotency_key, receiver, integration, request, group_hash,
            status, attempts, next_attempt_at, last_error, created_at, updated_at) values (${id}, ${`k-${id}`},
            'team', 'webhook_configs[0]', ${text}, null, 'dead', 3, 0, 'boom', 0, 0)`.execute(db);

        expect(await migrateToLatest(db)).toEqual(["0005-notification-requests", "0006-alert-intake-log"]);
        const moved = await db.selectFrom("notification_requests").selectAll().orderBy("outbox_id").execute();
        expect(moved).toEqual(
          Object.entries(requests).map(([outbox_id, request]) => ({ outbox_id, request })),
        );
        const columns = async () =>
          (await db.introspection.getTables())
            .find((t) => t.name === "notification_outbox")
            ?.columns.map((c) => c.name);
        expect(await columns()).not.toContain("request");
        const rows = await db.selectFrom("notification_outbox").selectAll().orderBy("id").execute();
        expect(rows.map((r) => [r.id, r.status, r.attempts, r.last_error])).toEqual([
          ["n1", "dead", 3, "boom"],
          ["n2", "dead", 3, "boom"],
        ]);
        // A moved request goes with its notification.
        await db.deleteFrom("notification_outbox").where("id", "=", "n1").execute();
        expect(await db.selectFrom("notification_requests").select("outbox_id").execute()).toEqual([
          { outbox_id: "n2" },
        ]);

        await migrateTo(db, "0004-outbox-groups");
        expect(await columns()).toContain("request");
        const back = await sql<{
          id: string;
          request: string;
        }>`select id, request from notification_outbox`.execute(db);
        expect(back.rows).toEqual([{ id: "n2", request: requests.n2 }]);
      } finally {
        await db.destroy();
        await older.drop();
      }
    });

    it("applies a configuration into the catalog as revision 1, and re-applying it changes nothing", async () => {
      const seen: number[] = [];
      const off = events.on("config.applied", (e) => {
        seen.push(e.revision);
      });
      const first = await config.apply({ ctx: admin(), input: { sources: files(BASE), dryRun: false } });
      expect(first).toMatchObject({ ok: true, applied: true, revision: 1 });
      expect(first.plan?.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
        "create Service/api",
        "create Service/db",
        "create Team/payments",
        "create Team/platform",
        "create User/alice",
      ]);
      const again = await config.apply({ ctx: admin(), input: { sources: files(BASE), dryRun: false } });
      expect(again).toMatchObject({ ok: true, applied: false, revision: 1 });
      off();
      expect(seen).toEqual([1]);

      const services = await listServices({ ctx: admin() });
      expect(services.map((s) => [s.name, s.ownerTeam, s.tier, s.dependsOn])).toEqual([
        ["api", "payments", 3, ["db"]],
        ["db", "platform", 1, []],
      ]);
      const teams = await listTeams({ ctx: admin() });
      expect(teams.find((t) => t.name === "payments")).toMatchObject({
        displayName: "Payments",
        services: ["api"],
        members: ["alice"],
      });
      expect(await getServiceDependencies({ ctx: admin(), input: { name: "db" } })).toEqual({
        service: "db",
        upstream: [],
        downstream: [{ name: "api", depth: 1, via: null }],
      });
    });

    it("plans a dry run field by field without changing anything", async () => {
      const changed = BASE.replace(
        "spec: { ownerTeam: platform, tier: 1 }",
        "spec: { ownerTeam: platform, tier: 2 }",
      );
      const result = await config.apply({ ctx: admin(), input: { sources: files(changed), dryRun: true } });
      expect(result.plan?.changes).toEqual([
        {
          action: "update",
          kind: "Service",
          name: "db",
          fields: [{ path: "spec.tier", before: 1, after: 2 }],
        },
      ]);
      expect((await listServices({ ctx: admin() })).find((s) => s.name === "db")?.tier).toBe(1);
      expect(result.revision).toBe(1);
    });

    it("updates and deletes objects, keeping dependencies and memberships in step", async () => {
      const next = BASE.replace("dependsOn: [db]", "dependsOn: []")
        .replace("teams: [payments]", "teams: [platform]")
        .replace(
          /---\napiVersion: nines\/v1\nkind: Service\nmetadata: \{ name: db \}\nspec: \{ ownerTeam: platform, tier: 1 \}\n/,
          "",
        );
      const result = await config.apply({ ctx: admin(), input: { sources: files(next), dryRun: false } });
      expect(result.revision).toBe(2);
      expect(result.plan?.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
        "update Service/api",
        "update User/alice",
        "delete Service/db",
      ]);
      expect((await listServices({ ctx: admin() })).map((s) => s.name)).toEqual(["api"]);
      expect((await listUsers({ ctx: admin() }))[0]?.teams).toEqual(["platform"]);
      const deps = await opened.db.selectFrom("service_dependencies").selectAll().execute();
      expect(deps).toEqual([]);
    });

    it("rolls back to an earlier revision as a new revision", async () => {
      const result = await config.rollback({ ctx: admin(), input: { revision: 1 } });
      expect(result).toMatchObject({ ok: true, applied: true, revision: 3 });
      expect((await listServices({ ctx: admin() })).map((s) => s.name)).toEqual(["api", "db"]);
      const revisions = await config.listRevisions({ ctx: admin(), input: { limit: 10 } });
      expect(revisions.map((r) => [r.revision, r.source, r.rollbackOf])).toEqual([
        [3, "rollback", 1],
        [2, "api", null],
        [1, "api", null],
      ]);
      const detail = await config.getRevision({ ctx: admin(), input: { revision: 3 } });
      expect(detail.objects).toHaveLength(5);
    });

    it("leaves nothing behind when an apply fails half-way", async () => {
      const exploding = defineKind<{ explode: boolean }>({
        apiVersion: "nines/v1",
        kind: "Exploding",
        description: "fails in its store",
        spec: z.strictObject({ explode: z.boolean() }),
        order: 99,
        store: {
          upsert: async () => {
            throw new Error("disk full");
          },
          remove: async () => {},
        },
      });
      const faulty = new ConfigService(new KindRegistry([teamKind, userKind, serviceKind, exploding]));
      const auditBefore = await opened.db
        .selectFrom("audit_log")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst();
      const changed = `${BASE.replace("displayName: Payments", "displayName: Pay")}---
apiVersion: nines/v1
kind: Exploding
metadata: { name: boom }
spec: { explode: true }
`;
      await expect(
        faulty.apply({ ctx: admin(), input: { sources: files(changed), dryRun: false } }),
      ).rejects.toThrow("disk full");
      // The team update ran before the failing kind; it must be gone with the rest.
      expect((await listTeams({ ctx: admin() })).find((t) => t.name === "payments")?.displayName).toBe(
        "Payments",
      );
      expect((await config.listRevisions({ ctx: admin(), input: { limit: 1 } }))[0]?.revision).toBe(3);
      expect(
        await opened.db.selectFrom("config_objects").select("name").where("kind", "=", "Exploding").execute(),
      ).toEqual([]);
      const auditAfter = await opened.db
        .selectFrom("audit_log")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirst();
      expect(Number(auditAfter?.n)).toBe(Number(auditBefore?.n));
    });

    it("serialises concurrent applies: distinct revisions and an intact audit chain", async () => {
      const variants = [1, 2, 3, 4].map((tier) =>
        BASE.replace(
          "spec: { ownerTeam: platform, tier: 1 }",
          `spec: { ownerTeam: platform, tier: ${tier} }`,
        ),
      );
      const results = await Promise.all(
        variants.map((v) => config.apply({ ctx: admin(), input: { sources: files(v), dryRun: false } })),
      );
      const revisions = results.filter((r) => r.applied).map((r) => r.revision);
      expect(new Set(revisions).size).toBe(revisions.length);
      expect((await verifyAudit({ ctx: admin() })).ok).toBe(true);
    });

    it("records every change in the audit log, chained, and names the first altered or missing record", async () => {
      const verified = await verifyAudit({ ctx: admin() });
      expect(verified.ok).toBe(true);
      expect(verified.records).toBeGreaterThan(5);
      const actions = await opened.db
        .selectFrom("audit_log")
        .select(["action", "object_kind", "object_name"])
        .orderBy("seq")
        .execute();
      expect(actions[0]).toEqual({ action: "config.create", object_kind: "Service", object_name: "api" });
      expect(actions.some((a) => a.action === "config.apply" && a.object_kind === "ConfigRevision")).toBe(
        true,
      );
      expect(actions.some((a) => a.action === "config.rollback")).toBe(true);

      await sql`update audit_log set actor_name = ${"mallory"} where seq = 3`.execute(opened.db);
      expect(await verifyAudit({ ctx: admin() })).toMatchObject({
        ok: false,
        records: 2,
        firstBroken: { seq: 3, reason: "its content does not match its hash: the record was altered" },
      });
      const original = await opened.db
        .selectFrom("audit_log")
        .select("actor_name")
        .where("seq", "=", 2)
        .executeTakeFirstOrThrow();
      await sql`update audit_log set actor_name = ${original.actor_name} where seq = 3`.execute(opened.db);
      expect((await verifyAudit({ ctx: admin() })).ok).toBe(true);

      const row4 = await opened.db
        .selectFrom("audit_log")
        .selectAll()
        .where("seq", "=", 4)
        .executeTakeFirstOrThrow();
      await opened.db.deleteFrom("audit_log").where("seq", "=", 4).execute();
      expect(await verifyAudit({ ctx: admin() })).toMatchObject({
        ok: false,
        firstBroken: { seq: 4, reason: "record 4 is missing (next is 5)" },
      });
      await opened.db.insertInto("audit_log").values(row4).execute();
      expect((await verifyAudit({ ctx: admin() })).ok).toBe(true);
    });

    it("stores tokens only as hashes, and resolves them to an actor with their role", async () => {
      const created = await createToken({
        ctx: admin(),
        input: { name: "deployer", role: "editor", expiresInDays: 1 },
      });
      expect(created.token).toMatch(/^nines_[A-Za-z0-9_-]{43}$/);
      const stored = await opened.db
        .selectFrom("api_tokens")
        .selectAll()
        .where("id", "=", created.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(created.token);
      const listed = await listTokens({ ctx: admin() });
      expect(JSON.stringify(listed)).not.toContain(created.token);

      const actor = await authenticateToken({ db: opened.db, clock }, created.token);
      expect(actor).toMatchObject({ kind: "token", name: "deployer", role: "editor" });
      const used = await opened.db
        .selectFrom("api_tokens")
        .select("last_used_at")
        .where("id", "=", created.id)
        .executeTakeFirstOrThrow();
      expect(used.last_used_at).toBe(clock.now());

      clock.advance(86_400_000);
      await expect(authenticateToken({ db: opened.db, clock }, created.token)).rejects.toMatchObject({
        code: "TOKEN_EXPIRED",
      });
      await expect(authenticateToken({ db: opened.db, clock }, "nines_nope")).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });
    });

    it("caps a user's token at the user's role and stops it when revoked", async () => {
      const created = await createToken({
        ctx: admin(),
        input: { name: "alice-cli", role: "admin", userName: "alice" },
      });
      expect(await authenticateToken({ db: opened.db, clock }, created.token)).toMatchObject({
        role: "viewer",
        name: "alice/alice-cli",
      });
      await revokeToken({ ctx: admin(), input: { idOrName: "alice-cli" } });
      await expect(authenticateToken({ db: opened.db, clock }, created.token)).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });
    });

    it("checks roles before anything happens: viewers cannot apply, anonymous callers cannot read unless reads are open", async () => {
      const viewer: Actor = { kind: "token", name: "v", role: "viewer" };
      await expect(
        config.apply({ ctx: ctxAs(viewer), input: { sources: files(BASE), dryRun: false } }),
      ).rejects.toMatchObject({ code: "FORBIDDEN" });
      await expect(
        createToken({
          ctx: ctxAs({ kind: "token", name: "e", role: "editor" }),
          input: { name: "x", role: "viewer" },
        }),
      ).rejects.toMatchObject({
        code: "FORBIDDEN",
      });
      await expect(listServices({ ctx: ctxAs(anonymousActor) })).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });
      expect((await listServices({ ctx: ctxAs(anonymousActor, true) })).length).toBeGreaterThan(0);
      await expect(verifyAudit({ ctx: ctxAs(anonymousActor, true) })).rejects.toMatchObject({
        code: "UNAUTHENTICATED",
      });
    });
  });
}
