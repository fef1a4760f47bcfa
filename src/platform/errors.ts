/**
 * One family of errors for the whole code base. Each has a stable `code` that clients can rely on, and a
 * message that tells the user what to do. Transports map codes to their own shape in one place each
 * (HTTP status and body in src/http, exit code and one line in src/cli).
 */

export const ERROR_CODES = {
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  UNAUTHENTICATED: 401,
  TOKEN_EXPIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_CONFIG: 422,
  UNPROCESSABLE: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface NinesErrorOptions {
  cause?: unknown;
  /** Structured detail for clients: per-field problems, config errors with positions, … */
  details?: unknown;
}

export class NinesError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: NinesErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NinesError";
    this.code = code;
    this.details = options.details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export function isNinesError(value: unknown): value is NinesError {
  return value instanceof NinesError;
}

export const notFound = (what: string, name: string): NinesError =>
  new NinesError("NOT_FOUND", `${what} "${name}" does not exist. List them to see the names that do.`);
