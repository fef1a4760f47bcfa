import { NinesError } from "../platform/errors.js";
import type { PosRange } from "./parse/ast.js";

/**
 * Prometheus's error classes for the query API (`errorType` in its JSON envelope). A later HTTP layer maps
 * them one to one; `toNinesError` maps them onto the platform's error family for the other transports.
 */
export type PromqlErrorType = "bad_data" | "execution" | "timeout" | "canceled" | "too_many_samples";

export class PromqlError extends Error {
  readonly type: PromqlErrorType;
  readonly pos: PosRange | undefined;

  constructor(type: PromqlErrorType, message: string, pos?: PosRange) {
    super(message);
    this.name = "PromqlError";
    this.type = type;
    this.pos = pos;
  }
}

/** A parse or type error, rendered as Prometheus does: `1:5: parse error: unexpected …`. */
export function parseError(query: string, pos: PosRange, message: string): PromqlError {
  const before = query.slice(0, pos.start);
  const line = before.split("\n").length;
  const col = pos.start - before.lastIndexOf("\n");
  return new PromqlError("bad_data", `${line}:${col}: parse error: ${message}`, pos);
}

export function executionError(message: string): PromqlError {
  return new PromqlError("execution", message);
}

export function isPromqlError(value: unknown): value is PromqlError {
  return value instanceof PromqlError;
}

const NINES_CODES = {
  bad_data: "INVALID_INPUT",
  execution: "UNPROCESSABLE",
  timeout: "TIMEOUT",
  canceled: "TIMEOUT",
  too_many_samples: "UNPROCESSABLE",
} as const;

export function toNinesError(err: PromqlError): NinesError {
  return new NinesError(NINES_CODES[err.type], err.message, { cause: err });
}
