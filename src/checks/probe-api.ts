/**
 * The probe engine of synthetic checks: runs one check against its target on fresh connections and
 * evaluates the check's conditions on what it saw. The scheduler, storage and API of checks build on this.
 *
 * - Spec schemas (`ProbeSpec` and one per type) validate config once; `runProbe(spec, options)` never throws
 *   for anything a target does, it returns a `ProbeResult` with `ok`, a `failure` and per-phase timings.
 * - `parseCondition(text, { probeType })` at config time; `evaluateConditions(conditions, result)` per run.
 * - Every connection goes through the address policy after DNS resolution (cloud metadata is blocked).
 */

export {
  type AddressDecision,
  type AddressPolicy,
  AddressPolicySpec,
  createAddressPolicy,
  DEFAULT_ADDRESS_POLICY,
  DEFAULT_BLOCKED_RANGES,
} from "./probes/address-policy.js";
export {
  DNS_RECORD_TYPES,
  DnsProbeSpec,
  type DnsProbeSpecInput,
  type DnsRecordType,
  runDnsProbe,
} from "./probes/dns-probe.js";
export {
  DEFAULT_BODY_LIMIT_BYTES,
  HTTP_METHODS,
  HttpProbeSpec,
  type HttpProbeSpecInput,
  MAX_BODY_LIMIT_BYTES,
  runHttpProbe,
} from "./probes/http-probe.js";
export {
  DEFAULT_TIMEOUT_MS,
  type LookupFamily,
  type LookupFn,
  MAX_TIMEOUT_MS,
  type ProbeOptions,
  systemLookup,
} from "./probes/probe-options.js";
export {
  DNS_RCODES,
  type DnsAnswer,
  type DnsProbeResult,
  type DnsRcode,
  type FailureKind,
  type HttpProbeResult,
  PROBE_PHASES,
  PROBE_TYPES,
  type PhaseTimings,
  type ProbeFailure,
  type ProbePhase,
  type ProbeResult,
  type ProbeType,
  type TcpProbeResult,
  type TlsInfo,
  type TlsProbeResult,
} from "./probes/probe-result.js";
export { ProbeSpec, type ProbeSpecInput } from "./probes/probe-spec.js";
export { runProbe } from "./probes/run-probe.js";
export { runTcpProbe, TcpProbeSpec, type TcpProbeSpecInput } from "./probes/tcp-probe.js";
export { IpFamily, TLS_VERSIONS, TlsClientSpec, type TlsVersion } from "./probes/tls-client-spec.js";
export { runTlsProbe, TlsProbeSpec, type TlsProbeSpecInput } from "./probes/tls-probe.js";

export {
  type Condition,
  type ConditionError,
  type Operator,
  OPERATORS,
  type ParseConditionResult,
  PLACEHOLDER_NAMES,
  PLACEHOLDERS,
  type PlaceholderName,
} from "./conditions/condition.js";
export { formatDuration, parseDuration } from "./conditions/duration.js";
export { type ConditionOutcome, evaluateConditions } from "./conditions/evaluate-conditions.js";
export { parseCondition, placeholdersFor, validateCondition } from "./conditions/parse-condition.js";
