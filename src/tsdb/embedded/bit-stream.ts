/**
 * Bit-level writer and reader over a `Uint8Array`, most significant bit first, as Prometheus's `bstream`.
 * Values wider than 32 bits travel as two unsigned 32-bit halves because JavaScript bit operators are 32-bit.
 */
export class BitWriter {
  private buf: Uint8Array;
  private len = 0;
  /** Bits still free in the last byte; 0 means the next bit starts a new byte. */
  private free = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  /** Writes the low `n` bits of `v` (0 ≤ n ≤ 32). */
  writeBits(v: number, n: number): void {
    while (n > 0) {
      if (this.free === 0) {
        if (this.len === this.buf.length) this.grow();
        this.buf[this.len++] = 0;
        this.free = 8;
      }
      const take = Math.min(n, this.free);
      const bits = (v >>> (n - take)) & ((1 << take) - 1);
      this.buf[this.len - 1] = (this.buf[this.len - 1] as number) | (bits << (this.free - take));
      this.free -= take;
      n -= take;
    }
  }

  writeBit(bit: boolean): void {
    this.writeBits(bit ? 1 : 0, 1);
  }

  /** Writes the low `n` bits (0 ≤ n ≤ 64) of the 64-bit value `hi:lo`. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  /** Unsigned LEB128 of a non-negative integer up to 2^53. */
  writeUvarint(x: number): void {
    while (x >= 0x80) {
      this.writeBits((x % 0x80) | 0x80, 8);
      x = Math.floor(x / 0x80);
    }
    this.writeBits(x, 8);
  }

  /** Zigzag-encoded signed integer (|x| < 2^52). */
  writeVarint(x: number): void {
    this.writeUvarint(x < 0 ? -2 * x - 1 : 2 * x);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }
}

export class BitReader {
  private pos = 0;
  /** Bits still unread in the current byte (`buf[pos]`). */
  private left = 8;

  constructor(private readonly buf: Uint8Array) {}

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    let out = 0;
    while (n > 0) {
      if (this.pos >= this.buf.length) throw new RangeError("chunk ends before its last sample");
      const take = Math.min(n, this.left);
      const byte = this.buf[this.pos] as number;
      const bits = (byte >>> (this.left - take)) & ((1 << take) - 1);
      out = out * (1 << take) + bits;
      this.left -= take;
      n -= take;
      if (this.left === 0) {
        this.pos++;
        this.left = 8;
      }
    }
    return out;
  }

  readBit(): boolean {
    if (this.pos >= this.buf.length) throw new RangeError("chunk ends before its last sample");
    const bit = ((this.buf[this.pos] as number) >>> (this.left - 1)) & 1;
    if (--this.left === 0) {
      this.pos++;
      this.left = 8;
    }
    return bit === 1;
  }

  readUvarint(): number {
    let x = 0;
    let scale = 1;
    for (;;) {
      const b = this.readBits(8);
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 0x80;
    }
  }

  readVarint(): number {
    const u = this.readUvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
}
