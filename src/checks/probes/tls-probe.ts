import { z } from "zod";
import { connectTarget } from "./connect-target.js";
import type { ProbeOptions } from "./probe-options.js";
import type { TlsProbeResult } from "./probe-result.js";
import { ProbeRun } from "./probe-run.js";
import { resolveTarget } from "./resolve-target.js";
import { Host, Port, unbracket } from "./target-spec.js";
import { IpFamily, lookupFamily, TlsClientSpec } from "./tls-client-spec.js";

export const TlsProbeSpec = TlsClientSpec.extend({
  type: z.literal("tls"),
  host: Host,
  port: Port.default(443).describe("TCP port; default 443."),
  ipFamily: IpFamily,
}).describe(
  "Connects and completes a TLS handshake, reporting the certificate chain's expiry, the negotiated version and whether the certificate is valid for the host.",
);
export type TlsProbeSpec = z.infer<typeof TlsProbeSpec>;
export type TlsProbeSpecInput = z.input<typeof TlsProbeSpec>;

export async function runTlsProbe(spec: TlsProbeSpec, options: ProbeOptions): Promise<TlsProbeResult> {
  const run = new ProbeRun(options);
  const result: TlsProbeResult = {
    type: "tls",
    ...run.emptyResult(),
    tls: null,
  };
  return run.complete(result, async () => {
    const target = await resolveTarget(run, spec.host, lookupFamily(spec.ipFamily));
    if (!target.ok) return target.failure;
    result.ip = target.ip;
    const { verify, ca, serverName, minVersion } = spec;
    const connection = await connectTarget(run, {
      ip: target.ip,
      port: spec.port,
      hostname: unbracket(spec.host),
      tls: { verify, ca, serverName, minVersion },
    });
    result.connected = connection.ok || connection.connected;
    result.tls = connection.tls;
    if (!connection.ok) return connection.failure;
    connection.socket.destroy();
    return null;
  });
}
