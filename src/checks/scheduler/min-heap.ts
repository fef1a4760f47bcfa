/** An item that knows its own position, so the heap can remove or re-sort it in O(log n). */
export interface HeapItem {
  /** Position in the heap's array; -1 while the item is in no heap. Owned by the heap. */
  heapIndex: number;
}

/**
 * A binary min-heap whose items carry their own index: push, pop, remove and update are O(log n), peek O(1).
 * An item may be in at most one heap at a time.
 */
export class MinHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** `before(a, b)` is true when `a` must come out before `b`. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  has(item: T): boolean {
    return item.heapIndex >= 0 && this.items[item.heapIndex] === item;
  }

  push(item: T): void {
    item.heapIndex = this.items.length;
    this.items.push(item);
    this.up(item.heapIndex);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Takes `item` out of the heap; false when it was not in it. */
  remove(item: T): boolean {
    if (!this.has(item)) return false;
    this.removeAt(item.heapIndex);
    return true;
  }

  /** Restores the order after the caller changed the key of an item that is in the heap. */
  update(item: T): void {
    if (!this.has(item)) return;
    this.up(item.heapIndex);
    this.down(item.heapIndex);
  }

  /** The items in no particular order; a copy, safe to iterate while changing the heap. */
  values(): T[] {
    return this.items.slice();
  }

  clear(): void {
    for (const item of this.items) item.heapIndex = -1;
    this.items.length = 0;
  }

  private removeAt(index: number): void {
    const removed = this.items[index];
    const last = this.items.pop();
    if (removed === undefined || last === undefined) return;
    removed.heapIndex = -1;
    if (last === removed) return;
    this.items[index] = last;
    last.heapIndex = index;
    this.up(index);
    this.down(last.heapIndex);
  }

  private up(start: number): void {
    const items = this.items;
    const item = items[start];
    if (item === undefined) return;
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (parent === undefined || !this.before(item, parent)) break;
      items[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }

  private down(start: number): void {
    const items = this.items;
    const item = items[start];
    if (item === undefined) return;
    const length = items.length;
    let index = start;
    for (;;) {
      const leftIndex = 2 * index + 1;
      if (leftIndex >= length) break;
      let childIndex = leftIndex;
      let child = items[leftIndex];
      const right = items[leftIndex + 1];
      if (right !== undefined && child !== undefined && this.before(right, child)) {
        childIndex = leftIndex + 1;
        child = right;
      }
      if (child === undefined || !this.before(child, item)) break;
      items[index] = child;
      child.heapIndex = index;
      index = childIndex;
    }
    items[index] = item;
    item.heapIndex = index;
  }
}
