import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import type { Schema } from "./schema.js";

/**
 * A multi-row statement (an upsert of many rows, say) compiled once per row count and database dialect, then
 * run with new parameters. Kysely otherwise builds, freezes and compiles a node per value on every call:
 * for the alert intake's 100-row upserts, about as much CPU as SQLite spent running them.
 *
 * `toRow` turns an item into the row `build` passes to Kysely, its columns in one order for every item; the
 * parameters are the rows' values in that order. The first compilation for each row count checks them
 * against Kysely's own parameters and throws when they differ, so a row whose columns come in another order
 * fails at once instead of writing values into the wrong columns.
 */
export function compiledRows<Item, Row extends object>(
  toRow: (item: Item) => Row,
  build: (db: Kysely<Schema>, rows: Row[]) => Compilable,
): (db: Kysely<Schema>, items: readonly Item[]) => CompiledQuery {
  // By adapter: the SQL text differs between SQLite and PostgreSQL (placeholders, quoting). A transaction
  // shares its database's adapter, so every transaction hits the same entries.
  const sqlByAdapter = new WeakMap<object, Map<number, string>>();
  return (db, items) => {
    const rows = items.map(toRow);
    const parameters: unknown[] = [];
    for (const row of rows) for (const v of Object.values(row)) parameters.push(v);
    const adapter = db.getExecutor().adapter;
    let byCount = sqlByAdapter.get(adapter);
    if (byCount === undefined) {
      byCount = new Map();
      sqlByAdapter.set(adapter, byCount);
    }
    let sql = byCount.get(rows.length);
    if (sql === undefined) {
      const compiled = build(db, rows).compile();
      const same =
        compiled.parameters.length === parameters.length &&
        compiled.parameters.every((p, i) => Object.is(p, parameters[i]));
      if (!same)
        throw new Error(
          `compiledRows: the rows' values (${parameters.length}) are not the statement's parameters (${compiled.parameters.length}) in order`,
        );
      sql = compiled.sql;
      byCount.set(rows.length, sql);
    }
    return CompiledQuery.raw(sql, parameters);
  };
}
