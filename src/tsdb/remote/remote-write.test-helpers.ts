import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { uncompress } from "snappyjs";

/** A decoded sample: the value and its exact bit pattern, so staleness markers can be told apart. */
export interface DecodedSample {
  readonly v: number;
  readonly bits: bigint;
  readonly t: number;
}

export interface DecodedSeries {
  readonly labels: Array<{ name: string; value: string }>;
  readonly samples: DecodedSample[];
}

/**
 * A protobuf reader just big enough for prometheus.WriteRequest, written from the wire format rather than
 * from the encoder, so a test can catch the encoder's mistakes.
 */
export function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  return fields(bytes)
    .filter((f) => f.field === 1)
    .map((f) => {
      const labels: Array<{ name: string; value: string }> = [];
      const samples: DecodedSample[] = [];
      for (const g of fields(asBytes(f.value))) {
        if (g.field === 1) {
          const label = { name: "", value: "" };
          for (const h of fields(asBytes(g.value))) {
            const text = new TextDecoder().decode(asBytes(h.value));
            if (h.field === 1) label.name = text;
            if (h.field === 2) label.value = text;
          }
          labels.push(label);
        } else if (g.field === 2) {
          let v = 0;
          let bits = 0n;
          let t = 0;
          for (const h of fields(asBytes(g.value))) {
            if (h.field === 1 && h.value instanceof DataView) {
              v = h.value.getFloat64(0, true);
              bits = h.value.getBigUint64(0, true);
            }
            if (h.field === 2 && typeof h.value === "bigint") t = Number(BigInt.asIntN(64, h.value));
          }
          samples.push({ v, bits, t });
        }
      }
      return { labels, samples };
    });
}

type FieldValue = bigint | DataView | Uint8Array;

function asBytes(value: FieldValue): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new Error("expected a length-delimited field");
  return value;
}

function fields(bytes: Uint8Array): Array<{ field: number; value: FieldValue }> {
  const out: Array<{ field: number; value: FieldValue }> = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = bytes[pos++];
      if (b === undefined) throw new Error("truncated varint");
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ field, value: varint() });
    else if (wire === 1) {
      out.push({ field, value: new DataView(bytes.buffer, bytes.byteOffset + pos, 8) });
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ field, value: bytes.subarray(pos, pos + len) });
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  if (pos !== bytes.length) throw new Error("trailing bytes");
  return out;
}

export interface ReceivedWrite {
  readonly headers: IncomingMessage["headers"];
  readonly series: DecodedSeries[];
  readonly status: number;
}

/**
 * A remote_write receiver on 127.0.0.1:0 that answers each request with the next status of `script`
 * (204 once the script is used up) and records what it got.
 */
export class FakeReceiver {
  readonly received: ReceivedWrite[] = [];
  private server: Server | undefined;
  /** While set, requests wait for it before answering. */
  gate: Promise<void> | undefined;

  constructor(public script: number[] = []) {}

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, "127.0.0.1", resolve));
    const { port: bound } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${bound}/api/v1/write`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Every sample of one series as received, in arrival order, from accepted requests only. */
  accepted(name: string): DecodedSample[] {
    return this.received
      .filter((r) => r.status < 300)
      .flatMap((r) => r.series)
      .filter((s) => s.labels.some((l) => l.name === "__name__" && l.value === name))
      .flatMap((s) => s.samples);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (this.gate !== undefined) await this.gate;
    const status = this.script.shift() ?? 204;
    const series = decodeWriteRequest(uncompress(new Uint8Array(Buffer.concat(chunks))));
    this.received.push({ headers: req.headers, series, status });
    res.statusCode = status;
    res.end(status >= 300 ? `status ${status} from the fake receiver` : undefined);
  }
}

/** Waits until `check` holds, polling; the test's own timeout bounds it. */
export async function eventually(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}
