import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeChain } from "../src/checks/probes/test-certificates.test-helpers.js";
import { httpRequest, postJsonText } from "../src/notify/notifier.js";
import { FakeProvider } from "./support/fake-provider.js";

describe("httpRequest (receivers' HTTP client)", () => {
  const a = new FakeProvider();
  const b = new FakeProvider();
  const send = (url: string) =>
    httpRequest(url, {
      headers: { authorization: "Bearer secret", "content-type": "application/json" },
      body: '{"x":1}',
      signal: AbortSignal.timeout(5000),
    });

  beforeAll(async () => {
    await b.start();
    b.respond = (_req, res) => res.writeHead(200).end("from b");
    await a.start();
    const redirects: Record<string, [number, string]> = {
      "/see-other": [303, "/done"],
      "/found": [302, "/done"],
      "/temporary": [307, "/done"],
      "/elsewhere": [307, `${b.url}/in-b`],
      "/loop": [302, "/loop"],
    };
    a.respond = (req, res) => {
      const redirect = redirects[req.url];
      if (redirect) res.writeHead(redirect[0], { location: redirect[1] }).end();
      else if (req.url === "/big") res.writeHead(200).end("x".repeat(3 << 20));
      else res.writeHead(200).end("done");
    };
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it("posts the body and returns the status and answer", async () => {
    expect(await send(`${a.url}/hook`)).toEqual({ status: 200, body: "done" });
    expect(a.last()).toMatchObject({ method: "POST", url: "/hook", body: '{"x":1}' });
  });

  it("follows 303 and a POST's 302 as a GET without the body, and 307 with the method and body", async () => {
    await send(`${a.url}/see-other`);
    expect(a.last()).toMatchObject({ method: "GET", url: "/done", body: "" });
    await send(`${a.url}/found`);
    expect(a.last()).toMatchObject({ method: "GET", url: "/done", body: "" });
    await send(`${a.url}/temporary`);
    expect(a.last()).toMatchObject({ method: "POST", url: "/done", body: '{"x":1}' });
  });

  it("does not send the credentials to another origin", async () => {
    expect(await send(`${a.url}/elsewhere`)).toEqual({ status: 200, body: "from b" });
    expect(a.last().headers.authorization).toBe("Bearer secret");
    expect(b.last()).toMatchObject({ url: "/in-b", body: '{"x":1}' });
    expect(b.last().headers.authorization).toBeUndefined();
  });

  it("stops a redirect loop, and keeps the first megabyte of a longer answer", async () => {
    await expect(send(`${a.url}/loop`)).rejects.toThrow(/redirects/);
    const big = await send(`${a.url}/big`);
    expect(big).toEqual({ status: 200, body: "x".repeat(1 << 20) });
    // The connection cut at the limit is not reused by mistake: the next request is answered in full.
    expect(await send(`${a.url}/hook`)).toEqual({ status: 200, body: "done" });
  });

  it("sends the body's length in bytes, and a URL's user and password as basic auth", async () => {
    const body = '{"summary":"disk full – übervoll"}';
    await httpRequest(`${a.url.replace("//", "//ops:p%40ss@")}/hook`, {
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(5000),
    });
    expect(a.last().body).toBe(body);
    expect(a.last().headers["content-length"]).toBe(String(Buffer.byteLength(body)));
    expect(a.last().headers.authorization).toBe(`Basic ${Buffer.from("ops:p@ss").toString("base64")}`);
    // A configured credential wins over the URL's, as in Go's client.
    await send(`${a.url.replace("//", "//ops:pass@")}/hook`);
    expect(a.last().headers.authorization).toBe("Bearer secret");
  });

  it("sends consecutive notifications to one receiver over kept-alive connections", async () => {
    const c = new FakeProvider();
    await c.start();
    try {
      for (let i = 0; i < 10; i++) expect((await send(`${c.url}/hook`)).status).toBe(200);
      // undici may open a second connection while the first is released at the end of the event loop's turn.
      expect(c.connections).toBeLessThanOrEqual(2);
      expect(c.requests).toHaveLength(10);
    } finally {
      await c.stop();
    }
  });
});

/** A TCP server that answers each connection with `answer(socket)`: raw bytes, or nothing at all. */
async function rawServer(answer: (socket: Socket) => void): Promise<{ url: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    answer(socket);
  });
  server.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("httpRequest failures", () => {
  const servers: Server[] = [];
  const serve = async (answer: (socket: Socket) => void) => {
    const s = await rawServer(answer);
    servers.push(s.server);
    return s.url;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      s.close();
      s.emit("close");
    }
  });
  const post = (url: string, signal = AbortSignal.timeout(5000)) =>
    httpRequest(url, { headers: {}, body: "{}", signal });

  it("a refused connection, a malformed answer and a cut answer throw", async () => {
    const closed = await serve(() => {});
    const port = new URL(closed).port;
    servers[0]?.close();
    await once(servers[0] as Server, "close");
    await expect(post(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    const garbage = await serve((s) => s.end("HELLO THERE\r\n\r\n"));
    await expect(post(`${garbage}/`)).rejects.toThrow();
    const cut = await serve((s) =>
      s.once("data", () => s.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")),
    );
    await expect(post(`${cut}/`)).rejects.toThrow();
  });

  it("an interim 1xx answer is skipped for the final one", async () => {
    const url = await serve((s) =>
      s.once("data", () =>
        s.write(
          "HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok",
        ),
      ),
    );
    expect(await post(`${url}/`)).toEqual({ status: 202, body: "ok" });
  });

  it("a receiver that never answers fails the attempt at its timeout, as an aborted request", async () => {
    const url = await serve(() => {});
    const outcome = await postJsonText(`${url}/hook`, "{}", {
      signal: AbortSignal.timeout(100),
    });
    expect(outcome).toMatchObject({
      ok: false,
      retry: true,
      error: expect.stringMatching(/^request aborted/),
    });
  });

  it("a request waiting for a free connection fails at its own timeout", async () => {
    // Every connection to the receiver holds a request it never answers; one more has to wait for one.
    let accepted = 0;
    const url = await serve(() => accepted++);
    const stuck = new AbortController();
    const held = Array.from({ length: 64 }, () => post(`${url}/`, stuck.signal).catch((e: unknown) => e));
    const waiting = post(`${url}/`, AbortSignal.timeout(200));
    await expect(waiting).rejects.toThrow();
    expect(accepted).toBeLessThanOrEqual(64);
    stuck.abort(new Error("test over"));
    expect(await Promise.all(held)).toHaveLength(64);
  });

  it("an already aborted signal sends nothing", async () => {
    let accepted = 0;
    const url = await serve(() => accepted++);
    const controller = new AbortController();
    controller.abort(new Error("stopped"));
    await expect(post(`${url}/`, controller.signal)).rejects.toThrow("stopped");
    expect(accepted).toBe(0);
  });
});

describe("httpRequest to an https receiver", () => {
  const chain = makeChain(Date.now());
  let url = "";
  let dir = "";
  const server = createHttpsServer({ key: chain.leaf.keyPem, cert: chain.serverCert }, (req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString("utf8");
    });
    req.on("end", () => res.writeHead(200).end(`tls ${req.method} ${body}`));
  });

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://localhost:${(server.address() as AddressInfo).port}/hook`;
    dir = mkdtempSync(join(tmpdir(), "nines-https-receiver-"));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it("is refused when its certificate does not chain to a trusted CA", async () => {
    await expect(
      httpRequest(url, { headers: {}, body: "{}", signal: AbortSignal.timeout(5000) }),
    ).rejects.toThrow(/certificate|issuer/i);
  });

  it("gets the request when its CA is trusted (NODE_EXTRA_CA_CERTS, read at start-up)", async () => {
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, chain.root.certPem);
    // The suite's global setup has built dist/; a fresh process is needed to read NODE_EXTRA_CA_CERTS.
    const notifier = pathToFileURL(resolve(import.meta.dirname, "../dist/notify/notifier.js")).href;
    const script = `const { httpRequest } = await import(${JSON.stringify(notifier)});
      const answer = await httpRequest(${JSON.stringify(url)}, { headers: {}, body: "hi", signal: AbortSignal.timeout(5000) });
      process.stdout.write(JSON.stringify(answer));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    });
    expect(JSON.parse(stdout)).toEqual({ status: 200, body: "tls POST hi" });
  });
});
