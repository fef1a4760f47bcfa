import { describe, expect, it } from "vitest";
import { jobPhase, phaseFraction, slotAfter, slotAtOrAfter } from "./job-phase.js";

describe("jobPhase", () => {
  it("is the same for the same key on every call, and within the interval", () => {
    expect(jobPhase("api-health", 60_000)).toBe(jobPhase("api-health", 60_000));
    for (const key of ["a", "b", "checkout", "api-health"]) {
      const phase = jobPhase(key, 30_000);
      expect(phase).toBeGreaterThanOrEqual(0);
      expect(phase).toBeLessThan(30_000);
      expect(Number.isInteger(phase)).toBe(true);
    }
  });

  it("keeps a job's place in its interval when the interval changes", () => {
    const fraction = phaseFraction("checkout");
    expect(jobPhase("checkout", 10_000)).toBe(Math.floor(fraction * 10_000));
    expect(jobPhase("checkout", 20_000)).toBe(Math.floor(fraction * 20_000));
  });
});

describe("aligned slots", () => {
  it("finds the slot at or after a time, and strictly after it", () => {
    expect(slotAtOrAfter(250, 1_000, 10_000)).toBe(10_250);
    expect(slotAtOrAfter(250, 1_000, 10_250)).toBe(10_250);
    expect(slotAtOrAfter(250, 1_000, 10_251)).toBe(11_250);
    expect(slotAfter(250, 1_000, 10_250)).toBe(11_250);
    expect(slotAfter(250, 1_000, 10_249)).toBe(10_250);
  });
});
