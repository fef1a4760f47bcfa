import { describe, expect, it } from "vitest";
import { messageBatcher } from "./message-batch.js";

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("messageBatcher", () => {
  it("delivers what one turn of the event loop queued as one batch, and starts anew after", async () => {
    const batches: number[][] = [];
    const post = messageBatcher<number>((batch) => batches.push(batch));
    post(1);
    post(2);
    post(3);
    expect(batches).toEqual([]);
    await turn();
    post(4);
    await turn();
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("waits the delay when given one", async () => {
    const batches: string[][] = [];
    const post = messageBatcher<string>((batch) => batches.push(batch), 20);
    post("a");
    await turn();
    post("b");
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(batches).toEqual([["a", "b"]]);
  });
});
