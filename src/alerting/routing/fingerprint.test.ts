import { describe, expect, it } from "vitest";
import { compareGo, fingerprint, sortedLabelNames } from "./fingerprint.js";

describe("sortedLabelNames", () => {
  it("orders names by bytes, as Go sorts them, for small and large label sets", () => {
    expect(sortedLabelNames({ team: "", job: "", a_b: "", A: "", instance: "", _x: "" })).toEqual([
      "A",
      "_x",
      "a_b",
      "instance",
      "job",
      "team",
    ]);
    const many = Array.from({ length: 40 }, (_, i) => `l${(i * 7919) % 40}`);
    const labels = Object.fromEntries(many.map((n) => [n, "v"]));
    expect(sortedLabelNames(labels)).toEqual([...many].sort(compareGo));
  });

  it("gives the same fingerprint whatever order the sender wrote the labels in", () => {
    expect(fingerprint({ severity: "critical", alertname: "Disk", instance: "a:9100" })).toBe(
      fingerprint({ alertname: "Disk", instance: "a:9100", severity: "critical" }),
    );
  });
});
