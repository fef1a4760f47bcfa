import { describe, expect, it } from "vitest";
import { SampleArena } from "./sample-arena.js";

describe("sample arena", () => {
  it("hands out arrays that do not overlap until it is reset, then the same memory again", () => {
    const arena = new SampleArena();
    const a = arena.take(3);
    const b = arena.take(SampleArena.BLOCK_SAMPLES - 2);
    const c = arena.take(2);
    a.fill(1);
    b.fill(2);
    c.fill(3);
    expect([...a]).toEqual([1, 1, 1]);
    expect(b.every((v) => v === 2)).toBe(true);
    expect(b.buffer).not.toBe(a.buffer);
    arena.reset();
    const again = arena.take(3);
    expect(again.buffer).toBe(a.buffer);
    expect(again.byteOffset).toBe(a.byteOffset);
  });

  it("gives a series longer than a block an array of its own", () => {
    const arena = new SampleArena();
    const small = arena.take(1);
    const big = arena.take(SampleArena.BLOCK_SAMPLES + 1);
    expect(big).toHaveLength(SampleArena.BLOCK_SAMPLES + 1);
    expect(big.buffer).not.toBe(small.buffer);
  });

  it("keeps only a bounded number of blocks for the next query", () => {
    const arena = new SampleArena();
    const first: Float64Array[] = [];
    for (let i = 0; i <= SampleArena.BLOCKS_KEPT; i++) first.push(arena.take(SampleArena.BLOCK_SAMPLES));
    arena.reset();
    const second: Float64Array[] = [];
    for (let i = 0; i <= SampleArena.BLOCKS_KEPT; i++) second.push(arena.take(SampleArena.BLOCK_SAMPLES));
    for (let i = 0; i < SampleArena.BLOCKS_KEPT; i++) expect(second[i]?.buffer).toBe(first[i]?.buffer);
    expect(second[SampleArena.BLOCKS_KEPT]?.buffer).not.toBe(first[SampleArena.BLOCKS_KEPT]?.buffer);
  });
});
