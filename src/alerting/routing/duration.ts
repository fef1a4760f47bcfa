/**
 * Prometheus's model.Duration, which Alertmanager's config uses: units y w d h m s ms, largest first, each
 * at most once ("1h30m"), or "0". A year is 365 days and a week 7.
 */
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Milliseconds, or an error message in Prometheus's words. */
export function parseModelDuration(text: string): number | { error: string } {
  if (text === "") return { error: "empty duration string" };
  if (text === "0") return 0;
  const m = DURATION.exec(text);
  if (!m) return { error: `not a valid duration string: "${text}"` };
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * (UNIT_MS[i] ?? 0);
  }
  return ms;
}

/** Formats milliseconds as Prometheus does ("1h30m", "0s"). */
export function formatModelDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  const units = ["y", "w", "d", "h", "m", "s", "ms"];
  for (let i = 0; i < UNIT_MS.length; i++) {
    const size = UNIT_MS[i] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${units[i]}`;
      rest -= n * size;
    }
  }
  return out;
}
