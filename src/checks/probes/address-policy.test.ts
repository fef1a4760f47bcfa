import { describe, expect, it } from "vitest";
import {
  AddressPolicySpec,
  createAddressPolicy,
  DEFAULT_ADDRESS_POLICY,
  unwrapMappedIPv4,
} from "./address-policy.js";

const allowed = (ip: string, policy = DEFAULT_ADDRESS_POLICY): boolean => policy.check(ip).allowed;

describe("address policy", () => {
  it("blocks link-local and cloud metadata addresses by default", () => {
    for (const ip of [
      "169.254.169.254",
      "169.254.170.2",
      "fe80::1",
      "fd00:ec2::254",
      "100.100.100.200",
      "168.63.129.16",
    ]) {
      expect(allowed(ip), ip).toBe(false);
    }
    expect(DEFAULT_ADDRESS_POLICY.check("169.254.169.254")).toMatchObject({
      allowed: false,
      reason: "address 169.254.169.254 is blocked by the target policy",
      rule: { cidr: "169.254.0.0/16" },
    });
  });

  it("allows loopback, private and public addresses by default", () => {
    for (const ip of [
      "127.0.0.1",
      "::1",
      "10.1.2.3",
      "192.168.1.1",
      "fd12:3456::1",
      "8.8.8.8",
      "2606:4700::1111",
      "100.100.100.201",
    ]) {
      expect(allowed(ip), ip).toBe(true);
    }
  });

  it("sees through IPv4-mapped IPv6 addresses", () => {
    expect(unwrapMappedIPv4("::ffff:169.254.169.254")).toBe("169.254.169.254");
    expect(unwrapMappedIPv4("::ffff:a9fe:a9fe")).toBe("169.254.169.254");
    expect(unwrapMappedIPv4("2001:db8::1")).toBe("2001:db8::1");
    expect(allowed("::ffff:169.254.169.254")).toBe(false);
    expect(allowed("0:0:0:0:0:ffff:a9fe:a9fe")).toBe(false);
  });

  it("denies listed ranges, and the most specific range decides with allow winning ties", () => {
    const policy = createAddressPolicy({ deny: ["10.0.0.0/8"], allow: ["10.1.0.0/16", "169.254.169.254"] });
    expect(allowed("10.2.0.1", policy)).toBe(false);
    expect(allowed("10.1.0.1", policy)).toBe(true);
    expect(allowed("169.254.169.254", policy)).toBe(true);
    expect(allowed("169.254.169.253", policy)).toBe(false);
    expect(allowed("127.0.0.1", createAddressPolicy({ deny: ["127.0.0.1"], allow: ["127.0.0.1/32"] }))).toBe(
      true,
    );
  });

  it("does not let a broad allow open the built-in blocked ranges", () => {
    const policy = createAddressPolicy({ allow: ["0.0.0.0/0", "::/0"] });
    expect(allowed("169.254.169.254", policy)).toBe(false);
    expect(allowed("fe80::1", policy)).toBe(false);
  });

  it("rejects malformed ranges at config time", () => {
    expect(AddressPolicySpec.safeParse({ deny: ["10.0.0.0/33"] }).success).toBe(false);
    expect(AddressPolicySpec.safeParse({ deny: ["not-an-ip"] }).success).toBe(false);
    expect(AddressPolicySpec.parse({ allow: ["fd00::/8"] })).toEqual({ allow: ["fd00::/8"], deny: [] });
  });
});
