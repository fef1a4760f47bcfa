import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRequest } from "../src/notify/notifier.js";
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

  it("stops a redirect loop, and reads at most a megabyte of an answer", async () => {
    await expect(send(`${a.url}/loop`)).rejects.toThrow(/redirects/);
    const big = await send(`${a.url}/big`);
    expect(big.status).toBe(200);
    expect(big.body.length).toBeLessThanOrEqual(1 << 20);
    expect(big.body.length).toBeGreaterThan(0);
  });
});
