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
  /** Position of the next unread bit, from the first byte's most significant bit. */
  private bit = 0;
  private readonly bits: number;

  constructor(private readonly buf: Uint8Array) {
    this.bits = buf.length * 8;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned number. */
  readBits(n: number): number {
    if (n === 0) return 0;
    const at = this.bit;
    if (at + n > this.bits) throw new RangeError("chunk ends before its last sample");
    this.bit = at + n;
    const shift = at & 7;
    if (n + shift <= 32) {
      // One big-endian 32-bit window holds every bit asked for; past the end it reads zeros.
      const i = at >>> 3;
      const b = this.buf;
      let word: number;
      if (i + 3 < b.length) {
        word =
          ((b[i] as number) << 24) |
          ((b[i + 1] as number) << 16) |
          ((b[i + 2] as number) << 8) |
          (b[i + 3] as number);
      } else {
        word = 0;
        for (let k = 0; k < 4; k++) word = (word << 8) | (i + k < b.length ? (b[i + k] as number) : 0);
      }
      return (word << shift) >>> (32 - n);
    }
    // More than fits one window: the high part, then the rest.
    const high = n - 16;
    this.bit = at;
    const hi = this.readBits(high);
    const lo = this.readBits(16);
    return hi * 65536 + lo;
  }

  readBit(): boolean {
    const at = this.bit;
    if (at >= this.bits) throw new RangeError("chunk ends before its last sample");
    this.bit = at + 1;
    return (((this.buf[at >>> 3] as number) >>> (7 - (at & 7))) & 1) === 1;
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
