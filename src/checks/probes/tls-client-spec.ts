import { z } from "zod";

export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** How a probe speaks TLS to its target; shared by the http, tcp and tls probes. */
export const TlsClientSpec = z
  .strictObject({
    verify: z
      .boolean()
      .default(true)
      .describe(
        "Verify the certificate chain and that the certificate is valid for the host name. Off: any certificate is accepted, and its details are still reported.",
      ),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe("PEM bundle of CA certificates to trust instead of the default roots, for private CAs."),
    serverName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("Name sent in SNI and verified against the certificate; default: the target's host name."),
    minVersion: z
      .enum(TLS_VERSIONS)
      .optional()
      .describe("Fail when the negotiated protocol version is older than this."),
  })
  .describe("TLS settings.");
export type TlsClientSpec = z.infer<typeof TlsClientSpec>;

export const IpFamily = z
  .enum(["auto", "ipv4", "ipv6"])
  .default("auto")
  .describe(
    "Which address family to connect over when the host name has both; auto follows the system's order.",
  );
export type IpFamily = z.infer<typeof IpFamily>;

export const lookupFamily = (family: IpFamily): 0 | 4 | 6 =>
  family === "ipv4" ? 4 : family === "ipv6" ? 6 : 0;

/** Compares TLS protocol names by age; unknown names sort first, so they fail a minimum. */
export function tlsVersionRank(version: string): number {
  return TLS_VERSIONS.indexOf(version as TlsVersion);
}
