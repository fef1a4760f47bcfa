/**
 * What one run of a probe observed. A result is data, never an exception: a target that refused the
 * connection, answered garbage or sent an expired certificate is a result with `ok: false` and a failure.
 */

export const PROBE_TYPES = ["http", "tcp", "dns", "tls"] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** Phases in blackbox_exporter's names, so dashboards built for it read Nines's timings unchanged. */
export const PROBE_PHASES = ["resolve", "connect", "tls", "processing", "transfer"] as const;
export type ProbePhase = (typeof PROBE_PHASES)[number];

/** Milliseconds spent in each phase; a phase the probe never reached is absent. Summed over redirects. */
export type PhaseTimings = Partial<Record<ProbePhase, number>>;

/** A closed set, for metrics labels and grouping; `reason` carries the readable detail. */
export type FailureKind =
  | "timeout"
  | "aborted"
  | "dns"
  | "blocked"
  | "connection_refused"
  | "connection_reset"
  | "network"
  | "tls"
  | "protocol"
  | "body_too_large"
  | "too_many_redirects"
  | "unexpected_status"
  | "unexpected_response";

export interface ProbeFailure {
  kind: FailureKind;
  /** One readable line: "connection refused", "tls: certificate has expired", "body exceeded 1048576 bytes". */
  reason: string;
}

/** What the TLS handshake showed. Expiry values are epoch milliseconds. */
export interface TlsInfo {
  /** Negotiated protocol version: "TLSv1.3", "TLSv1.2", … */
  protocol: string;
  cipher: string;
  /** notAfter of the certificate the server presented for itself. */
  leafNotAfter: number;
  /** The earliest notAfter in the chain: the moment the first certificate of the chain stops being valid. */
  earliestNotAfter: number;
  /** Whether the leaf certificate is valid for the name the probe asked for (independent of chain trust). */
  hostnameVerified: boolean;
  /** Whether the chain verified against the trusted CAs (Node's defaults, or the spec's `ca`). */
  chainVerified: boolean;
  /** OpenSSL's or Node's code when the chain or name did not verify, e.g. CERT_HAS_EXPIRED. */
  verifyError: string | null;
  subject: string;
  issuer: string;
  /** One entry per certificate, leaf first, as far as the chain could be followed. */
  chain: Array<{ subject: string; issuer: string; notBefore: number; notAfter: number }>;
}

interface ProbeResultBase {
  ok: boolean;
  /** Null when ok. */
  failure: ProbeFailure | null;
  /** Epoch ms from the probe's clock when the run started; certificate expiry conditions count from it. */
  startedAt: number;
  /** Wall time of the whole run in milliseconds, redirects included. */
  durationMs: number;
  timings: PhaseTimings;
  /** The address the probe connected to (or sent its DNS query to); null when it never got that far. */
  ip: string | null;
  /** Whether a connection was established (for DNS: whether the resolver answered). */
  connected: boolean;
}

export interface HttpProbeResult extends ProbeResultBase {
  type: "http";
  /** Null when no response was received. */
  status: number | null;
  httpVersion: string | null;
  /** Lower-cased names; repeated headers joined with ", " (set-cookie with "\n"). */
  headers: Record<string, string>;
  /** The body as UTF-8 text, at most the spec's body limit. */
  body: string;
  bodyBytes: number;
  /** The URL of the final response, after redirects. */
  finalUrl: string;
  /** URLs the probe was redirected to, in order. */
  redirects: string[];
  tls: TlsInfo | null;
}

export interface TcpProbeResult extends ProbeResultBase {
  type: "tcp";
  /** What the target sent, as UTF-8 text, up to the read limit (empty when nothing was read). */
  received: string;
  tls: TlsInfo | null;
}

export const DNS_RCODES = [
  "NOERROR",
  "FORMERR",
  "SERVFAIL",
  "NXDOMAIN",
  "NOTIMP",
  "REFUSED",
  "YXDOMAIN",
  "YXRRSET",
  "NXRRSET",
  "NOTAUTH",
  "NOTZONE",
] as const;
export type DnsRcode = (typeof DNS_RCODES)[number];

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  /** The record's data in zone-file presentation: "10 mail.example.com" for MX, the joined text for TXT. */
  data: string;
}

export interface DnsProbeResult extends ProbeResultBase {
  type: "dns";
  /** Null when no answer was received. Rcodes outside the known set read as "RCODE<n>". */
  rcode: DnsRcode | `RCODE${number}` | null;
  answers: DnsAnswer[];
  authority: DnsAnswer[];
  /** Whether the answer came over TCP after a truncated UDP answer (or because the spec asked for TCP). */
  usedTcp: boolean;
}

export interface TlsProbeResult extends ProbeResultBase {
  type: "tls";
  tls: TlsInfo | null;
}

export type ProbeResult = HttpProbeResult | TcpProbeResult | DnsProbeResult | TlsProbeResult;
