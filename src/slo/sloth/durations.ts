const UNITS: ReadonlyArray<readonly [string, number, boolean]> = [
  ["y", 365 * 86_400_000, true],
  ["w", 7 * 86_400_000, true],
  ["d", 86_400_000, false],
  ["h", 3_600_000, false],
  ["m", 60_000, false],
  ["s", 1000, false],
  ["ms", 1, false],
];

/** A duration as Prometheus prints it; Sloth names its rules (ratio_rate30d) with it. */
export { formatPromDuration } from "../../promql/index.js";

/** A duration in the units Nines config accepts (d, h, m, s, ms), e.g. "1d", "1h30m". */
export function formatNinesDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size, exact] of UNITS) {
    if (exact) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
