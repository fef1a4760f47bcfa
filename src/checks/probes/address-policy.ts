import { BlockList, isIP } from "node:net";
import { z } from "zod";

/**
 * Ranges no probe may reach unless an allow rule lists them: a check's target is user input, and without
 * this a check on `http://169.254.169.254/latest/meta-data/` would read the host's cloud credentials.
 * Loopback and private ranges stay reachable: self-hosted users probe their own services there.
 */
export const DEFAULT_BLOCKED_RANGES: ReadonlyArray<{ cidr: string; why: string }> = [
  {
    cidr: "169.254.0.0/16",
    why: "IPv4 link-local: cloud metadata (AWS, GCP, Azure, OpenStack, Oracle at 169.254.169.254; ECS task credentials at 169.254.170.2)",
  },
  {
    cidr: "fe80::/10",
    why: "IPv6 link-local: never a service address, reachable only on the host's own links",
  },
  {
    cidr: "fd00:ec2::/32",
    why: "AWS IPv6 link services: instance metadata at fd00:ec2::254, DNS at fd00:ec2::253",
  },
  { cidr: "100.100.100.200/32", why: "Alibaba Cloud instance metadata" },
  { cidr: "192.0.0.192/32", why: "Oracle Cloud legacy instance metadata" },
  { cidr: "168.63.129.16/32", why: "Azure WireServer: host agent that hands VM extensions their secrets" },
];

const Cidr = z
  .string()
  .refine((value) => parseCidr(value) !== null, {
    message: "must be an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8",
  })
  .describe("An IP address or CIDR range, IPv4 or IPv6.");

export const AddressPolicySpec = z
  .strictObject({
    allow: z
      .array(Cidr)
      .default([])
      .describe(
        "Ranges probes may reach even though a deny rule or a built-in blocked range covers them. The most specific range decides; at equal size, allow wins.",
      ),
    deny: z
      .array(Cidr)
      .default([])
      .describe("Ranges probes may not reach, in addition to the built-in blocked ranges."),
  })
  .describe(
    "Which addresses probes may connect to. Checked after DNS resolution, on the address the probe then connects to.",
  );
export type AddressPolicySpec = z.infer<typeof AddressPolicySpec>;

export type AddressDecision =
  | { allowed: true }
  | { allowed: false; reason: string; rule: { cidr: string; why: string } };

export interface AddressPolicy {
  /** Decides whether a probe may connect to `ip` (IPv4 or IPv6 literal; IPv4-mapped IPv6 is unwrapped). */
  check(ip: string): AddressDecision;
}

interface Rule {
  cidr: string;
  why: string;
  action: "allow" | "deny";
  prefix: number;
  list: BlockList;
}

/**
 * Builds the policy from its spec. The most specific matching range decides, allow winning ties, so that
 * `allow: [0.0.0.0/0]` does not open 169.254.0.0/16 by accident, but `allow: [169.254.169.254/32]` does.
 */
export function createAddressPolicy(spec: Partial<AddressPolicySpec> = {}): AddressPolicy {
  const rules: Rule[] = [];
  const add = (cidr: string, why: string, action: Rule["action"]): void => {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`invalid CIDR ${cidr}: validate the spec with AddressPolicySpec first`);
    const list = new BlockList();
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    rules.push({ cidr, why, action, prefix: parsed.prefix, list });
  };
  for (const { cidr, why } of DEFAULT_BLOCKED_RANGES) add(cidr, why, "deny");
  for (const cidr of spec.deny ?? []) add(cidr, "listed in the policy's deny ranges", "deny");
  for (const cidr of spec.allow ?? []) add(cidr, "listed in the policy's allow ranges", "allow");
  rules.sort(
    (a, b) => b.prefix - a.prefix || (a.action === "allow" ? -1 : 1) - (b.action === "allow" ? -1 : 1),
  );

  // Checks reach the same few addresses over and over; BlockList.check builds an object per call, so each
  // address is judged once. The cache is bounded; past the bound it starts again.
  const verdicts = new Map<string, AddressDecision>();
  const judge = (ip: string): AddressDecision => {
    const address = unwrapMappedIPv4(ip);
    const family = isIP(address);
    if (family === 0) throw new Error(`not an IP address: ${ip}`);
    const type = family === 4 ? "ipv4" : "ipv6";
    for (const rule of rules) {
      if (!rule.list.check(address, type)) continue;
      if (rule.action === "allow") return { allowed: true };
      return {
        allowed: false,
        reason: `address ${ip} is blocked by the target policy`,
        rule: { cidr: rule.cidr, why: rule.why },
      };
    }
    return { allowed: true };
  };
  return {
    check(ip) {
      let verdict = verdicts.get(ip);
      if (verdict === undefined) {
        verdict = judge(ip);
        if (verdicts.size >= 10_000) verdicts.clear();
        verdicts.set(ip, verdict);
      }
      return verdict;
    },
  };
}

/** The default policy: built-in blocked ranges only. */
export const DEFAULT_ADDRESS_POLICY: AddressPolicy = createAddressPolicy();

function parseCidr(value: string): { address: string; prefix: number; family: "ipv4" | "ipv6" } | null {
  const [address = "", prefixText, ...rest] = value.trim().split("/");
  if (rest.length > 0) return null;
  const family = isIP(address);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) return null;
  return { address, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/** "::ffff:169.254.169.254" and "::ffff:a9fe:a9fe" reach the IPv4 host, so they are judged as IPv4. */
export function unwrapMappedIPv4(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = expandIPv6(ip.toLowerCase());
  if (!groups || groups.slice(0, 5).some((g) => g !== 0) || groups[5] !== 0xffff) return ip;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

function expandIPv6(ip: string): number[] | null {
  let text = ip.split("%")[0] ?? "";
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const bytes = dotted[1].split(".").map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = bytes;
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const parse = (part: string): number[] =>
    part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}
