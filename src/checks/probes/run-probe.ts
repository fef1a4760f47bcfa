import { runDnsProbe } from "./dns-probe.js";
import { runHttpProbe } from "./http-probe.js";
import type { ProbeOptions } from "./probe-options.js";
import type { ProbeResult } from "./probe-result.js";
import type { ProbeSpec } from "./probe-spec.js";
import { runTcpProbe } from "./tcp-probe.js";
import { runTlsProbe } from "./tls-probe.js";

/**
 * Runs one probe on fresh connections and returns what it saw. Never rejects for anything the target does
 * (refusal, garbage, silence, bad certificates): those are results with `ok: false`.
 *
 * @example
 * const result = await runProbe(ProbeSpec.parse({ type: "http", url: "https://example.com/health" }), {
 *   now: ctx.clock.now,
 *   timeoutMs: 5_000,
 * });
 */
export function runProbe(spec: ProbeSpec, options: ProbeOptions): Promise<ProbeResult> {
  // A switch narrows the spec per case, and a new probe type without a case fails to compile below.
  switch (spec.type) {
    case "http":
      return runHttpProbe(spec, options);
    case "tcp":
      return runTcpProbe(spec, options);
    case "dns":
      return runDnsProbe(spec, options);
    case "tls":
      return runTlsProbe(spec, options);
    default:
      return unknownType(spec);
  }
}

function unknownType(spec: never): never {
  throw new Error(`bug: no runner for probe spec ${JSON.stringify(spec)}`);
}
