import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compiledRows } from "../src/platform/db/compiled-rows.js";
import type { OpenedDatabase } from "../src/platform/db/dialect.js";
import { DIALECTS, newTestDatabase, openMigrated, type TestDatabase } from "./support/databases.js";

interface Item {
  fp: string;
  source: string;
}

describe.each(DIALECTS)("compiledRows on %s", (dialect) => {
  let database: TestDatabase;
  let opened: OpenedDatabase;
  beforeAll(async () => {
    database = await newTestDatabase(dialect);
    opened = await openMigrated(database);
  });
  afterAll(async () => {
    await opened.db.destroy();
    await database.drop();
  });

  const row = (item: Item) => ({
    fingerprint: item.fp,
    labels: "{}",
    annotations: "{}",
    starts_at: 0,
    ends_at: null,
    generator_url: null,
    source: item.source,
    received_at: 7,
    updated_at: 7,
  });
  const build = (db: OpenedDatabase["db"], rows: ReturnType<typeof row>[]) =>
    db.insertInto("alerts").values(rows);

  it("refuses rows whose values are not the built statement's parameters in order", () => {
    // This statement numbers the rows' starts_at, so the rows it was given no longer say what it writes.
    const numbering = compiledRows(row, (db, rows) =>
      db.insertInto("alerts").values(rows.map((r, i) => ({ ...r, starts_at: i }))),
    );
    expect(() =>
      numbering(opened.db, [
        { fp: "x1", source: "api" },
        { fp: "x2", source: "api" },
      ]),
    ).toThrow(/not the statement's parameters/);
    // A row whose columns come in another order than the first row's (which set the statement's).
    const mixed = compiledRows((item: Item) => {
      const { source, ...rest } = row(item);
      return item.fp === "x4" ? { source, ...rest } : { ...rest, source };
    }, build);
    expect(() =>
      mixed(opened.db, [
        { fp: "x3", source: "api" },
        { fp: "x4", source: "rules" },
      ]),
    ).toThrow(/not the statement's parameters/);
  });

  it("runs what Kysely builds, compiled once per row count, in transactions too", async () => {
    const insert = compiledRows(row, build);
    await opened.db.executeQuery(insert(opened.db, [{ fp: "a", source: "api" }]));
    await opened.db.transaction().execute(async (trx) => {
      await trx.executeQuery(insert(trx, [{ fp: "b", source: "rules" }]));
      await trx.executeQuery(insert(trx, [{ fp: "c", source: "slo" }]));
    });
    const rows = await opened.db
      .selectFrom("alerts")
      .select(["fingerprint", "source", "starts_at"])
      .where("fingerprint", "in", ["a", "b", "c"])
      .orderBy("fingerprint")
      .execute();
    expect(rows.map((r) => [r.fingerprint, r.source, Number(r.starts_at)])).toEqual([
      ["a", "api", 0],
      ["b", "rules", 0],
      ["c", "slo", 0],
    ]);
  });
});
