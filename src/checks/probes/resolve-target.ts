import { isIP } from "node:net";
import { describeNetworkError, errorCode } from "./failure-reason.js";
import type { LookupFamily } from "./probe-options.js";
import type { ProbeFailure } from "./probe-result.js";
import type { ProbeRun } from "./probe-run.js";

export type ResolvedTarget = { ok: true; ip: string; family: 4 | 6 } | { ok: false; failure: ProbeFailure };

/**
 * Resolves `host` to one address and checks it against the address policy. The probe then connects to this
 * address and nothing else, so a name that resolves differently a moment later (DNS rebinding) gains nothing.
 */
export async function resolveTarget(
  run: ProbeRun,
  host: string,
  family: LookupFamily,
): Promise<ResolvedTarget> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  let ip: string;
  const literal = isIP(bare);
  if (literal !== 0) {
    if (family !== 0 && literal !== family) {
      return {
        ok: false,
        failure: { kind: "dns", reason: `address ${bare} is not IPv${family} as the spec asks` },
      };
    }
    ip = bare;
    run.timings.resolve = 0;
  } else {
    const stop = run.startPhase("resolve", `resolving ${bare}`);
    const outcome = await run.race(run.lookup(bare, family));
    stop();
    if (!outcome) return { ok: false, failure: run.abortFailure() };
    if ("error" in outcome) {
      const code = errorCode(outcome.error);
      const failure = describeNetworkError(outcome.error, `resolving ${bare}`);
      if (code === "ENOTFOUND")
        return { ok: false, failure: { kind: "dns", reason: `dns: no such host ${bare}` } };
      return {
        ok: false,
        failure: failure.kind === "dns" ? { kind: "dns", reason: `${failure.reason} ${bare}` } : failure,
      };
    }
    const first = outcome.value.find((entry) => family === 0 || entry.family === family);
    if (!first) return { ok: false, failure: { kind: "dns", reason: `dns: no address for ${bare}` } };
    ip = first.address;
  }
  const decision = run.policy.check(ip);
  if (!decision.allowed) return { ok: false, failure: { kind: "blocked", reason: decision.reason } };
  return { ok: true, ip, family: isIP(ip) === 6 ? 6 : 4 };
}
