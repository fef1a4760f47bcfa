import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConfigProblem } from "../config/index.js";
import type { ErrorCode } from "../platform/errors.js";
import { CliError, exitCodeFor } from "./cli-error.js";

export const DEFAULT_URL = "http://127.0.0.1:9999";

export interface ClientOptions {
  server?: string;
  token?: string;
}

/** Token from the flag, else NINES_TOKEN, else the admin token file a local `nines serve` wrote. */
export function resolveToken(options: ClientOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (options.token) return options.token;
  if (env.NINES_TOKEN) return env.NINES_TOKEN;
  const file = join(resolve(env.NINES_DATA_DIR ?? "./data"), "admin-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim() || undefined;
  return undefined;
}

/** A thin client of the Nines JSON API that turns error answers into CliErrors. */
export class NinesClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions, env: NodeJS.ProcessEnv = process.env) {
    this.baseUrl = (options.server ?? env.NINES_URL ?? DEFAULT_URL).replace(/\/+$/, "");
    this.token = resolveToken(options, env);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(
        `cannot reach Nines at ${this.baseUrl} (${reason}); is \`nines serve\` running? Set --server or NINES_URL.`,
        exitCodeFor("NETWORK"),
      );
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === "" ? {} : JSON.parse(text);
    } catch {
      throw new CliError(
        `${this.baseUrl} answered ${response.status} with something that is not JSON; is it a Nines server?`,
        exitCodeFor("INTERNAL"),
      );
    }
    if (!response.ok) {
      const error = json as {
        code?: ErrorCode;
        message?: string;
        requestId?: string;
        details?: { problems?: ConfigProblem[] };
      };
      const code = error.code ?? "INTERNAL";
      const problems = error.details?.problems ?? [];
      // Loaded only on this path: the CLI starts faster when it imports no domain code up front.
      const { formatProblem } = await import("../config/problems.js");
      throw new CliError(
        `${code}: ${error.message ?? `HTTP ${response.status}`}`,
        exitCodeFor(code),
        problems.map(formatProblem),
      );
    }
    return json as T;
  }
}
