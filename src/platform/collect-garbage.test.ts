import { setImmediate as nextTurn } from "node:timers/promises";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { collectGarbage } from "./collect-garbage.js";

describe("collectGarbage", () => {
  it("frees what nothing references any more, without a start-up flag", async () => {
    let held: number[][] | null = Array.from({ length: 1000 }, (_, i) => [i]);
    const weak = new WeakRef(held);
    held = null;
    // A WeakRef keeps its target for the rest of the turn that made it.
    await nextTurn();
    expect(collectGarbage()).toBe(true);
    expect(weak.deref()).toBeUndefined();
  });

  it("leaves no global gc in contexts made afterwards", () => {
    collectGarbage();
    expect(runInNewContext("typeof gc")).toBe("undefined");
  });
});
