import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createAddressPolicy } from "./address-policy.js";
import { HttpProbeSpec, type HttpProbeSpecInput, runHttpProbe } from "./http-probe.js";
import type { LookupFn, ProbeOptions } from "./probe-options.js";
import { makeChain } from "./test-certificates.test-helpers.js";

const servers: Array<{ close(): unknown; closeAllConnections?: () => void }> = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers.splice(0)) {
    server.closeAllConnections?.();
    server.close();
  }
});

async function listen<T extends Server>(server: T): Promise<number> {
  servers.push(server);
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const port = await listen(createHttpServer(handler));
  return `http://127.0.0.1:${port}`;
}

const options = (overrides: Partial<ProbeOptions> = {}): ProbeOptions => ({
  now: () => Date.now(),
  timeoutMs: 3000,
  ...overrides,
});
const spec = (input: Omit<HttpProbeSpecInput, "type">): HttpProbeSpec =>
  HttpProbeSpec.parse({ type: "http", ...input });

describe("http probe", () => {
  it("reports status, headers, body, ip and blackbox phase timings for a healthy target", async () => {
    const base = await httpServer((req, res) => {
      res.setHeader("x-seen-method", req.method ?? "");
      res.end(JSON.stringify({ status: "UP" }));
    });
    const result = await runHttpProbe(spec({ url: `${base}/health` }), options());
    expect(result.ok).toBe(true);
    expect(result.failure).toBeNull();
    expect(result.status).toBe(200);
    expect(result.headers["x-seen-method"]).toBe("GET");
    expect(result.body).toBe('{"status":"UP"}');
    expect(result.ip).toBe("127.0.0.1");
    expect(result.connected).toBe(true);
    expect(Object.keys(result.timings).sort()).toEqual(["connect", "processing", "resolve", "transfer"]);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it("opens a fresh connection for every run", async () => {
    const peers = new Set<number>();
    const base = await httpServer((req, res) => {
      peers.add(req.socket.remotePort ?? 0);
      res.end("ok");
    });
    await runHttpProbe(spec({ url: base }), options());
    await runHttpProbe(spec({ url: base }), options());
    expect(peers.size).toBe(2);
  });

  it("sends the method, headers and body of the spec", async () => {
    let seen = { method: "", auth: "", body: "" };
    const base = await httpServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on("end", () => {
        seen = { method: req.method ?? "", auth: req.headers.authorization ?? "", body };
        res.end();
      });
    });
    const result = await runHttpProbe(
      spec({ url: base, method: "POST", headers: { Authorization: "Bearer x" }, body: '{"a":1}' }),
      options(),
    );
    expect(result.ok).toBe(true);
    expect(seen).toEqual({ method: "POST", auth: "Bearer x", body: '{"a":1}' });
  });

  it("fails on a status outside the expected list and passes when it is listed", async () => {
    const base = await httpServer((_req, res) => {
      res.statusCode = 503;
      res.end("down");
    });
    const failed = await runHttpProbe(spec({ url: base }), options());
    expect(failed.ok).toBe(false);
    expect(failed.status).toBe(503);
    expect(failed.failure).toEqual({
      kind: "unexpected_status",
      reason: "status 503 Service Unavailable, expected 2xx",
    });
    const passed = await runHttpProbe(spec({ url: base, expectedStatus: [200, "5xx"] }), options());
    expect(passed.ok).toBe(true);
  });

  it("follows redirects up to the limit, or reports the 3xx when following is off", async () => {
    const base = await httpServer((req, res) => {
      const n = Number(req.url?.slice(1) || "0");
      if (n < 3) {
        res.writeHead(302, { location: `/${n + 1}` });
        res.end();
      } else res.end(`arrived at ${n}`);
    });
    const followed = await runHttpProbe(spec({ url: `${base}/0` }), options());
    expect(followed.ok).toBe(true);
    expect(followed.body).toBe("arrived at 3");
    expect(followed.redirects).toEqual([`${base}/1`, `${base}/2`, `${base}/3`]);
    expect(followed.finalUrl).toBe(`${base}/3`);

    const limited = await runHttpProbe(spec({ url: `${base}/0`, maxRedirects: 2 }), options());
    expect(limited.failure).toEqual({ kind: "too_many_redirects", reason: "stopped after 2 redirects" });

    const notFollowed = await runHttpProbe(
      spec({ url: `${base}/0`, followRedirects: false, expectedStatus: [302] }),
      options(),
    );
    expect(notFollowed.ok).toBe(true);
    expect(notFollowed.status).toBe(302);
    expect(notFollowed.headers.location).toBe("/1");
  });

  it("does not follow a redirect to a cloud metadata address", async () => {
    const base = await httpServer((_req, res) => {
      res.writeHead(301, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    });
    const result = await runHttpProbe(spec({ url: base }), options());
    expect(result.ok).toBe(false);
    expect(result.failure).toEqual({
      kind: "blocked",
      reason: "address 169.254.169.254 is blocked by the target policy",
    });
  });

  it("fails a 1 GB body after reading only the limit", async () => {
    let sent = 0;
    const base = await httpServer((_req, res) => {
      const chunk = Buffer.alloc(64 * 1024, "a");
      const pump = (): void => {
        while (sent < 1024 ** 3 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once("drain", pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    const result = await runHttpProbe(spec({ url: base, bodyLimitBytes: 100_000 }), options());
    expect(result.ok).toBe(false);
    expect(result.failure).toEqual({ kind: "body_too_large", reason: "body exceeded 100000 bytes" });
    expect(result.bodyBytes).toBe(100_000);
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  });

  it("fails early when content-length announces a body over the limit", async () => {
    const base = await httpServer((_req, res) => {
      res.setHeader("content-length", String(1024 ** 3));
      res.write("x");
    });
    const result = await runHttpProbe(spec({ url: base, bodyLimitBytes: 1000 }), options());
    expect(result.failure?.kind).toBe("body_too_large");
    expect(result.failure?.reason).toBe(`body exceeded 1000 bytes (content-length ${1024 ** 3})`);
  });

  it("fails with a reason when the target answers garbage instead of HTTP", async () => {
    const port = await listen(createNetServer((socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n")));
    const result = await runHttpProbe(spec({ url: `http://127.0.0.1:${port}/` }), options());
    expect(result.ok).toBe(false);
    expect(result.connected).toBe(true);
    expect(result.failure?.kind).toBe("protocol");
    expect(result.failure?.reason).toMatch(/^invalid HTTP response/);
  });

  it("reads a chunked body and a body that ends with the connection", async () => {
    const chunked = await httpServer((_req, res) => {
      res.write("part one, ");
      setTimeout(() => res.end("part two"), 10);
    });
    const first = await runHttpProbe(spec({ url: chunked }), options());
    expect(first.ok).toBe(true);
    expect(first.headers["transfer-encoding"]).toBe("chunked");
    expect(first.body).toBe("part one, part two");

    const port = await listen(
      createNetServer((socket) => socket.end("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nto the end")),
    );
    const second = await runHttpProbe(spec({ url: `http://127.0.0.1:${port}/` }), options());
    expect(second.ok).toBe(true);
    expect(second.httpVersion).toBe("1.0");
    expect(second.body).toBe("to the end");
  });

  it("fails a chunked 1 GB body after reading only the limit", async () => {
    let sent = 0;
    const port = await listen(
      createNetServer((socket) => {
        socket.on("error", () => {});
        socket.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        const chunk = Buffer.concat([
          Buffer.from("10000\r\n"),
          Buffer.alloc(0x10000, "a"),
          Buffer.from("\r\n"),
        ]);
        const pump = (): void => {
          while (sent < 1024 ** 3 && !socket.destroyed) {
            sent += 0x10000;
            if (!socket.write(chunk)) {
              socket.once("drain", pump);
              return;
            }
          }
        };
        pump();
      }),
    );
    const result = await runHttpProbe(
      spec({ url: `http://127.0.0.1:${port}/`, bodyLimitBytes: 150_000 }),
      options(),
    );
    expect(result.failure).toEqual({ kind: "body_too_large", reason: "body exceeded 150000 bytes" });
    expect(result.bodyBytes).toBe(150_000);
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  });

  it("fails with a reason on a broken header, an endless header or a body cut short", async () => {
    const answer = async (text: string, end = true) => {
      const port = await listen(
        createNetServer((socket) => {
          socket.on("error", () => {});
          if (end) socket.end(text);
          else socket.write(text);
        }),
      );
      return runHttpProbe(spec({ url: `http://127.0.0.1:${port}/` }), options({ timeoutMs: 300 }));
    };
    const broken = await answer("HTTP/1.1 200 OK\r\nthis is no header\r\n\r\n");
    expect(broken.failure).toEqual({
      kind: "protocol",
      reason: 'invalid HTTP response: invalid header line "this is no header"',
    });
    const endless = await answer(`HTTP/1.1 200 OK\r\nX-Filler: ${"a".repeat(20_000)}`, false);
    expect(endless.failure).toEqual({
      kind: "protocol",
      reason: "invalid HTTP response: header longer than 16384 bytes",
    });
    const cut = await answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
    expect(cut.status).toBe(200);
    expect(cut.failure).toEqual({
      kind: "connection_reset",
      reason: "connection closed before the body was complete",
    });
    const hanging = await answer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", false);
    expect(hanging.failure).toEqual({
      kind: "timeout",
      reason: "timeout after 300 ms while reading the body",
    });
    expect(hanging.timings.transfer).toBeGreaterThan(hanging.timings.processing ?? Number.POSITIVE_INFINITY);
  });

  it("sends Host from the URL, one user-agent, connection: close and its own content-length", async () => {
    let seen = "";
    const port = await listen(
      createNetServer((socket) => {
        socket.on("data", (data: Buffer) => {
          seen += data.toString("latin1");
          if (seen.includes("\r\n\r\n")) socket.end("HTTP/1.1 204 No Content\r\n\r\n");
        });
      }),
    );
    const result = await runHttpProbe(
      spec({
        url: `http://127.0.0.1:${port}/path?q=1`,
        method: "POST",
        headers: { "User-Agent": "mine", "Content-Length": "999" },
      }),
      options(),
    );
    expect(result.status).toBe(204);
    expect(seen).toBe(
      `POST /path?q=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nUser-Agent: mine\r\n` +
        "connection: close\r\ncontent-length: 0\r\n\r\n",
    );
  });

  it("refuses a header value with a line break rather than send a smuggled header", async () => {
    let received = 0;
    const port = await listen(
      createNetServer((socket) => {
        socket.on("data", (data: Buffer) => {
          received += data.length;
        });
      }),
    );
    const result = await runHttpProbe(
      spec({ url: `http://127.0.0.1:${port}/`, headers: { "X-Token": "a\r\nX-Admin: yes" } }),
      options(),
    );
    expect(result.failure?.kind).toBe("protocol");
    expect(result.failure?.reason).toMatch(/^header X-Token holds a character HTTP does not allow/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toBe(0);
  });

  it("turns a POST into a GET without body on 303 and drops credentials on a redirect to another origin", async () => {
    const seen: Array<{ method: string; url: string; auth: string; length: string }> = [];
    const record = (req: IncomingMessage) =>
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        auth: req.headers.authorization ?? "",
        length: req.headers["content-length"] ?? "",
      });
    const other = await httpServer((req, res) => {
      record(req);
      res.end("elsewhere");
    });
    const base = await httpServer((req, res) => {
      record(req);
      req.resume();
      if (req.url === "/start") res.writeHead(303, { location: "/next" }).end();
      else res.writeHead(302, { location: `${other.replace("127.0.0.1", "localhost")}/there` }).end();
    });
    const result = await runHttpProbe(
      spec({
        url: `${base}/start`,
        method: "POST",
        body: "payload",
        headers: { Authorization: "Bearer x" },
      }),
      options({ lookup: async () => [{ address: "127.0.0.1", family: 4 }] }),
    );
    expect(result.ok).toBe(true);
    expect(result.body).toBe("elsewhere");
    expect(seen).toEqual([
      { method: "POST", url: "/start", auth: "Bearer x", length: "7" },
      { method: "GET", url: "/next", auth: "Bearer x", length: "" },
      { method: "GET", url: "/there", auth: "", length: "" },
    ]);
  });

  it("times out a target that accepts the connection and never answers", async () => {
    const port = await listen(createNetServer(() => {}));
    const started = Date.now();
    const result = await runHttpProbe(
      spec({ url: `http://127.0.0.1:${port}/` }),
      options({ timeoutMs: 300 }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.failure).toEqual({
      kind: "timeout",
      reason: "timeout after 300 ms while waiting for the response",
    });
    expect(result.timings.connect).toBeGreaterThanOrEqual(0);
  });

  it("reports connection refused", async () => {
    const server = createNetServer();
    const port = await listen(server);
    server.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const result = await runHttpProbe(spec({ url: `http://127.0.0.1:${port}/` }), options());
    expect(result.failure).toEqual({ kind: "connection_refused", reason: "connection refused" });
    expect(result.connected).toBe(false);
  });

  it("ends the run when the caller's signal aborts", async () => {
    const port = await listen(createNetServer(() => {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const result = await runHttpProbe(
      spec({ url: `http://127.0.0.1:${port}/` }),
      options({ signal: controller.signal }),
    );
    expect(result.failure?.kind).toBe("aborted");
  });

  it("connects to the address it checked, so a rebinding name cannot switch to a blocked one", async () => {
    const base = await httpServer((req, res) => res.end(req.headers.host));
    const port = new URL(base).port;
    let calls = 0;
    const lookup: LookupFn = async () => {
      calls++;
      return [{ address: calls === 1 ? "127.0.0.1" : "169.254.169.254", family: 4 }];
    };
    const result = await runHttpProbe(spec({ url: `http://rebind.test:${port}/` }), options({ lookup }));
    expect(result.ok).toBe(true);
    expect(result.body).toBe(`rebind.test:${port}`);
    expect(calls).toBe(1);
  });

  it("fails a name that resolves to a blocked address, and passes once the policy allows it", async () => {
    const lookup: LookupFn = async () => [{ address: "169.254.169.254", family: 4 }];
    const blocked = await runHttpProbe(spec({ url: "http://metadata.test/" }), options({ lookup }));
    expect(blocked.failure).toEqual({
      kind: "blocked",
      reason: "address 169.254.169.254 is blocked by the target policy",
    });
    expect(blocked.connected).toBe(false);

    const base = await httpServer((_req, res) => res.end("ok"));
    const deny = createAddressPolicy({ deny: ["127.0.0.0/8"] });
    const denied = await runHttpProbe(spec({ url: base }), options({ addressPolicy: deny }));
    expect(denied.failure?.kind).toBe("blocked");
  });

  it("reports an unknown host as a dns failure", async () => {
    const lookup: LookupFn = async () => {
      throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.invalid"), { code: "ENOTFOUND" });
    };
    const result = await runHttpProbe(spec({ url: "http://nowhere.invalid/" }), options({ lookup }));
    expect(result.failure).toEqual({ kind: "dns", reason: "dns: no such host nowhere.invalid" });
  });
});

describe("https through the http probe", () => {
  const now = Date.now();
  const chain = makeChain(now);

  async function httpsServer(cert = chain.serverCert, key = chain.leaf.keyPem): Promise<number> {
    return listen(createHttpsServer({ cert, key }, (_req, res) => res.end("secure")));
  }

  it("verifies against the spec's CA and records TLS timings and certificate expiry", async () => {
    const port = await httpsServer();
    const result = await runHttpProbe(
      spec({ url: `https://localhost:${port}/`, tls: { ca: chain.root.certPem } }),
      options({ lookup: async () => [{ address: "127.0.0.1", family: 4 }] }),
    );
    expect(result.failure).toBeNull();
    expect(result.body).toBe("secure");
    expect(result.timings.tls).toBeGreaterThan(0);
    expect(result.tls?.hostnameVerified).toBe(true);
    expect(result.tls?.leafNotAfter).toBe(Math.floor(chain.leaf.notAfter / 1000) * 1000);
    expect(result.tls?.earliestNotAfter).toBe(Math.floor(chain.intermediate.notAfter / 1000) * 1000);
  });

  it("fails on an untrusted certificate before sending the request, yet reports the certificate", async () => {
    let requests = 0;
    const port = await listen(
      createHttpsServer({ cert: chain.serverCert, key: chain.leaf.keyPem }, (_req, res) => {
        requests++;
        res.end();
      }),
    );
    const result = await runHttpProbe(spec({ url: `https://127.0.0.1:${port}/` }), options());
    expect(result.ok).toBe(false);
    expect(result.failure?.kind).toBe("tls");
    expect(result.failure?.reason).toMatch(/^tls: /);
    expect(result.tls?.earliestNotAfter).toBeGreaterThan(now);
    expect(requests).toBe(0);

    const unverified = await runHttpProbe(
      spec({ url: `https://127.0.0.1:${port}/`, tls: { verify: false } }),
      options(),
    );
    expect(unverified.ok).toBe(true);
  });

  it("fails with 'tls: certificate has expired' once the probe's clock passes the intermediate's expiry", async () => {
    const port = await httpsServer();
    const later = now + 20 * 86_400_000;
    const result = await runHttpProbe(
      spec({ url: `https://127.0.0.1:${port}/`, tls: { ca: chain.root.certPem } }),
      options({ now: () => later }),
    );
    expect(result.failure).toEqual({ kind: "tls", reason: "tls: certificate has expired" });
  });

  it("fails a certificate issued for another name", async () => {
    const port = await httpsServer();
    const result = await runHttpProbe(
      spec({ url: `https://other.test:${port}/`, tls: { ca: chain.root.certPem } }),
      options({ lookup: async () => [{ address: "127.0.0.1", family: 4 }] }),
    );
    expect(result.failure).toEqual({ kind: "tls", reason: "tls: certificate is not valid for other.test" });
    expect(result.tls?.chainVerified).toBe(true);
    expect(result.tls?.hostnameVerified).toBe(false);
  });
});
