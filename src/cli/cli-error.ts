import type { ErrorCode } from "../platform/errors.js";

/** Exit codes of the nines command; documented in docs/cli.md. */
export const EXIT = {
  OK: 0,
  /** The command worked and the answer is "no": a broken audit chain, a diff with changes under --exit-code. */
  NEGATIVE: 1,
  INVALID: 2,
  UNAUTHORIZED: 3,
  NOT_FOUND: 4,
  UNAVAILABLE: 5,
} as const;

export function exitCodeFor(code: ErrorCode | "NETWORK"): number {
  switch (code) {
    case "INVALID_INPUT":
    case "INVALID_JSON":
    case "INVALID_CONFIG":
    case "UNPROCESSABLE":
    case "PAYLOAD_TOO_LARGE":
    case "UNSUPPORTED_MEDIA_TYPE":
    case "METHOD_NOT_ALLOWED":
      return EXIT.INVALID;
    case "UNAUTHENTICATED":
    case "TOKEN_EXPIRED":
    case "FORBIDDEN":
      return EXIT.UNAUTHORIZED;
    case "NOT_FOUND":
    case "CONFLICT":
      return EXIT.NOT_FOUND;
    default:
      return EXIT.UNAVAILABLE;
  }
}

/** An error the CLI reports as one line (plus details such as config problems) and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly lines: string[] = [],
  ) {
    super(message);
  }
}
