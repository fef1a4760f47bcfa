const UNITS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Parses "30s", "5m", "48h", "7d", "1h30m", "250ms" to milliseconds; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  if (!DURATION.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART))
    total += Number(amount) * UNITS[unit as keyof typeof UNITS];
  return total;
}

/** Renders milliseconds the way users write durations, to the minute for long ones: "9d23h59m", "-2h5m", "850ms". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(Math.round(ms));
  if (rest < 1_000) return `${sign}${rest}ms`;
  const parts: string[] = [];
  const long = rest >= UNITS.h;
  for (const unit of ["d", "h", "m", "s"] as const) {
    if (unit === "s" && long) break;
    const size = UNITS[unit];
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) parts.push(`${amount}${unit}`);
  }
  return sign + (parts.length > 0 ? parts.join("") : "0s");
}
