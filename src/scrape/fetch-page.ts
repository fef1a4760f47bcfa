import * as http from "node:http";
import * as https from "node:https";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** A scrape that could not get a page; `message` is the reason users see. */
export class ScrapeFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScrapeFailure";
  }
}

export interface FetchOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Largest body, after gzip decoding, in bytes; 0 for no limit. */
  bodyLimit: number;
  insecureSkipVerify: boolean;
  signal?: AbortSignal;
}

export interface FetchedPage {
  contentType: string | undefined;
  body: string;
  bytes: number;
}

/**
 * GETs one page as a scrape does: a hard time limit for the whole exchange, a non-2xx status as a failure,
 * gzip decoded on the fly, and the body size counted as it streams, so an oversized page is cut off without
 * ever being held in memory.
 */
export function fetchPage(url: URL, options: FetchOptions): Promise<FetchedPage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error: Error | null, page?: FetchedPage) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (error !== null) {
        req.destroy();
        reject(error);
      } else if (page !== undefined) resolve(page);
    };
    const module = url.protocol === "https:" ? https : http;
    const req = module.request(
      url,
      {
        method: "GET",
        headers: options.headers,
        ...(url.protocol === "https:" ? { rejectUnauthorized: !options.insecureSkipVerify } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          done(new ScrapeFailure(`server returned HTTP status ${status} ${res.statusMessage ?? ""}`.trim()));
          return;
        }
        const declared = Number(res.headers["content-length"]);
        const encoding = (res.headers["content-encoding"] ?? "identity").toLowerCase();
        if (options.bodyLimit > 0 && encoding === "identity" && declared > options.bodyLimit) {
          done(bodyTooLarge(options.bodyLimit));
          return;
        }
        let stream: Readable = res;
        if (encoding === "gzip" || encoding === "x-gzip") {
          const gunzip = createGunzip();
          res.on("error", (error) => done(new ScrapeFailure(`reading the response: ${error.message}`)));
          stream = res.pipe(gunzip);
        } else if (encoding !== "identity") {
          done(new ScrapeFailure(`unsupported Content-Encoding ${encoding}`));
          return;
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        stream.on("data", (chunk: Buffer) => {
          bytes += chunk.length;
          if (options.bodyLimit > 0 && bytes > options.bodyLimit) {
            done(bodyTooLarge(options.bodyLimit));
            stream.destroy();
            return;
          }
          chunks.push(chunk);
        });
        stream.on("end", () =>
          done(null, {
            contentType: res.headers["content-type"],
            body: Buffer.concat(chunks).toString("utf8"),
            bytes,
          }),
        );
        stream.on("error", (error) => done(new ScrapeFailure(`reading the response: ${error.message}`)));
        res.on("aborted", () => done(new ScrapeFailure("the server closed the connection mid-response")));
      },
    );
    const timer = setTimeout(
      () => done(new ScrapeFailure(`scrape timed out after ${options.timeoutMs / 1000}s`)),
      options.timeoutMs,
    );
    const onAbort = () => done(new ScrapeFailure("scrape cancelled"));
    options.signal?.addEventListener("abort", onAbort);
    req.on("error", (error) => done(new ScrapeFailure(error.message)));
    req.end();
  });
}

function bodyTooLarge(limit: number): ScrapeFailure {
  return new ScrapeFailure(`response is larger than the body size limit of ${limit} bytes`);
}
