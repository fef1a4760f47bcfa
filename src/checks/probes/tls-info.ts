import { checkServerIdentity, type DetailedPeerCertificate, type TLSSocket } from "node:tls";
import { isIP } from "node:net";
import { certificateReason } from "./failure-reason.js";
import type { ProbeFailure, TlsInfo } from "./probe-result.js";
import { type TlsClientSpec, tlsVersionRank } from "./tls-client-spec.js";

/**
 * Reads what the handshake showed. The chain is the one Node hands out: the presented certificates, completed
 * with an issuer from the trust store when the server left the root out.
 */
export function readTlsInfo(socket: TLSSocket, hostname: string): TlsInfo {
  const leaf = socket.getPeerCertificate(true);
  const chain: TlsInfo["chain"] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = leaf;
  while (cert && Object.keys(cert).length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push({
      subject: distinguishedName(cert.subject),
      issuer: distinguishedName(cert.issuer),
      notBefore: Date.parse(cert.valid_from),
      notAfter: Date.parse(cert.valid_to),
    });
    cert = cert.issuerCertificate;
  }
  const first = chain[0];
  const hostnameError = first ? checkServerIdentity(hostname, leaf) : new Error("no certificate");
  const cipher = socket.getCipher();
  const nodeError = socket.authorizationError ? String(socket.authorizationError) : null;
  // Node checks the name only after the chain verified, and reports a wrong name as the chain's error.
  const chainVerified = socket.authorized || nodeError === "ERR_TLS_CERT_ALTNAME_INVALID";
  return {
    protocol: socket.getProtocol() ?? "unknown",
    cipher: cipher.name,
    leafNotAfter: first?.notAfter ?? Number.NaN,
    earliestNotAfter: chain.reduce((min, c) => Math.min(min, c.notAfter), Number.POSITIVE_INFINITY),
    hostnameVerified: hostnameError === undefined,
    chainVerified,
    verifyError: chainVerified ? (hostnameError ? "ERR_TLS_CERT_ALTNAME_INVALID" : null) : nodeError,
    subject: first?.subject ?? "",
    issuer: first?.issuer ?? "",
    chain,
  };
}

/**
 * Judges the handshake against the spec: with `verify` on, an untrusted chain, a wrong name or a certificate
 * outside its validity at the probe clock's `now` fails; a minimum version applies either way.
 */
export function judgeTls(
  info: TlsInfo,
  spec: TlsClientSpec,
  hostname: string,
  now: number,
): ProbeFailure | null {
  if (spec.verify) {
    const expired = info.chain.find((c) => c.notAfter <= now);
    if (expired) return { kind: "tls", reason: certificateReason("CERT_HAS_EXPIRED") };
    if (info.chain.some((c) => c.notBefore > now))
      return { kind: "tls", reason: certificateReason("CERT_NOT_YET_VALID") };
    if (!info.chainVerified) return { kind: "tls", reason: certificateReason(info.verifyError ?? "UNKNOWN") };
    if (!info.hostnameVerified)
      return { kind: "tls", reason: certificateReason("ERR_TLS_CERT_ALTNAME_INVALID", hostname) };
  }
  if (spec.minVersion && tlsVersionRank(info.protocol) < tlsVersionRank(spec.minVersion)) {
    return {
      kind: "tls",
      reason: `tls: negotiated ${info.protocol}, older than the minimum ${spec.minVersion}`,
    };
  }
  return null;
}

/** SNI may not carry an IP address (RFC 6066); for an IP target the certificate is matched against its IP SANs. */
export function sniName(hostname: string): string | undefined {
  return isIP(hostname) === 0 ? hostname : undefined;
}

function distinguishedName(fields: Record<string, string | string[] | undefined> | undefined): string {
  if (!fields) return "";
  return Object.entries(fields)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : (value ?? "")}`)
    .join(", ");
}
