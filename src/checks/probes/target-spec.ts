import { isIP } from "node:net";
import { z } from "zod";

/** A host name or an IP literal (IPv6 with or without brackets). */
export const Host = z
  .string()
  .min(1)
  .max(253)
  .refine(
    (value) =>
      isIP(value.replace(/^\[|\]$/g, "")) !== 0 ||
      /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/.test(value),
    {
      message: "must be a host name or an IP address",
    },
  )
  .describe("Host name or IP address of the target.");

export const Port = z.int().min(1).max(65_535);

export const unbracket = (host: string): string => host.replace(/^\[|\]$/g, "");
