import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export type Responder = (req: Received, res: ServerResponse) => void;

/** A local stand-in for a provider: records each request and answers as told. */
export class FakeProvider {
  readonly requests: Received[] = [];
  respond: Responder = (_req, res) => res.writeHead(200).end("ok");
  /** TCP connections accepted: tells kept-alive connections from new ones. */
  connections = 0;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const received = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        };
        this.requests.push(received);
        this.respond(received, res);
      });
    });
    this.server.on("connection", () => this.connections++);
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  last(): Received {
    const r = this.requests.at(-1);
    if (!r) throw new Error("the fake provider received nothing");
    return r;
  }

  json(): Record<string, unknown> {
    return JSON.parse(this.last().body) as Record<string, unknown>;
  }
}
