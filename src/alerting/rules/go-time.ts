import { GoStruct, type GoValue, withMethods } from "./go-format.js";

/**
 * Go's time.Time and time.Duration as notification templates use them: `{{ .StartsAt }}` prints
 * `2026-06-01 12:00:00 +0000 UTC`, `{{ .StartsAt.Format "15:04" }}` takes Go's reference-time layouts,
 * `{{ .EndsAt.Sub .StartsAt }}` is a Duration that prints `5m0s`. Times are in UTC, as Nines stores them.
 */

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
// Date.UTC reads years below 100 as 19xx, hence the constant: 0001-01-01T00:00:00Z.
const ZERO_TIME_MS = -62_135_596_800_000;

const p2 = (n: number) => String(n).padStart(2, "0");

// Longest first, as Go's nextStdChunk tries them.
const LAYOUT_TOKEN =
  /January|Jan|Monday|Mon|MST|Z07:00:00|Z070000|Z07:00|Z0700|Z07|-07:00:00|-070000|-07:00|-0700|-07|2006|002|_2|[.,](?:0+|9+)(?!\d)|01|02|03|04|05|06|15|PM|pm|1|2|3|4|5/g;

/** Go's Time.Format for a UTC time given in ms since the epoch. */
export function formatGoTime(ms: number, layout: string): string {
  const d = new Date(ms);
  const hour = d.getUTCHours();
  const nanos = (((ms % 1000) + 1000) % 1000) * 1e6;
  return layout.replace(LAYOUT_TOKEN, (token) => {
    switch (token) {
      case "January":
        return MONTHS[d.getUTCMonth()] ?? "";
      case "Jan":
        return (MONTHS[d.getUTCMonth()] ?? "").slice(0, 3);
      case "Monday":
        return DAYS[d.getUTCDay()] ?? "";
      case "Mon":
        return (DAYS[d.getUTCDay()] ?? "").slice(0, 3);
      case "MST":
        return "UTC";
      case "Z07:00:00":
      case "Z070000":
      case "Z07:00":
      case "Z0700":
      case "Z07":
        return "Z";
      case "-07:00:00":
        return "+00:00:00";
      case "-070000":
        return "+000000";
      case "-07:00":
        return "+00:00";
      case "-0700":
        return "+0000";
      case "-07":
        return "+00";
      case "2006":
        return String(d.getUTCFullYear()).padStart(4, "0");
      case "06":
        return p2(d.getUTCFullYear() % 100);
      case "002": {
        const dayOfYear = Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
        return String(dayOfYear).padStart(3, "0");
      }
      case "01":
        return p2(d.getUTCMonth() + 1);
      case "1":
        return String(d.getUTCMonth() + 1);
      case "02":
        return p2(d.getUTCDate());
      case "_2":
        return String(d.getUTCDate()).padStart(2, " ");
      case "2":
        return String(d.getUTCDate());
      case "15":
        return p2(hour);
      case "03":
        return p2(hour % 12 === 0 ? 12 : hour % 12);
      case "3":
        return String(hour % 12 === 0 ? 12 : hour % 12);
      case "04":
        return p2(d.getUTCMinutes());
      case "4":
        return String(d.getUTCMinutes());
      case "05":
        return p2(d.getUTCSeconds());
      case "5":
        return String(d.getUTCSeconds());
      case "PM":
        return hour >= 12 ? "PM" : "AM";
      case "pm":
        return hour >= 12 ? "pm" : "am";
      default: {
        // .000 (fixed digits) or .999 (trailing zeros trimmed, nothing when zero).
        const digits = String(nanos)
          .padStart(9, "0")
          .slice(0, token.length - 1);
        if (token[1] === "0") return `${token[0]}${digits}`;
        const trimmed = digits.replace(/0+$/, "");
        return trimmed === "" ? "" : `${token[0]}${trimmed}`;
      }
    }
  });
}

/** Go's Duration.String: `1h2m3.5s`, `150ms`, `0s`. */
export function goDurationString(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = `${(rest / 1000).toFixed(3).replace(/\.?0+$/, "")}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

/** A time.Duration value: prints as Go does; Seconds, Minutes, Hours as float64. */
export function goDurationValue(ms: number): GoStruct {
  return withMethods(new GoStruct("time.Duration", new Map()), {
    typeName: "time.Duration",
    methods: {
      String: { arity: 0, fn: () => goDurationString(ms) },
      Seconds: { arity: 0, fn: () => ms / 1000 },
      Minutes: { arity: 0, fn: () => ms / 60_000 },
      Hours: { arity: 0, fn: () => ms / 3_600_000 },
      Milliseconds: { arity: 0, fn: () => BigInt(Math.trunc(ms)) },
    },
  });
}

const TIMES = new WeakMap<object, number>();

function msOf(value: GoValue, method: string): number {
  const ms = typeof value === "object" && value !== null ? TIMES.get(value) : undefined;
  if (ms === undefined) throw new Error(`${method} needs a time.Time`);
  return ms;
}

/**
 * A time.Time value for `ms` since the epoch; 0 is Go's zero time (`0001-01-01 00:00:00 +0000 UTC`), as an
 * alert without an end has in Alertmanager's data.
 */
export function goTimeValue(ms: number): GoStruct {
  const at = ms === 0 ? ZERO_TIME_MS : ms;
  const value: GoStruct = withMethods(new GoStruct("time.Time", new Map()), {
    typeName: "time.Time",
    methods: {
      String: { arity: 0, fn: () => formatGoTime(at, "2006-01-02 15:04:05.999999999 -0700 MST") },
      Format: { arity: 1, fn: ([layout]) => formatGoTime(at, typeof layout === "string" ? layout : "") },
      Unix: { arity: 0, fn: () => BigInt(Math.floor(at / 1000)) },
      UnixMilli: { arity: 0, fn: () => BigInt(at) },
      UTC: { arity: 0, fn: () => value },
      Local: { arity: 0, fn: () => value },
      IsZero: { arity: 0, fn: () => at === ZERO_TIME_MS },
      Sub: { arity: 1, fn: ([other]) => goDurationValue(at - msOf(other, "Sub")) },
      Before: { arity: 1, fn: ([other]) => at < msOf(other, "Before") },
      After: { arity: 1, fn: ([other]) => at > msOf(other, "After") },
      Equal: { arity: 1, fn: ([other]) => at === msOf(other, "Equal") },
    },
  });
  TIMES.set(value, at);
  return value;
}
