import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { describeNetworkError } from "./failure-reason.js";
import type { ProbeFailure, TlsInfo } from "./probe-result.js";
import type { ProbeRun } from "./probe-run.js";
import type { TlsClientSpec } from "./tls-client-spec.js";
import { judgeTls, readTlsInfo, sniName } from "./tls-info.js";

export interface ConnectRequest {
  ip: string;
  port: number;
  /** The name the user wrote, for SNI and certificate verification. */
  hostname: string;
  tls: TlsClientSpec | null;
  alpn?: string[];
}

export type Connection =
  | { ok: true; socket: Socket | TLSSocket; tls: TlsInfo | null }
  | { ok: false; failure: ProbeFailure; connected: boolean; tls: TlsInfo | null };

/**
 * Opens a fresh connection to an already checked address, timing the TCP connect and the TLS handshake
 * apart. Verification happens here, before the caller can write a byte, so no request (and no credential in
 * its headers) ever reaches a server whose certificate failed.
 */
export async function connectTarget(run: ProbeRun, request: ConnectRequest): Promise<Connection> {
  if (run.signal.aborted) return { ok: false, failure: run.abortFailure(), connected: false, tls: null };
  const stopConnect = run.startPhase("connect", `connecting to ${request.ip} port ${request.port}`);
  const socket = netConnect({ host: request.ip, port: request.port, noDelay: true });
  const connected = await settle(run, socket, "connect", `connecting to ${request.ip} port ${request.port}`);
  stopConnect();
  if (connected) return { ok: false, failure: connected, connected: false, tls: null };
  // A late error (reset after the caller stopped listening) must not crash the process.
  socket.on("error", ignore);
  if (!request.tls) return { ok: true, socket, tls: null };

  const spec = request.tls;
  const hostname = spec.serverName ?? request.hostname;
  const stopTls = run.startPhase("tls", "in the TLS handshake");
  const secure = tlsConnect({
    socket,
    servername: sniName(hostname),
    ca: spec.ca,
    // Verification is ours (judgeTls): Node's would hide the certificate details of a failed handshake.
    rejectUnauthorized: false,
    ALPNProtocols: request.alpn,
  });
  const handshake = await settle(run, secure, "secureConnect", "in the TLS handshake");
  stopTls();
  if (handshake) return { ok: false, failure: handshake, connected: true, tls: null };
  const info = readTlsInfo(secure, hostname);
  const verdict = judgeTls(info, spec, hostname, run.now());
  if (verdict) {
    secure.destroy();
    return { ok: false, failure: verdict, connected: true, tls: info };
  }
  secure.on("error", ignore);
  return { ok: true, socket: secure, tls: info };
}

const ignore = (): void => {};

/** Waits for `event`, an error or the run's abort; destroys the socket unless the event came. */
function settle(run: ProbeRun, socket: Socket, event: string, during: string): Promise<ProbeFailure | null> {
  return new Promise((resolve) => {
    const cleanup = (): void => {
      socket.off(event, onEvent);
      socket.off("error", onError);
      socket.off("close", onClose);
      run.signal.removeEventListener("abort", onAbort);
    };
    const fail = (failure: ProbeFailure): void => {
      cleanup();
      socket.destroy();
      resolve(failure);
    };
    const onEvent = (): void => {
      cleanup();
      resolve(null);
    };
    const onError = (error: unknown): void => fail(describeNetworkError(error, during));
    const onClose = (): void =>
      fail({ kind: "connection_reset", reason: `connection closed by peer while ${during}` });
    const onAbort = (): void => fail(run.abortFailure());
    socket.once(event, onEvent);
    socket.once("error", onError);
    socket.once("close", onClose);
    if (run.signal.aborted) onAbort();
    else run.signal.addEventListener("abort", onAbort, { once: true });
  });
}
