import { ZodError } from "zod";
import { type ErrorCode, isNinesError, NinesError } from "../platform/errors.js";

/** Fastify's own error codes, mapped to ours so clients see one stable vocabulary. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "INVALID_JSON",
  FST_ERR_CTP_BODY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "INVALID_INPUT",
  FST_ERR_VALIDATION: "INVALID_INPUT",
};

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  INVALID_JSON: "The request body is not valid JSON.",
  PAYLOAD_TOO_LARGE: "The request body is larger than this endpoint accepts.",
  UNSUPPORTED_MEDIA_TYPE: "This endpoint does not accept that Content-Type; send application/json.",
};

/** Turns anything thrown while answering a request into a NinesError; unknown errors become INTERNAL. */
export function toNinesError(error: unknown): NinesError {
  if (isNinesError(error)) return error;
  if (error instanceof ZodError) {
    const problems = error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
    const first = problems[0];
    const text = first ? `${first.path || "body"}: ${first.message}` : "invalid input";
    return new NinesError(
      "INVALID_INPUT",
      `Invalid request: ${text}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}.`,
      {
        details: { problems },
      },
    );
  }
  const fastifyCode = (error as { code?: unknown }).code;
  if (typeof fastifyCode === "string" && fastifyCode in FASTIFY_CODES) {
    const code = FASTIFY_CODES[fastifyCode] as ErrorCode;
    return new NinesError(code, MESSAGES[code] ?? (error as Error).message, { cause: error });
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new NinesError("INVALID_INPUT", (error as Error).message, { cause: error });
  }
  return new NinesError(
    "INTERNAL",
    "Something went wrong on the server; the request id in this answer finds it in the log.",
    {
      cause: error,
    },
  );
}
