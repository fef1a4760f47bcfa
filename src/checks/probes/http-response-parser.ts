/**
 * Node's default limit for a response's status line and headers together (--max-http-header-size): a target
 * that sends more is broken or hostile, and the probe must not buffer it.
 */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line longer than this (extensions included) is not HTTP. */
const MAX_CHUNK_LINE_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
const HTTP_PREFIX = Buffer.from("HTTP/", "latin1");
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?:[ \t].*)?$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/;

export interface ResponseHead {
  status: number;
  /** "1.1" or "1.0". */
  httpVersion: string;
  /** Lower-cased names; repeated headers joined with ", " (set-cookie with "\n"), as Node's client joins them. */
  headers: Record<string, string>;
}

/** What `push` and `end` tell the caller. */
export type ParseState =
  /** Give it more bytes. */
  | "more"
  /** The final response is complete; anything after it is ignored. */
  | "complete"
  /** The body passed the limit: `body()` holds its first `bodyLimit` bytes. */
  | "too_large"
  /** Not HTTP, or broken HTTP: `error` says what. */
  | "invalid";

type BodyFraming =
  | { kind: "none" }
  | { kind: "length"; remaining: number }
  | { kind: "close" }
  | { kind: "chunked"; step: "size" | "data" | "data_end" | "trailer"; remaining: number };

/**
 * An incremental parser for one HTTP/1.x response (informational 1xx answers before it are skipped), with
 * limits: the head may not pass MAX_HEAD_BYTES and the body is kept up to `bodyLimit` bytes. Framing follows
 * RFC 9112 section 6.3: no body for HEAD, 1xx, 204 and 304; chunked transfer coding; content-length; else the
 * body runs until the connection closes. Bytes may arrive split anywhere.
 */
export class HttpResponseParser {
  head: ResponseHead | null = null;
  /** A content-length the response announced, for the reason when it is over the limit. */
  declaredLength: number | null = null;
  error = "";
  /** Body bytes kept (at most the limit). */
  bodyBytes = 0;
  private readonly chunks: Buffer[] = [];
  /** Head bytes received so far while the head is incomplete, or a partial chunk-size or trailer line. */
  private pending: Buffer | null = null;
  private framing: BodyFraming = { kind: "none" };
  private state: ParseState = "more";

  constructor(
    private readonly method: string,
    private readonly bodyLimit: number,
  ) {}

  /** The body bytes kept so far, as one buffer. */
  body(): Buffer {
    return this.chunks.length === 1 && this.chunks[0] ? this.chunks[0] : Buffer.concat(this.chunks);
  }

  push(data: Buffer): ParseState {
    let rest: Buffer | null = data;
    while (this.state === "more" && rest !== null && rest.length > 0) {
      rest = this.head === null ? this.readHead(rest) : this.readBody(rest);
    }
    return this.state;
  }

  /** The connection ended: a body that runs until close is now complete; anything else was cut short. */
  end(): ParseState | "incomplete_head" | "incomplete_body" {
    if (this.state !== "more") return this.state;
    if (this.head === null) return "incomplete_head";
    if (this.framing.kind === "close") return this.settle("complete");
    return "incomplete_body";
  }

  /** Whether any byte of a response has arrived (to tell a silent target from one that stopped mid-head). */
  get started(): boolean {
    return this.head !== null || this.pending !== null;
  }

  private settle(state: ParseState, error = ""): ParseState {
    this.state = state;
    this.error = error;
    return state;
  }

  private readHead(data: Buffer): Buffer | null {
    const buffer: Buffer = this.pending ? Buffer.concat([this.pending, data]) : data;
    // Not HTTP at all (an SSH banner, TLS alert bytes): say so at once rather than wait for a blank line.
    const prefix = Math.min(buffer.length, HTTP_PREFIX.length);
    if (buffer.compare(HTTP_PREFIX, 0, prefix, 0, prefix) !== 0) {
      this.settle("invalid", `expected "HTTP/", got ${JSON.stringify(buffer.toString("latin1", 0, 16))}`);
      return null;
    }
    const end = headEnd(buffer, this.pending?.length ?? 0);
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES) {
        this.settle("invalid", `header longer than ${MAX_HEAD_BYTES} bytes`);
        return null;
      }
      this.pending = buffer === data ? Buffer.from(data) : buffer;
      return null;
    }
    if (end > MAX_HEAD_BYTES) {
      this.settle("invalid", `header longer than ${MAX_HEAD_BYTES} bytes`);
      return null;
    }
    this.pending = null;
    const parsed = parseHead(buffer.toString("latin1", 0, end));
    if (typeof parsed === "string") {
      this.settle("invalid", parsed);
      return null;
    }
    const rest = buffer.subarray(end);
    // 100 Continue, 103 Early Hints: the real answer follows.
    if (parsed.status < 200 && parsed.status !== 101) return rest;
    this.head = parsed;
    const framing = this.framingOf(parsed);
    if (typeof framing === "string") {
      this.settle("invalid", framing);
      return null;
    }
    this.framing = framing;
    if (framing.kind === "none" || (framing.kind === "length" && framing.remaining === 0)) {
      this.settle("complete");
      return null;
    }
    if (framing.kind === "length" && framing.remaining > this.bodyLimit) {
      this.settle("too_large");
      return null;
    }
    return rest;
  }

  private framingOf(head: ResponseHead): BodyFraming | string {
    const { status, headers } = head;
    if (this.method === "HEAD" || status === 101 || status === 204 || status === 304) return { kind: "none" };
    const coding = headers["transfer-encoding"];
    if (coding !== undefined) {
      const last = coding.split(",").at(-1)?.trim().toLowerCase();
      // A body whose last coding is not chunked can only end with the connection (RFC 9112 6.3 item 4).
      return last === "chunked" ? { kind: "chunked", step: "size", remaining: 0 } : { kind: "close" };
    }
    const length = headers["content-length"];
    if (length === undefined) return { kind: "close" };
    // "5, 5" (a repeated header) is one length; differing values are an attack or a bug.
    const values = new Set(length.split(",").map((v) => v.trim()));
    const [value] = values;
    if (values.size !== 1 || value === undefined || !/^\d{1,15}$/.test(value))
      return `invalid content-length ${JSON.stringify(length)}`;
    this.declaredLength = Number(value);
    return { kind: "length", remaining: this.declaredLength };
  }

  private readBody(data: Buffer): Buffer | null {
    const framing = this.framing;
    if (framing.kind === "length") {
      const take = Math.min(framing.remaining, data.length);
      framing.remaining -= take;
      if (!this.keep(data.subarray(0, take))) return null;
      if (framing.remaining === 0) this.settle("complete");
      return null;
    }
    if (framing.kind === "close") {
      this.keep(data);
      return null;
    }
    if (framing.kind === "chunked") return this.readChunked(framing, data);
    this.settle("complete");
    return null;
  }

  private readChunked(framing: Extract<BodyFraming, { kind: "chunked" }>, data: Buffer): Buffer | null {
    if (framing.step === "data") {
      const take = Math.min(framing.remaining, data.length);
      framing.remaining -= take;
      if (!this.keep(data.subarray(0, take))) return null;
      if (framing.remaining === 0) framing.step = "data_end";
      return data.subarray(take);
    }
    const line = this.readLine(data);
    if (line === null) return null;
    const { text, rest } = line;
    if (framing.step === "data_end") {
      if (text !== "") this.settle("invalid", "chunk data longer than its size");
      else framing.step = "size";
      return rest;
    }
    if (framing.step === "trailer") {
      if (text === "") this.settle("complete");
      return rest;
    }
    const size = CHUNK_SIZE.exec(text);
    if (!size?.[1]) {
      this.settle("invalid", `invalid chunk size line ${JSON.stringify(text.slice(0, 40))}`);
      return null;
    }
    framing.remaining = Number.parseInt(size[1], 16);
    framing.step = framing.remaining === 0 ? "trailer" : "data";
    return rest;
  }

  /** One CRLF- (or LF-) terminated line, buffered across pushes; null until it is complete. */
  private readLine(data: Buffer): { text: string; rest: Buffer } | null {
    const newline = data.indexOf(LF);
    if (newline < 0) {
      this.pending = this.pending ? Buffer.concat([this.pending, data]) : Buffer.from(data);
      if (this.pending.length > MAX_CHUNK_LINE_BYTES) this.settle("invalid", "chunk size line too long");
      return null;
    }
    const line = this.pending
      ? Buffer.concat([this.pending, data.subarray(0, newline)])
      : data.subarray(0, newline);
    this.pending = null;
    const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
    return { text: line.toString("latin1", 0, length), rest: data.subarray(newline + 1) };
  }

  /** Keeps body bytes up to the limit; false (and "too_large") once the limit is passed. */
  private keep(bytes: Buffer): boolean {
    if (bytes.length === 0) return true;
    const room = this.bodyLimit - this.bodyBytes;
    if (bytes.length > room) {
      if (room > 0) this.chunks.push(bytes.subarray(0, room));
      this.bodyBytes = this.bodyLimit;
      this.settle("too_large");
      return false;
    }
    this.chunks.push(bytes);
    this.bodyBytes += bytes.length;
    return true;
  }
}

/** Index just past the blank line that ends the head (CRLF CRLF, or bare LF LF as lenient clients accept). */
function headEnd(buffer: Buffer, from: number): number {
  // The terminator may straddle the previous push: look back three bytes.
  let at = buffer.indexOf(LF, Math.max(0, from - 3));
  while (at >= 0) {
    const next = buffer[at + 1];
    if (next === LF) return at + 2;
    if (next === CR && buffer[at + 2] === LF) return at + 3;
    at = buffer.indexOf(LF, at + 1);
  }
  return -1;
}

/** The status line and header fields; a string says why they are not HTTP. */
function parseHead(text: string): ResponseHead | string {
  const lines = text.split("\n");
  const statusLine = trimCr(lines[0] ?? "");
  const status = STATUS_LINE.exec(statusLine);
  if (!status?.[1] || !status[2]) return `invalid status line ${JSON.stringify(statusLine.slice(0, 60))}`;
  const headers: Record<string, string> = Object.create(null);
  let last: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = trimCr(lines[i] ?? "");
    if (line === "") continue;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      // Obsolete line folding (RFC 9112 5.2): a user agent may replace it with a space.
      if (last === null) return "header continuation line without a header";
      headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!HEADER_NAME.test(name)) return `invalid header line ${JSON.stringify(line.slice(0, 60))}`;
    const value = line.slice(colon + 1).trim();
    if (invalidFieldValue(value)) return `invalid character in header ${name}`;
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] =
      previous === undefined ? value : `${previous}${key === "set-cookie" ? "\n" : ", "}${value}`;
    last = key;
  }
  return { status: Number(status[2]), httpVersion: `1.${status[1]}`, headers };
}

/** Header values may carry tabs and obs-text (0x80-0xff), never control characters or wider ones. */
export function invalidFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) return true;
  }
  return false;
}

function trimCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
