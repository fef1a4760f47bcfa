import type { ProbeFailure } from "./probe-result.js";

const CERT_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: "tls: certificate has expired",
  CERT_NOT_YET_VALID: "tls: certificate is not yet valid",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls: self-signed certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "tls: self-signed certificate in the chain (the root is not trusted)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "tls: unable to verify the first certificate (is an intermediate missing?)",
  UNABLE_TO_GET_ISSUER_CERT: "tls: unknown certificate authority",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls: unknown certificate authority",
  CERT_REVOKED: "tls: certificate has been revoked",
  CERT_SIGNATURE_FAILURE: "tls: certificate signature does not verify",
  CERT_CHAIN_TOO_LONG: "tls: certificate chain too long",
  INVALID_CA: "tls: an issuer in the chain is not a CA",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls: certificate is not valid for the host name",
};

/** Turns a certificate verification code (OpenSSL's or Node's) into the reason users read. */
export function certificateReason(code: string, hostname?: string): string {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID" && hostname)
    return `tls: certificate is not valid for ${hostname}`;
  return CERT_REASONS[code] ?? `tls: certificate verification failed (${code})`;
}

const NETWORK_REASONS: Record<string, Pick<ProbeFailure, "kind" | "reason">> = {
  ECONNREFUSED: { kind: "connection_refused", reason: "connection refused" },
  ECONNRESET: { kind: "connection_reset", reason: "connection reset by peer" },
  EPIPE: { kind: "connection_reset", reason: "connection closed by peer while sending" },
  EHOSTUNREACH: { kind: "network", reason: "host unreachable" },
  ENETUNREACH: { kind: "network", reason: "network unreachable" },
  EADDRNOTAVAIL: { kind: "network", reason: "address not available" },
  ENOTFOUND: { kind: "dns", reason: "dns: no such host" },
  EAI_AGAIN: { kind: "dns", reason: "dns: temporary failure in name resolution" },
  ENODATA: { kind: "dns", reason: "dns: no address for host" },
};

/** Maps an error thrown by node:net, node:tls or node:http to a failure; `during` names what was going on. */
export function describeNetworkError(error: unknown, during: string): ProbeFailure {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const known = code ? NETWORK_REASONS[code] : undefined;
  if (known) return { ...known };
  if (code?.startsWith("HPE_")) {
    return { kind: "protocol", reason: `invalid HTTP response: ${message.replace(/^Parse Error: /, "")}` };
  }
  if (code && (code in CERT_REASONS || code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_"))) {
    return {
      kind: "tls",
      reason: code in CERT_REASONS ? certificateReason(code) : `tls: ${tlsMessage(message)}`,
    };
  }
  if (/ssl|tls/i.test(message) && during.includes("TLS"))
    return { kind: "tls", reason: `tls: ${tlsMessage(message)}` };
  return {
    kind: "network",
    reason: `${message}${code && !message.includes(code) ? ` (${code})` : ""} while ${during}`,
  };
}

/** OpenSSL's messages carry a numeric prefix and file names; keep the part a user can act on. */
function tlsMessage(message: string): string {
  const match = /routines:[^:]*:([^:\n]+)/.exec(message);
  return (match?.[1] ?? message).trim();
}

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  const { code } = error as { code: unknown };
  return typeof code === "string" ? code : undefined;
}
