import { describe, expect, it } from "vitest";
import { type Labels, labelsFrom } from "../promql/index.js";
import { compileRelabels, RelabelConfig, relabel } from "./relabel.js";

const series = labelsFrom({ __name__: "http_requests_total", code: "500", path: "/api/v1", pod: "web-7" });

function apply(labels: Labels, ...rules: unknown[]): Record<string, string> | null {
  const out = relabel(labels, compileRelabels(rules.map((r) => RelabelConfig.parse(r))));
  return out === null ? null : Object.fromEntries(out.map((l) => [l.name, l.value]));
}

describe("metric_relabel_configs", () => {
  it("keep and drop select series by their source labels joined with the separator", () => {
    expect(apply(series, { action: "keep", source_labels: ["code"], regex: "5.." })).not.toBeNull();
    expect(apply(series, { action: "keep", source_labels: ["code"], regex: "2.." })).toBeNull();
    expect(
      apply(series, {
        action: "drop",
        source_labels: ["__name__", "code"],
        regex: "http_requests_total;5.*",
      }),
    ).toBeNull();
    // Anchored at both ends, like Prometheus: "50" does not match "500".
    expect(apply(series, { action: "drop", source_labels: ["code"], regex: "50" })).not.toBeNull();
  });

  it(`replace writes $1 and \${name} expansions, and an empty result removes the target label`, () => {
    expect(
      apply(series, {
        source_labels: ["path"],
        regex: "/api/(?P<version>v\\d+)",
        target_label: "api_version",
        replacement: `\${version}`,
      }),
    ).toMatchObject({ api_version: "v1" });
    expect(
      apply(series, { source_labels: ["pod"], regex: "(.*)-(\\d+)", target_label: "app" }),
    ).toMatchObject({
      app: "web",
    });
    expect(
      apply(series, {
        source_labels: ["pod"],
        regex: "(.*)-(\\d+)",
        target_label: "ordinal",
        replacement: "$2",
      }),
    ).toMatchObject({ ordinal: "7" });
    expect(
      apply(series, { source_labels: ["nothing"], regex: "", target_label: "pod", replacement: "" }),
    ).not.toHaveProperty("pod");
    // No match: nothing changes.
    expect(
      apply(series, { source_labels: ["code"], regex: "2..", target_label: "ok", replacement: "yes" }),
    ).not.toHaveProperty("ok");
  });

  it("labeldrop, labelkeep and labelmap work on label names", () => {
    expect(apply(series, { action: "labeldrop", regex: "pod|path" })).toEqual({
      __name__: "http_requests_total",
      code: "500",
    });
    expect(apply(series, { action: "labelkeep", regex: "__name__|code" })).toEqual({
      __name__: "http_requests_total",
      code: "500",
    });
    expect(apply(series, { action: "labelmap", regex: "p(.*)", replacement: "x_$1" })).toMatchObject({
      x_od: "web-7",
      x_ath: "/api/v1",
      pod: "web-7",
    });
  });

  it("hashmod puts the md5 of the source value modulo the modulus in the target label", () => {
    const out = apply(series, {
      action: "hashmod",
      source_labels: ["pod"],
      modulus: 8,
      target_label: "shard",
    });
    expect(Number(out?.shard)).toBeGreaterThanOrEqual(0);
    expect(Number(out?.shard)).toBeLessThan(8);
    expect(out?.shard).toBe(
      apply(series, { action: "hashmod", source_labels: ["pod"], modulus: 8, target_label: "shard" })?.shard,
    );
  });

  it("rejects a bad regex and a replace without target_label", () => {
    expect(RelabelConfig.safeParse({ regex: "a(b" }).error?.issues.map((i) => i.path.join("."))).toEqual(
      expect.arrayContaining(["regex", "target_label"]),
    );
  });
});
