import type { Labels, PromqlErrorType, QueryResult, QueryValue } from "../../promql/index.js";

/**
 * A sample value as Prometheus 2.42 writes it in JSON: a string, Go's `strconv.FormatFloat(f, 'f', -1, 64)`
 * (the shortest digits that read back as the same float, never an exponent), and `NaN`, `+Inf`, `-Inf`.
 */
export function formatValue(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (f === Number.POSITIVE_INFINITY) return "+Inf";
  if (f === Number.NEGATIVE_INFINITY) return "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const text = String(f);
  const e = text.indexOf("e");
  if (e === -1) return text;
  // JavaScript also prints the shortest digits, but with an exponent below 1e-6 and from 1e21.
  const sign = text.startsWith("-") ? "-" : "";
  const mantissa = text.slice(sign.length, e);
  const exponent = Number(text.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot === -1 ? mantissa.length : dot) + exponent;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** A timestamp in seconds with its milliseconds, as Prometheus writes it: `1435781451.781`, `1435781451.050`. */
export function formatTimestamp(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  const seconds = Math.trunc(abs / 1000);
  const fraction = abs - seconds * 1000;
  if (fraction === 0) return `${sign}${seconds}`;
  return `${sign}${seconds}.${String(fraction).padStart(3, "0")}`;
}

export function labelsJson(labels: Labels): string {
  let out = "{";
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === undefined) continue;
    if (i > 0) out += ",";
    out += `${JSON.stringify(l.name)}:${JSON.stringify(l.value)}`;
  }
  return `${out}}`;
}

function pointJson(t: number, f: number): string {
  return `[${formatTimestamp(t)},"${formatValue(f)}"]`;
}

/** `{"resultType": …, "result": …}` of a query answer, written by hand: fast, and exact to the byte. */
export function queryDataJson(value: QueryValue): string {
  switch (value.type) {
    case "scalar":
      return `{"resultType":"scalar","result":${pointJson(value.t, value.f)}}`;
    case "string":
      return `{"resultType":"string","result":[${formatTimestamp(value.t)},${JSON.stringify(value.value)}]}`;
    case "vector": {
      const parts = value.samples.map(
        (s) => `{"metric":${labelsJson(s.labels)},"value":${pointJson(s.t, s.f)}}`,
      );
      return `{"resultType":"vector","result":[${parts.join(",")}]}`;
    }
    case "matrix": {
      const parts = value.series.map((s) => {
        const points = s.points.map((p) => pointJson(p.t, p.f));
        return `{"metric":${labelsJson(s.labels)},"values":[${points.join(",")}]}`;
      });
      return `{"resultType":"matrix","result":[${parts.join(",")}]}`;
    }
  }
}

/** The success envelope: `{"status":"success","data":…,"warnings":[…],"infos":[…]}`. */
export function successJson(
  dataJson: string,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): string {
  let out = `{"status":"success","data":${dataJson}`;
  if (warnings.length > 0) out += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length > 0) out += `,"infos":${JSON.stringify(infos)}`;
  return `${out}}`;
}

export function queryResultJson(result: QueryResult): string {
  return successJson(queryDataJson(result.value), result.warnings, result.infos);
}

/** Prometheus's `errorType` values and the HTTP status each is answered with. */
export type ApiErrorType = PromqlErrorType | "internal";

const STATUS: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  // Too many samples is an execution error in Prometheus's envelope.
  too_many_samples: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
};

export interface ApiError {
  status: number;
  body: string;
}

/** The error envelope: `{"status":"error","errorType":"bad_data","error":"…"}`. */
export function errorJson(type: ApiErrorType, message: string): ApiError {
  const errorType = type === "too_many_samples" ? "execution" : type;
  return {
    status: STATUS[type],
    body: JSON.stringify({ status: "error", errorType, error: message }),
  };
}
