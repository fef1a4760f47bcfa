import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import type { Schema } from "./schema.js";

/**
 * A multi-row statement (an upsert of many rows, say) compiled once per row count and database dialect, then
 * run with new parameters. Kysely otherwise builds, freezes and compiles a node per value on every call:
 * for the alert intake's 100-row upserts, about as much CPU as SQLite spent running them.
 *
 * `build` makes the statement with Kysely as usual; `values` lists one row's parameters in the order the
 * compiled statement takes them. The first compilation for each row count checks that order against
 * Kysely's own parameters and throws when they differ, so a column added to one and not the other fails at
 * once instead of writing values into the wrong columns.
 */
export function compiledRows<Row>(
  build: (db: Kysely<Schema>, rows: readonly Row[]) => Compilable,
  values: (row: Row) => readonly unknown[],
): (db: Kysely<Schema>, rows: readonly Row[]) => CompiledQuery {
  // By adapter: the SQL text differs between SQLite and PostgreSQL (placeholders, quoting). A transaction
  // shares its database's adapter, so every transaction hits the same entries.
  const sqlByAdapter = new WeakMap<object, Map<number, string>>();
  return (db, rows) => {
    const parameters: unknown[] = [];
    for (const row of rows) for (const v of values(row)) parameters.push(v);
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
          `compiledRows: the values given (${parameters.length}) are not the statement's parameters (${compiled.parameters.length}) in order`,
        );
      sql = compiled.sql;
      byCount.set(rows.length, sql);
    }
    return CompiledQuery.raw(sql, parameters);
  };
}
