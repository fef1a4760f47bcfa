import { describe, expect, it } from "vitest";
import { type HeapItem, MinHeap } from "./min-heap.js";

interface Item extends HeapItem {
  value: number;
}

// A deterministic pseudo-random sequence, so a failure can be replayed.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("MinHeap", () => {
  it("pops in order through pushes, removals and key updates", () => {
    const next = random(42);
    const heap = new MinHeap<Item>((a, b) => a.value < b.value);
    const live = new Set<Item>();
    for (let step = 0; step < 5_000; step += 1) {
      const choice = next();
      if (choice < 0.5 || live.size === 0) {
        const item = { heapIndex: -1, value: Math.floor(next() * 1_000) };
        heap.push(item);
        live.add(item);
      } else if (choice < 0.7) {
        const item = [...live][Math.floor(next() * live.size)];
        if (item === undefined) continue;
        expect(heap.remove(item)).toBe(true);
        expect(heap.remove(item)).toBe(false);
        live.delete(item);
      } else if (choice < 0.85) {
        const item = [...live][Math.floor(next() * live.size)];
        if (item === undefined) continue;
        item.value = Math.floor(next() * 1_000);
        heap.update(item);
      } else {
        const top = heap.pop();
        const smallest = Math.min(...[...live].map((item) => item.value));
        expect(top?.value).toBe(smallest);
        if (top !== undefined) live.delete(top);
      }
      expect(heap.size).toBe(live.size);
    }
    const drained: number[] = [];
    for (let item = heap.pop(); item !== undefined; item = heap.pop()) drained.push(item.value);
    expect(drained).toEqual([...live].map((item) => item.value).sort((a, b) => a - b));
  });

  it("forgets every item on clear", () => {
    const heap = new MinHeap<Item>((a, b) => a.value < b.value);
    const items = [3, 1, 2].map((value) => ({ heapIndex: -1, value }));
    for (const item of items) heap.push(item);
    heap.clear();
    expect(heap.size).toBe(0);
    expect(items.every((item) => item.heapIndex === -1 && !heap.has(item))).toBe(true);
  });
});
