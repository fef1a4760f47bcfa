import { describe, expect, it } from "vitest";
import { runKill9 } from "../bench/alerting/kill9.mjs";

/**
 * The short version of bench/alerting/kill9.mjs: a server process takes an alert storm and is killed with
 * SIGKILL at random moments, 20 times, then restarted once more without being killed. Delivery is Task I's
 * worker; this asserts on the outbox rows, where every notification must be before it can be delivered.
 */
describe("alert intake under SIGKILL", () => {
  it("keeps every alert that got a 200, enqueues its notification, and never under two keys", async () => {
    const result = await runKill9({ cycles: 20, maxMs: 150_000, posters: 2, batch: 4 });
    expect(result.cycles).toBe(20);
    expect(result.accepted).toBeGreaterThan(0);
    expect(result.missingInTable).toEqual([]);
    expect(result.missingOutbox).toEqual([]);
    expect(result.duplicated).toEqual([]);
  }, 180_000);
});
