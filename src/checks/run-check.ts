import { type CheckSpec, durationMs } from "./check-kind.js";
import type { CheckOutcome } from "./check-outcome.js";
import type { Condition } from "./conditions/condition.js";
import { evaluateConditions } from "./conditions/evaluate-conditions.js";
import { parseCondition } from "./conditions/parse-condition.js";
import type { AddressPolicy } from "./probes/address-policy.js";
import type { ProbeResult } from "./probes/probe-result.js";
import type { ProbeSpec } from "./probes/probe-spec.js";
import { runProbe } from "./probes/run-probe.js";

/** A check ready to run: its spec with conditions parsed once, when the configuration was loaded. */
export interface PreparedCheck {
  name: string;
  service: string;
  spec: CheckSpec;
  probe: ProbeSpec | null;
  intervalMs: number;
  timeoutMs: number;
  conditions: Condition[];
  degradedConditions: Condition[];
  degradedOverMs: number | null;
}

export function prepareCheck(name: string, spec: CheckSpec): PreparedCheck {
  const probeType = spec.probe?.type;
  const parse = (texts: readonly string[]) =>
    texts.flatMap((text) => {
      const parsed = parseCondition(text, probeType ? { probeType } : {});
      // Conditions were validated when the configuration was applied; one that no longer parses is skipped.
      return parsed.ok ? [parsed.condition] : [];
    });
  return {
    name,
    service: spec.service,
    spec,
    probe: spec.probe ?? null,
    intervalMs: durationMs(spec.interval),
    timeoutMs: durationMs(spec.timeout),
    conditions: parse(spec.conditions),
    degradedConditions: parse(spec.degraded?.conditions ?? []),
    degradedOverMs: spec.degraded?.responseTimeOver ? durationMs(spec.degraded.responseTimeOver) : null,
  };
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Secrets stay out of the configuration: header values and bodies may say ${NAME}, filled from the server's
 * environment at run time. The stored spec (and so the API) only ever holds the reference.
 */
export function resolveSecrets(
  spec: ProbeSpec,
  env: NodeJS.ProcessEnv,
): { spec: ProbeSpec } | { missing: string } {
  if (spec.type !== "http") return { spec };
  let missing: string | null = null;
  const fill = (text: string) =>
    text.replace(ENV_REFERENCE, (_match, name: string) => {
      const value = env[name];
      if (value === undefined) missing ??= name;
      return value ?? "";
    });
  const headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, fill(v)]));
  const body = spec.body === undefined ? undefined : fill(spec.body);
  if (missing !== null) return { missing };
  return { spec: { ...spec, headers, ...(body === undefined ? {} : { body }) } };
}

export interface RunOptions {
  now: () => number;
  signal?: AbortSignal;
  addressPolicy?: AddressPolicy;
  env?: NodeJS.ProcessEnv;
}

/** Runs a probe check once: up to 1 + retries attempts, then its conditions and degraded rule. */
export async function runCheck(check: PreparedCheck, options: RunOptions): Promise<CheckOutcome> {
  const at = options.now();
  const notRun = (reason: string): CheckOutcome => ({
    check: check.name,
    at,
    ok: false,
    degraded: false,
    durationMs: 0,
    attempts: 0,
    reason,
    statusCode: null,
    conditions: [],
    timings: {},
  });
  if (!check.probe) return notRun("a heartbeat is not run; it is pinged");
  const resolved = resolveSecrets(check.probe, options.env ?? process.env);
  if ("missing" in resolved)
    return notRun(`environment variable ${resolved.missing} is not set on the server`);
  let result: ProbeResult | undefined;
  let conditions: CheckOutcome["conditions"] = [];
  let attempts = 0;
  const maxAttempts = 1 + check.spec.retries;
  while (attempts < maxAttempts) {
    attempts++;
    result = await runProbe(resolved.spec, {
      now: options.now,
      timeoutMs: check.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.addressPolicy ? { addressPolicy: options.addressPolicy } : {}),
    });
    conditions = evaluateConditions(check.conditions, result);
    if (result.ok && conditions.every((c) => c.ok)) break;
    if (options.signal?.aborted) break;
  }
  if (!result) throw new Error("unreachable: a check makes at least one attempt");
  const failedCondition = conditions.find((c) => !c.ok);
  const ok = result.ok && failedCondition === undefined;
  let reason: string | null = null;
  let degraded = false;
  if (!result.ok) reason = result.failure?.reason ?? "failed";
  else if (failedCondition)
    reason = `condition ${failedCondition.condition} failed: actual ${failedCondition.actual}`;
  else {
    const slow = check.degradedOverMs !== null && result.durationMs > check.degradedOverMs;
    const degradedBy = evaluateConditions(check.degradedConditions, result).find((c) => !c.ok);
    if (slow)
      reason = `response time ${Math.round(result.durationMs)}ms is over ${check.spec.degraded?.responseTimeOver}`;
    else if (degradedBy)
      reason = `degraded condition ${degradedBy.condition} failed: actual ${degradedBy.actual}`;
    degraded = slow || degradedBy !== undefined;
  }
  return {
    check: check.name,
    at,
    ok,
    degraded,
    durationMs: result.durationMs,
    attempts,
    reason,
    statusCode: result.type === "http" ? result.status : null,
    conditions,
    timings: result.timings,
    probe: {
      type: result.type,
      tls:
        result.type === "dns" || result.tls === null
          ? null
          : { earliestNotAfter: result.tls.earliestNotAfter, leafNotAfter: result.tls.leafNotAfter },
    },
  };
}
