import { resolve } from "node:path";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApplyResultSchema } from "../src/config/config-routes.js";
import { ServiceDependencies, ServiceView, TeamView } from "../src/catalog/index.js";
import { TokenInfo } from "../src/auth/index.js";
import type { DialectName } from "./support/databases.js";
import { startTestApp, type TestApp } from "./support/test-app.js";

const EXAMPLES = resolve(import.meta.dirname, "../examples");
const ErrorBody = z.strictObject({
  code: z.string(),
  message: z.string(),
  requestId: z.string(),
  details: z.unknown().optional(),
});

/** The HTTP suite: the JSON API as a client sees it, run once per dialect. */
export function runHttpSuite({ dialect }: { dialect: DialectName }): void {
  describe(`http api [${dialect}]`, () => {
    let t: TestApp;
    const inject = (options: InjectOptions) => t.app.server.inject(options);

    beforeAll(async () => {
      t = await startTestApp(dialect, { configPath: EXAMPLES });
    });
    afterAll(async () => {
      await t?.close();
    });

    async function tokenWithRole(role: string, extra: Record<string, unknown> = {}): Promise<string> {
      const res = await inject({
        method: "POST",
        url: "/api/v1/tokens",
        headers: t.auth(),
        payload: { name: `t-${role}-${Math.random()}`, role, ...extra },
      });
      expect(res.statusCode).toBe(201);
      return res.json().token as string;
    }

    it("serves the example catalog applied at start-up, in the documented shapes", async () => {
      const services = await inject({ url: "/api/v1/services", headers: t.auth() });
      expect(services.statusCode).toBe(200);
      const body = z.strictObject({ services: z.array(ServiceView) }).parse(services.json());
      expect(body.services.map((s) => s.name)).toEqual(["checkout", "payment-gateway", "postgres"]);

      const team = await inject({ url: "/api/v1/teams/payments", headers: t.auth() });
      expect(TeamView.parse(team.json())).toMatchObject({
        services: ["checkout", "payment-gateway"],
        members: ["alice", "bob"],
      });

      const deps = ServiceDependencies.parse(
        (await inject({ url: "/api/v1/services/postgres/dependencies", headers: t.auth() })).json(),
      );
      expect(deps.downstream).toEqual([
        { name: "checkout", depth: 1, via: null },
        { name: "payment-gateway", depth: 1, via: null },
      ]);
      const checkout = ServiceDependencies.parse(
        (await inject({ url: "/api/v1/services/checkout/dependencies", headers: t.auth() })).json(),
      );
      expect(checkout.upstream).toEqual([
        { name: "payment-gateway", depth: 1, via: null },
        { name: "postgres", depth: 1, via: null },
      ]);
    });

    it("answers health, readiness and metrics without a token", async () => {
      expect((await inject({ url: "/healthz" })).json()).toEqual({ status: "ok" });
      expect((await inject({ url: "/readyz" })).json()).toEqual({
        status: "ready",
        checks: { database: "ok", migrations: "ok" },
      });
      await inject({ url: "/api/v1/teams", headers: t.auth() });
      const metrics = await inject({ url: "/metrics" });
      expect(metrics.headers["content-type"]).toContain("text/plain");
      expect(metrics.body).toContain(
        'nines_http_request_duration_seconds_count{method="GET",route="/api/v1/teams",status_code="200"}',
      );
      expect(metrics.body).toMatch(/nines_db_query_duration_seconds_count\{outcome="ok"\} [1-9]/);
      expect(metrics.body).toContain("nodejs_eventloop_lag_seconds");
    });

    it("publishes an OpenAPI 3.1 document generated from the route schemas", async () => {
      const doc = (await inject({ url: "/api/v1/openapi.json" })).json();
      expect(doc.openapi).toBe("3.1.0");
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(["/api/v1/services/{name}", "/api/v1/config/apply", "/api/v1/tokens"]),
      );
      const apply = doc.paths["/api/v1/config/apply"].post;
      expect(apply.requestBody.content["application/json"].schema.properties.files.type).toBe("array");
      expect(doc.paths["/api/v1/services/{name}"].get.parameters[0]).toMatchObject({
        name: "name",
        in: "path",
        required: true,
      });
    });

    it("rejects bad requests with a stable code: 400, 401, 403, 404, 413", async () => {
      const cases = [
        {
          req: {
            method: "POST" as const,
            url: "/api/v1/tokens",
            headers: { ...t.auth(), "content-type": "application/json" },
            payload: "{not json",
          },
          status: 400,
          code: "INVALID_JSON",
        },
        {
          req: {
            method: "POST" as const,
            url: "/api/v1/tokens",
            headers: t.auth(),
            payload: { name: "x", role: "king" },
          },
          status: 400,
          code: "INVALID_INPUT",
        },
        { req: { url: "/api/v1/no-such-thing", headers: t.auth() }, status: 404, code: "NOT_FOUND" },
        { req: { url: "/api/v1/services/nope", headers: t.auth() }, status: 404, code: "NOT_FOUND" },
        { req: { url: "/api/v1/services" }, status: 401, code: "UNAUTHENTICATED" },
        {
          req: { url: "/api/v1/services", headers: { authorization: "Bearer nines_wrong" } },
          status: 401,
          code: "UNAUTHENTICATED",
        },
        {
          req: { url: "/api/v1/services", headers: { authorization: "Basic abc" } },
          status: 401,
          code: "UNAUTHENTICATED",
        },
        {
          req: { method: "POST" as const, url: "/api/v1/config/apply", payload: { files: [] } },
          status: 401,
          code: "UNAUTHENTICATED",
        },
        {
          req: {
            method: "POST" as const,
            url: "/api/v1/tokens",
            headers: t.auth(),
            payload: { name: "big", role: "viewer", pad: "x".repeat(2 * 1024 * 1024) },
          },
          status: 413,
          code: "PAYLOAD_TOO_LARGE",
        },
      ];
      for (const c of cases) {
        const res = await inject(c.req);
        expect({ url: c.req.url, status: res.statusCode }).toEqual({ url: c.req.url, status: c.status });
        const body = ErrorBody.parse(res.json());
        expect(body.code).toBe(c.code);
        expect(body.requestId).toBe(res.headers["x-request-id"]);
      }
    });

    it("rejects an expired token with TOKEN_EXPIRED and a too-weak one with FORBIDDEN", async () => {
      const viewer = await tokenWithRole("viewer");
      const res = await inject({
        method: "POST",
        url: "/api/v1/config/apply",
        headers: t.auth(viewer),
        payload: { files: [{ path: "a.yaml", content: "" }] },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: "FORBIDDEN" });
      expect((await inject({ url: "/api/v1/services", headers: t.auth(viewer) })).statusCode).toBe(200);

      const expiring = await tokenWithRole("editor", { expiresInDays: 1 });
      await t.app.database.db
        .updateTable("api_tokens")
        .set({ expires_at: Date.now() - 1000 })
        .where("expires_at", "is not", null)
        .execute();
      const expired = await inject({ url: "/api/v1/services", headers: t.auth(expiring) });
      expect(expired.statusCode).toBe(401);
      expect(expired.json()).toMatchObject({ code: "TOKEN_EXPIRED" });
    });

    it("never returns a token's secret or hash after creation", async () => {
      const secret = await tokenWithRole("responder");
      const list = await inject({ url: "/api/v1/tokens", headers: t.auth() });
      const parsed = z.strictObject({ tokens: z.array(TokenInfo.strict()) }).parse(list.json());
      expect(parsed.tokens.length).toBeGreaterThan(1);
      expect(list.body).not.toContain(secret);
      const row = await t.app.database.db
        .selectFrom("api_tokens")
        .select("token_hash")
        .where("role", "=", "responder")
        .executeTakeFirstOrThrow();
      expect(list.body).not.toContain(row.token_hash);
    });

    it("plans, applies and rolls back configuration through the API, with config errors as 422 with positions", async () => {
      const content = "apiVersion: nines/v1\nkind: Team\nmetadata: { name: solo }\nspec: {}\n";
      const plan = await inject({
        method: "POST",
        url: "/api/v1/config/apply",
        headers: t.auth(),
        payload: { files: [{ path: "solo.yaml", content }], dryRun: true },
      });
      const planned = ApplyResultSchema.parse(plan.json());
      expect(planned.applied).toBe(false);
      // Everything of the example configuration goes: the desired state is this one file.
      expect(planned.plan?.changes.filter((c) => c.action === "delete")).toHaveLength(12);

      const bad = await inject({
        method: "POST",
        url: "/api/v1/config/apply",
        headers: t.auth(),
        payload: {
          files: [
            {
              path: "bad.yaml",
              content: "apiVersion: nines/v1\nkind: Team\nmetadata: { name: solo }\nspec: { colour: red }\n",
            },
          ],
        },
      });
      expect(bad.statusCode).toBe(422);
      expect(bad.json()).toMatchObject({
        code: "INVALID_CONFIG",
        details: {
          problems: [
            {
              file: "bad.yaml",
              line: 4,
              column: 9,
              severity: "error",
              message: 'unknown field "colour" in spec. Allowed here: displayName, description, contact.',
            },
          ],
        },
      });
      expect((await inject({ url: "/api/v1/teams", headers: t.auth() })).json().teams).toHaveLength(2);

      const applied = ApplyResultSchema.parse(
        (
          await inject({
            method: "POST",
            url: "/api/v1/config/apply",
            headers: t.auth(),
            payload: { files: [{ path: "solo.yaml", content }] },
          })
        ).json(),
      );
      expect(applied).toMatchObject({ ok: true, applied: true, revision: 2 });
      expect(
        (await inject({ url: "/api/v1/teams", headers: t.auth() }))
          .json()
          .teams.map((x: { name: string }) => x.name),
      ).toEqual(["solo"]);

      const rolled = await inject({
        method: "POST",
        url: "/api/v1/config/rollback",
        headers: t.auth(),
        payload: { revision: 1 },
      });
      expect(rolled.json()).toMatchObject({ ok: true, applied: true, revision: 3 });
      expect((await inject({ url: "/api/v1/services", headers: t.auth() })).json().services).toHaveLength(3);

      const audit = await inject({ url: "/api/v1/audit/verify", headers: t.auth() });
      expect(audit.json()).toMatchObject({ ok: true });
      const records = (await inject({ url: "/api/v1/audit?limit=10000", headers: t.auth() })).json()
        .records as Array<{ action: string; requestId: string | null; actor: { name: string } }>;
      const rollback = records.find((r) => r.action === "config.rollback");
      expect(rollback?.actor.name).toBe("bootstrap-admin (NINES_ADMIN_TOKEN)");
      expect(rollback?.requestId).toBe(rolled.headers["x-request-id"]);
    });

    it("opens reads to anonymous callers only when configured, never writes", async () => {
      const open = await startTestApp(dialect, { anonymousRead: true });
      try {
        expect((await open.app.server.inject({ url: "/api/v1/services" })).statusCode).toBe(200);
        expect((await open.app.server.inject({ url: "/api/v1/tokens" })).statusCode).toBe(401);
        expect(
          (
            await open.app.server.inject({
              method: "POST",
              url: "/api/v1/config/apply",
              payload: { files: [{ path: "a", content: "" }] },
            })
          ).statusCode,
        ).toBe(401);
      } finally {
        await open.close();
      }
    });
  });
}
