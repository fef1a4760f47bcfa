import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/platform/clock.js";
import { type AlertingTestApp, amConfigYaml, startAlertingApp } from "./alerting-harness.js";
import { DIALECTS } from "./support/databases.js";
import { ADMIN_TOKEN } from "./support/test-app.js";

/**
 * Posting a silence with an existing id, as Alertmanager 0.25's Silences.Set and canUpdate decide it (checked
 * against Debian's prometheus-alertmanager 0.25): in place when the change keeps what the silence muted,
 * otherwise the old silence is expired and a new one with a new id is answered.
 */
const T0 = Date.UTC(2026, 5, 1, 12);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;
const matcher = (value: string, name = "alertname") => ({ name, value, isRegex: false, isEqual: true });

interface GettableSilence {
  id: string;
  status: { state: string };
  startsAt: string;
  endsAt: string;
  comment: string;
  createdBy: string;
  matchers: Array<ReturnType<typeof matcher>>;
}

describe.each(DIALECTS)("silence updates as Alertmanager makes them (%s)", (dialect) => {
  let t: AlertingTestApp;
  let clock: ManualClock;
  beforeAll(async () => {
    clock = new ManualClock(T0);
    t = await startAlertingApp(dialect, { configYaml: amConfigYaml(), clock, anonymousRead: true });
  });
  afterAll(async () => t.close());

  const post = async (body: Record<string, unknown>) => {
    const r = await t.server.inject({
      method: "POST",
      url: "/api/v2/silences",
      headers: { "content-type": "application/json", ...t.auth() },
      payload: JSON.stringify({ createdBy: "alice", comment: "maintenance", ...body }),
    });
    return { status: r.statusCode, body: JSON.parse(r.body) as { silenceID: string } | string };
  };
  const create = async (body: Record<string, unknown>) => {
    const r = await post(body);
    expect(r.status).toBe(200);
    return (r.body as { silenceID: string }).silenceID;
  };
  const get = async (id: string) =>
    JSON.parse(
      (await t.server.inject({ method: "GET", url: `/api/v2/silence/${id}` })).body,
    ) as GettableSilence;
  const audit = async (ids: string[]) =>
    (
      await t.test.app.database.db
        .selectFrom("audit_log")
        .select(["action", "object_name", "details"])
        .where("object_kind", "=", "Silence")
        .where("object_name", "in", ids)
        .orderBy("seq")
        .execute()
    ).map((r) => ({
      action: r.action,
      id: r.object_name,
      details: r.details ? JSON.parse(r.details) : null,
    }));

  it("changes an active silence's end, comment and author in place, under the same id", async () => {
    const id = await create({
      matchers: [matcher("InPlace")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    clock.advance(60_000);
    const before = await get(id);
    const r = await post({
      id,
      matchers: [matcher("InPlace")],
      startsAt: before.startsAt,
      endsAt: iso(clock.now() + 2 * HOUR),
      comment: "longer",
      createdBy: "bob",
    });
    expect(r).toEqual({ status: 200, body: { silenceID: id } });
    expect(await get(id)).toMatchObject({
      status: { state: "active" },
      startsAt: before.startsAt,
      endsAt: iso(clock.now() + 2 * HOUR),
      comment: "longer",
      createdBy: "bob",
    });
    expect((await audit([id])).map((a) => a.action)).toEqual(["silence.create", "silence.update"]);
  });

  it("takes an active silence's start sent back to the whole second as the same start", async () => {
    const start = clock.now() + 250;
    clock.set(start);
    const id = await create({
      matchers: [matcher("Seconds")],
      startsAt: iso(start),
      endsAt: iso(start + HOUR),
    });
    clock.advance(10_000);
    const truncated = iso(Math.floor(start / 1000) * 1000);
    const r = await post({
      id,
      matchers: [matcher("Seconds")],
      startsAt: truncated,
      endsAt: iso(start + HOUR),
    });
    expect(r.body).toEqual({ silenceID: id });
    expect((await get(id)).startsAt).toBe(truncated);
  });

  it("replaces an active silence whose matchers change: the old one ends now, the new id is answered", async () => {
    const id = await create({
      matchers: [matcher("Old")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    clock.advance(60_000);
    const before = await get(id);
    const r = await post({
      id,
      matchers: [matcher("New")],
      startsAt: before.startsAt,
      endsAt: before.endsAt,
    });
    expect(r.status).toBe(200);
    const newId = (r.body as { silenceID: string }).silenceID;
    expect(newId).not.toBe(id);
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await get(id)).toMatchObject({
      status: { state: "expired" },
      startsAt: before.startsAt,
      endsAt: iso(clock.now()),
      matchers: [matcher("Old")],
    });
    // A new silence never starts in the past: its start is now.
    expect(await get(newId)).toMatchObject({
      status: { state: "active" },
      startsAt: iso(clock.now()),
      endsAt: before.endsAt,
      matchers: [matcher("New")],
    });
    expect(await audit([id, newId])).toEqual([
      { action: "silence.create", id, details: { comment: "maintenance", createdBy: "alice" } },
      { action: "silence.expire", id, details: { replacedBy: newId } },
      {
        action: "silence.create",
        id: newId,
        details: { comment: "maintenance", createdBy: "alice", replaces: id },
      },
    ]);
  });

  it("replaces an active silence whose start moves, and one whose matchers only change order", async () => {
    const id = await create({
      matchers: [matcher("Start")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    clock.advance(60_000);
    const moved = await post({
      id,
      matchers: [matcher("Start")],
      startsAt: iso(clock.now() - HOUR),
      endsAt: iso(clock.now() + HOUR),
    });
    expect(moved.body).not.toEqual({ silenceID: id });
    expect((await get(id)).status.state).toBe("expired");

    const two = [matcher("Order"), matcher("db1", "instance")];
    const id2 = await create({ matchers: two, startsAt: iso(clock.now()), endsAt: iso(clock.now() + HOUR) });
    const before = await get(id2);
    const reordered = await post({
      id: id2,
      matchers: [...two].reverse(),
      startsAt: before.startsAt,
      endsAt: before.endsAt,
    });
    expect(reordered.body).not.toEqual({ silenceID: id2 });
    expect((await get(id2)).status.state).toBe("expired");
  });

  it("moves a pending silence to later times in place, and replaces it when its start moves into the past", async () => {
    const id = await create({
      matchers: [matcher("Later")],
      startsAt: iso(clock.now() + HOUR),
      endsAt: iso(clock.now() + 2 * HOUR),
    });
    const later = await post({
      id,
      matchers: [matcher("Later")],
      startsAt: iso(clock.now() + 3 * HOUR),
      endsAt: iso(clock.now() + 4 * HOUR),
    });
    expect(later.body).toEqual({ silenceID: id });
    expect(await get(id)).toMatchObject({
      status: { state: "pending" },
      startsAt: iso(clock.now() + 3 * HOUR),
    });

    const past = await post({
      id,
      matchers: [matcher("Later")],
      startsAt: iso(clock.now() - 60_000),
      endsAt: iso(clock.now() + 4 * HOUR),
    });
    const newId = (past.body as { silenceID: string }).silenceID;
    expect(newId).not.toBe(id);
    // Expiring a pending silence sets both its start and its end to now, as Alertmanager does.
    expect(await get(id)).toMatchObject({
      status: { state: "expired" },
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now()),
    });
    expect(await get(newId)).toMatchObject({ status: { state: "active" }, startsAt: iso(clock.now()) });
  });

  it("answers a new id for an expired silence and leaves the expired one as it was", async () => {
    const id = await create({
      matchers: [matcher("Gone")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    clock.advance(1000);
    await t.server.inject({ method: "DELETE", url: `/api/v2/silence/${id}`, headers: t.auth() });
    const expired = await get(id);
    clock.advance(1000);
    const r = await post({
      id,
      matchers: [matcher("Gone")],
      startsAt: expired.startsAt,
      endsAt: iso(clock.now() + HOUR),
    });
    const newId = (r.body as { silenceID: string }).silenceID;
    expect(newId).not.toBe(id);
    expect(await get(id)).toEqual(expired);
    expect((await audit([id, newId])).map((a) => `${a.action} ${a.id === id ? "old" : "new"}`)).toEqual([
      "silence.create old",
      "silence.expire old",
      "silence.create new",
    ]);
  });

  it("mutes with the replacing silence and no longer with the replaced one", async () => {
    await t.runtime.receive([{ labels: { alertname: "Muted", instance: "a" }, annotations: {} }], "api");
    await t.runtime.receive([{ labels: { alertname: "Muted", instance: "b" }, annotations: {} }], "api");
    const id = await create({
      matchers: [matcher("Muted"), matcher("a", "instance")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    clock.advance(1000);
    const before = await get(id);
    const r = await post({
      id,
      matchers: [matcher("Muted"), matcher("b", "instance")],
      startsAt: before.startsAt,
      endsAt: before.endsAt,
    });
    const newId = (r.body as { silenceID: string }).silenceID;
    const alerts = JSON.parse(
      (await t.server.inject({ method: "GET", url: "/api/v2/alerts?filter=alertname%3DMuted" })).body,
    ) as Array<{
      labels: { instance: string };
      status: { silencedBy: string[] };
    }>;
    const by = Object.fromEntries(alerts.map((a) => [a.labels.instance, a.status.silencedBy]));
    expect(by).toEqual({ a: [], b: [newId] });
  });

  it("answers 404 for an id it does not know, and 400 for an end in the past first", async () => {
    const unknown = await post({
      id: "nope",
      matchers: [matcher("X")],
      startsAt: iso(clock.now()),
      endsAt: iso(clock.now() + HOUR),
    });
    expect(unknown.status).toBe(404);
    const past = await post({
      id: "nope",
      matchers: [matcher("X")],
      startsAt: iso(clock.now() - HOUR),
      endsAt: iso(clock.now() - 1000),
    });
    expect(past).toEqual({ status: 400, body: "Failed to create silence: end time can't be in the past" });
  });
});

const run = promisify(execFile);

describe("amtool silence update against Nines (sqlite)", () => {
  let t: AlertingTestApp;
  const dir = mkdtempSync(join(tmpdir(), "nines-am-silence-"));
  const httpConfig = join(dir, "http.yml");
  beforeAll(async () => {
    // Debian's prometheus-alertmanager 0.25 provides amtool; a missing tool fails the suite, never skips it.
    if (spawnSync("amtool", ["--version"], { encoding: "utf8" }).status !== 0)
      throw new Error("amtool is missing: install the Debian package prometheus-alertmanager");
    writeFileSync(httpConfig, `authorization:\n  type: Bearer\n  credentials: ${ADMIN_TOKEN}\n`);
    t = await startAlertingApp("sqlite", { configYaml: amConfigYaml(), anonymousRead: true, listen: true });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const amtool = async (args: string[]) =>
    (
      await run("amtool", [`--alertmanager.url=${t.url}`, `--http.config.file=${httpConfig}`, ...args], {
        encoding: "utf8",
        timeout: 20_000,
      })
    ).stdout.trim();

  it("keeps the id when amtool changes the comment or duration, and answers a new one when it moves the start back", async () => {
    const id = await amtool([
      "silence",
      "add",
      "alertname=Disk",
      "--comment=c",
      "--author=ops",
      "--duration=1h",
    ]);
    // amtool 0.25 prints a pointer for `update -q`; its JSON output carries the id the server answered.
    const update = async (...flags: string[]) =>
      (JSON.parse(await amtool(["silence", "update", id, ...flags, "-o", "json"])) as GettableSilence[])[0]
        ?.id;
    expect(await update("--comment=longer", "--duration=3h")).toBe(id);
    const replaced = await update(`--start=${iso(Date.now() - HOUR).replace(/\.\d+Z$/, "Z")}`);
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
    expect(replaced).not.toBe(id);
    const expired = JSON.parse(
      await amtool(["silence", "query", "--expired", "-o", "json"]),
    ) as GettableSilence[];
    expect(expired.map((s) => s.id)).toContain(id);
    const active = JSON.parse(await amtool(["silence", "query", "-o", "json"])) as GettableSilence[];
    expect(active.map((s) => [s.id, s.comment])).toEqual([[replaced, "longer"]]);
  });
});
