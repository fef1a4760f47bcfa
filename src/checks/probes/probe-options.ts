import { lookup as dnsLookup } from "node:dns/promises";
import type { AddressPolicy } from "./address-policy.js";

export type LookupFamily = 0 | 4 | 6;

/** Resolves a host name to addresses; injectable so tests can play DNS (rebinding, metadata names). */
export type LookupFn = (
  hostname: string,
  family: LookupFamily,
) => Promise<Array<{ address: string; family: number }>>;

export const DEFAULT_TIMEOUT_MS = 10_000;
export const MAX_TIMEOUT_MS = 120_000;

/** How to run a probe; none of these come from the check's own config except the timeout. */
export interface ProbeOptions {
  /** Wall clock in epoch ms (inject the app's Clock). Certificate expiry is judged against it. */
  now: () => number;
  /** The whole run, redirects and retries over TCP included, is bounded by this. Default 10 s. */
  timeoutMs?: number;
  /** Aborts the run early (server shutdown); the result then fails with kind "aborted". */
  signal?: AbortSignal;
  /** Which addresses the probe may connect to. Default: DEFAULT_ADDRESS_POLICY. */
  addressPolicy?: AddressPolicy;
  /** Host name resolution. Default: the system resolver (getaddrinfo), as other programs on the host see it. */
  lookup?: LookupFn;
}

export const systemLookup: LookupFn = async (hostname, family) =>
  dnsLookup(hostname, { all: true, family, verbatim: true });
