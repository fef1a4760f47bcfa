export type OutputFormat = "table" | "json";

/** Writes rows as an aligned table, or the raw value as JSON when --output json. */
export function print(format: OutputFormat, value: unknown, rows?: Array<Record<string, unknown>>): void {
  if (format === "json" || rows === undefined) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  process.stdout.write(table(rows));
}

export function table(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return "(none)\n";
  const columns = Object.keys(rows[0] ?? {});
  const cell = (v: unknown): string =>
    v === null || v === undefined ? "-" : Array.isArray(v) ? v.join(",") || "-" : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n")}\n`;
}
