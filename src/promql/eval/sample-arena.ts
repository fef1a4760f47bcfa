/**
 * Sample arrays for one query, carved from blocks that the next query reuses. A range query over a few
 * hundred series fetches megabytes of samples that are garbage as soon as it is evaluated; allocating (and
 * zero-filling) them for every query made V8 collect its old generation about once per query.
 */
export class SampleArena {
  private readonly blocks: Float64Array[] = [];
  private current = 0;
  private used = 0;

  /** Samples per block (2 MiB). */
  static readonly BLOCK_SAMPLES = 1 << 18;
  /** Blocks kept for the next query (16 MiB); a query that needs more allocates the rest. */
  static readonly BLOCKS_KEPT = 8;

  /** An array of `n` samples, valid until `reset`; its contents are whatever the last user left. */
  take(n: number): Float64Array {
    if (n > SampleArena.BLOCK_SAMPLES) return new Float64Array(n);
    let block = this.blocks[this.current];
    if (block !== undefined && this.used + n > block.length) {
      this.current++;
      this.used = 0;
      block = this.blocks[this.current];
    }
    if (block === undefined) {
      block = new Float64Array(SampleArena.BLOCK_SAMPLES);
      this.blocks.push(block);
      this.current = this.blocks.length - 1;
      this.used = 0;
    }
    const out = block.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }

  /** Makes every block free again, keeping at most `BLOCKS_KEPT`. */
  reset(): void {
    this.current = 0;
    this.used = 0;
    if (this.blocks.length > SampleArena.BLOCKS_KEPT) this.blocks.length = SampleArena.BLOCKS_KEPT;
  }
}
