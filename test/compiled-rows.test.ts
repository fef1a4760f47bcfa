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

  // starts_at numbers the rows, which a values function that writes 0 for every row gets wrong.
  const build = (db: OpenedDatabase["db"], items: readonly Item[]) =>
    db.insertInto("alerts").values(
      items.map((item, i) => ({
        fingerprint: item.fp,
        labels: "{}",
        annotations: "{}",
        starts_at: i,
        ends_at: null,
        generator_url: null,
        source: item.source,
        received_at: 7,
        updated_at: 7,
      })),
    );
  const valuesAt = (starts: (item: Item) => number) => (item: Item) => [
    item.fp,
    "{}",
    "{}",
    starts(item),
    null,
    null,
    item.source,
    7,
    7,
  ];

  it("refuses values that are not the built statement's parameters in order", () => {
    const insert = compiledRows<Item>(
      build,
      valuesAt(() => 0),
    );
    expect(() =>
      insert(opened.db, [
        { fp: "x1", source: "api" },
        { fp: "x2", source: "api" },
      ]),
    ).toThrow(/not the statement's parameters/);
  });

  it("runs what Kysely builds, compiled once per row count, in transactions too", async () => {
    const insert = compiledRows<Item>(
      build,
      valuesAt(() => 0),
    );
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
