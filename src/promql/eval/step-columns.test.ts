import { describe, expect, it } from "vitest";
import { StepColumns } from "./step-columns.js";

describe("StepColumns", () => {
  it("gives each series zeroed arrays of its own, sharing a block at few steps", () => {
    const columns = new StepColumns(3);
    const a = columns.next();
    const b = columns.next();
    expect(a.values).toHaveLength(3);
    expect(a.present).toHaveLength(3);
    expect(b.values.buffer).toBe(a.values.buffer);
    a.values.fill(7);
    a.present.fill(1);
    expect([...b.values]).toEqual([0, 0, 0]);
    expect([...b.present]).toEqual([0, 0, 0]);
  });

  it("starts a new block when one is full, and gives long range queries arrays of their own", () => {
    const columns = new StepColumns(4096);
    const first = columns.next();
    const second = columns.next();
    const third = columns.next();
    expect(second.values.buffer).toBe(first.values.buffer);
    expect(third.values.buffer).not.toBe(first.values.buffer);
    const long = new StepColumns(11_000);
    expect(long.next().values.buffer).not.toBe(long.next().values.buffer);
  });
});
