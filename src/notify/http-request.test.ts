import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest } from "./notifier.js";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

async function listen(
  handler: (req: IncomingMessage, body: string) => [number, Record<string, string>, string],
) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        authorization: req.headers.authorization,
        body,
      });
      const [status, headers, answer] = handler(req, body);
      res.writeHead(status, headers).end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, seen, url };
}

describe("httpRequest (receivers' HTTP client)", () => {
  let a: Awaited<ReturnType<typeof listen>>;
  let b: Awaited<ReturnType<typeof listen>>;
  const closeAll: Server[] = [];
  const send = (url: string) =>
    httpRequest(url, {
      headers: { authorization: "Bearer secret", "content-type": "application/json" },
      body: '{"x":1}',
      signal: AbortSignal.timeout(5000),
    });

  beforeAll(async () => {
    b = await listen(() => [200, {}, "from b"]);
    a = await listen((req) => {
      if (req.url === "/see-other") return [303, { location: "/done" }, ""];
      if (req.url === "/found") return [302, { location: "/done" }, ""];
      if (req.url === "/temporary") return [307, { location: "/done" }, ""];
      if (req.url === "/elsewhere") return [307, { location: `${b.url}/in-b` }, ""];
      if (req.url === "/loop") return [302, { location: "/loop" }, ""];
      if (req.url === "/big") return [200, {}, "x".repeat(3 << 20)];
      return [200, {}, "done"];
    });
    closeAll.push(a.server, b.server);
  });
  afterAll(async () => {
    for (const s of closeAll) await new Promise((resolve) => s.close(resolve));
  });

  it("posts the body and returns the status and answer", async () => {
    expect(await send(`${a.url}/hook`)).toEqual({ status: 200, body: "done" });
    expect(a.seen.at(-1)).toMatchObject({ method: "POST", url: "/hook", body: '{"x":1}' });
  });

  it("follows 303 and a POST's 302 as a GET without the body, and 307 with the method and body", async () => {
    await send(`${a.url}/see-other`);
    expect(a.seen.at(-1)).toMatchObject({ method: "GET", url: "/done", body: "" });
    await send(`${a.url}/found`);
    expect(a.seen.at(-1)).toMatchObject({ method: "GET", url: "/done", body: "" });
    await send(`${a.url}/temporary`);
    expect(a.seen.at(-1)).toMatchObject({ method: "POST", url: "/done", body: '{"x":1}' });
  });

  it("does not send the credentials to another origin", async () => {
    expect(await send(`${a.url}/elsewhere`)).toEqual({ status: 200, body: "from b" });
    expect(a.seen.at(-1)?.authorization).toBe("Bearer secret");
    expect(b.seen.at(-1)).toMatchObject({ url: "/in-b", authorization: undefined, body: '{"x":1}' });
  });

  it("stops a redirect loop, and reads at most a megabyte of an answer", async () => {
    await expect(send(`${a.url}/loop`)).rejects.toThrow(/redirects/);
    const big = await send(`${a.url}/big`);
    expect(big.status).toBe(200);
    expect(big.body.length).toBeLessThanOrEqual(1 << 20);
    expect(big.body.length).toBeGreaterThan(0);
  });
});
