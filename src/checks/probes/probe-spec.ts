import { z } from "zod";
import { DnsProbeSpec } from "./dns-probe.js";
import { HttpProbeSpec } from "./http-probe.js";
import { TcpProbeSpec } from "./tcp-probe.js";
import { TlsProbeSpec } from "./tls-probe.js";

/** Any probe's spec, told apart by `type`. */
export const ProbeSpec = z.discriminatedUnion("type", [
  HttpProbeSpec,
  TcpProbeSpec,
  DnsProbeSpec,
  TlsProbeSpec,
]);
export type ProbeSpec = z.infer<typeof ProbeSpec>;
export type ProbeSpecInput = z.input<typeof ProbeSpec>;
