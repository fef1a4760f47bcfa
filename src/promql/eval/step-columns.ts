/** Float64 elements of one shared block (64 KiB): at a single step, 8,192 series share two buffers. */
const BLOCK_ELEMENTS = 8192;

/**
 * Hands out each output series' `values` and `present` arrays, carved from blocks shared by many series.
 * A query over 20,000 series at one step (the SLO runtime's per-minute batches) made two ArrayBuffers per
 * series: each a backing store of its own, allocated and freed outside the JavaScript heap and counted by the
 * collector as external memory, which pulls full collections forward. A view on a shared block is a plain
 * heap object. Long range queries (more steps than a block holds) get arrays of their own, as before.
 */
export class StepColumns {
  private values: Float64Array | undefined;
  private present: Uint8Array | undefined;
  private used = 0;
  private readonly perBlock: number;

  constructor(private readonly stepCount: number) {
    this.perBlock = Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, stepCount)));
  }

  /** Zeroed arrays of `stepCount` elements for one more series. */
  next(): { values: Float64Array; present: Uint8Array } {
    const n = this.stepCount;
    if (this.perBlock === 1) return { values: new Float64Array(n), present: new Uint8Array(n) };
    if (this.values === undefined || this.present === undefined || this.used === this.perBlock) {
      this.values = new Float64Array(this.perBlock * n);
      this.present = new Uint8Array(this.perBlock * n);
      this.used = 0;
    }
    const from = this.used * n;
    this.used++;
    return { values: this.values.subarray(from, from + n), present: this.present.subarray(from, from + n) };
  }
}
