import { describe, expect, it } from "vitest";
import { runKill9 } from "../bench/alerting/kill9.mjs";

/**
 * The short version of bench/alerting/kill9.mjs: `nines serve` takes an alert storm and is killed with
 * SIGKILL at random moments, 20 times, then runs once more, unkilled, until its outbox has drained; a webhook
 * sink in the test is the receiver and the judge.
 */
describe("alert delivery under SIGKILL", () => {
  it("delivers every alert that got a 200, with an idempotency key, and a notification sent twice under one key", async () => {
    const result = await runKill9({
      cycles: 20,
      maxMs: 100_000,
      drainMs: 20_000,
      posters: 2,
      batch: 4,
      killAfterMs: [100, 800],
    });
    // Said with every failure: whether the run was slow (start-up, drain) or wrong.
    const { missing, withoutKey, notJson, duplicatedUnderTwoKeys, keyReused, ...figures } = result;
    const context = JSON.stringify({ ...figures, missing: missing.length });
    expect(result.cycles, context).toBe(20);
    expect(result.accepted, context).toBeGreaterThan(0);
    expect(result.deliveries, context).toBeGreaterThan(0);
    expect(missing, context).toEqual([]);
    expect(withoutKey, context).toEqual([]);
    expect(notJson, context).toEqual([]);
    expect(duplicatedUnderTwoKeys, context).toEqual([]);
    expect(keyReused, context).toEqual([]);
    expect(result.pendingAfterDrain, context).toBe(0);
    expect(result.deadLetters, context).toBe(0);
    expect(result.finalExit, context).toBe(0);
  }, 150_000);
});
