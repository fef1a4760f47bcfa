import { describe, expect, it } from "vitest";
import { HttpResponseParser, MAX_HEAD_BYTES, type ParseState } from "./http-response-parser.js";

/** Feeds `text` in pieces of `step` bytes and returns the last state. */
function feed(
  parser: HttpResponseParser,
  text: string | Buffer,
  step = Number.POSITIVE_INFINITY,
): ParseState {
  const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text;
  let state: ParseState = "more";
  for (let i = 0; i < bytes.length && state === "more"; i += step) {
    state = parser.push(bytes.subarray(i, Math.min(bytes.length, i + step)));
  }
  return state;
}

const OK =
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\nX-Many: 1\r\n" +
  "set-cookie: b=2\r\nx-many: 2\r\nContent-Length: 5\r\n\r\nhello";

describe("http response parser", () => {
  it("reads status, headers (lower-cased, repeats joined) and a content-length body, however the bytes are split", () => {
    for (const step of [1, 2, 3, 7, 1000]) {
      const parser = new HttpResponseParser("GET", 1000);
      expect(feed(parser, OK, step)).toBe("complete");
      expect(parser.head).toEqual({
        status: 200,
        httpVersion: "1.1",
        headers: {
          "content-type": "text/plain",
          "set-cookie": "a=1\nb=2",
          "x-many": "1, 2",
          "content-length": "5",
        },
      });
      expect(parser.body().toString()).toBe("hello");
    }
  });

  it("decodes a chunked body with extensions and trailers, however the bytes are split", () => {
    const text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nignored";
    for (const step of [1, 2, 5, 1000]) {
      const parser = new HttpResponseParser("GET", 1000);
      expect(feed(parser, text, step)).toBe("complete");
      expect(parser.body().toString()).toBe("hello 0123456789");
    }
  });

  it("skips 100 Continue and 103 Early Hints and reads the answer after them", () => {
    const parser = new HttpResponseParser("POST", 1000);
    const text =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" +
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    expect(feed(parser, text)).toBe("complete");
    expect(parser.head?.status).toBe(201);
    expect(parser.body().toString()).toBe("ok");
  });

  it("expects no body after HEAD, 204 and 304, whatever content-length says", () => {
    const head = new HttpResponseParser("HEAD", 1000);
    expect(feed(head, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")).toBe("complete");
    for (const status of [204, 304]) {
      const parser = new HttpResponseParser("GET", 1000);
      expect(feed(parser, `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`)).toBe("complete");
      expect(parser.bodyBytes).toBe(0);
    }
  });

  it("reads a body without length or chunking until the connection closes", () => {
    const parser = new HttpResponseParser("GET", 1000);
    expect(feed(parser, "HTTP/1.0 200 OK\nServer: old\n\nuntil the end")).toBe("more");
    expect(parser.end()).toBe("complete");
    expect(parser.head?.httpVersion).toBe("1.0");
    expect(parser.body().toString()).toBe("until the end");
  });

  it("tells a response cut short in the head or the body from a complete one", () => {
    const silent = new HttpResponseParser("GET", 1000);
    expect(silent.end()).toBe("incomplete_head");
    expect(silent.started).toBe(false);
    const inHead = new HttpResponseParser("GET", 1000);
    feed(inHead, "HTTP/1.1 200 OK\r\nContent-");
    expect(inHead.end()).toBe("incomplete_head");
    expect(inHead.started).toBe(true);
    const inBody = new HttpResponseParser("GET", 1000);
    feed(inBody, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    expect(inBody.end()).toBe("incomplete_body");
    const inChunk = new HttpResponseParser("GET", 1000);
    feed(inChunk, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    expect(inChunk.end()).toBe("incomplete_body");
  });

  it("keeps exactly the limit of a longer body and says it is too large", () => {
    const chunked = new HttpResponseParser("GET", 8);
    const text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n";
    expect(feed(chunked, text, 3)).toBe("too_large");
    expect(chunked.body().toString()).toBe("abcdefgh");
    expect(chunked.bodyBytes).toBe(8);

    const announced = new HttpResponseParser("GET", 8);
    expect(feed(announced, "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\nabc")).toBe("too_large");
    expect(announced.declaredLength).toBe(1024 ** 3);
  });

  it("rejects what is not HTTP, with a reason", () => {
    const cases: Array<[string, RegExp]> = [
      ["SSH-2.0-OpenSSH_9.6\r\n", /^expected "HTTP\/", got "SSH-2.0/],
      ["\x15\x03\x03\x00\x02\x02\x46", /^expected "HTTP\/"/],
      ["HTTP/1.1 2000 OK\r\n\r\n", /^invalid status line/],
      ["HTTP/2 200\r\n\r\n", /^invalid status line/],
      ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", /^invalid header line/],
      ["HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", /^invalid header line/],
      ["HTTP/1.1 200 OK\r\nX: a\x01b\r\n\r\n", /^invalid character in header X/],
      ["HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", /^invalid content-length "5, 6"/],
      ["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /^invalid content-length/],
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", /^invalid chunk size line "zz"/],
      [
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        /^chunk data longer than its size/,
      ],
    ];
    for (const [text, reason] of cases) {
      const parser = new HttpResponseParser("GET", 1000);
      expect(feed(parser, text), text).toBe("invalid");
      expect(parser.error, text).toMatch(reason);
    }
  });

  it("accepts a repeated identical content-length and folds obsolete continuation lines", () => {
    const parser = new HttpResponseParser("GET", 1000);
    expect(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nX-Long: a\r\n  b\r\n\r\nok")).toBe(
      "complete",
    );
    expect(parser.head?.headers["x-long"]).toBe("a b");
  });

  it("stops a head that never ends at the header limit instead of buffering it", () => {
    const parser = new HttpResponseParser("GET", 1000);
    const endless = `HTTP/1.1 200 OK\r\nX-Filler: ${"a".repeat(MAX_HEAD_BYTES)}`;
    expect(feed(parser, endless, 1024)).toBe("invalid");
    expect(parser.error).toBe(`header longer than ${MAX_HEAD_BYTES} bytes`);
  });
});
