/**
 * A bounded direct-mapped cache from short byte blocks to what they decode to: records of one kind
 * repeat some sections byte for byte (the metric names, the tags), and a hit costs one hash and one
 * compare of the bytes instead of parsing them. The FNV-1a hash of the block (4 bytes at a time,
 * then byte by byte) picks the slot; a hit is confirmed by comparing every byte; a miss is parsed
 * by the caller and replaces the slot. Memory: `slots × maxBytes` bytes plus the cached values.
 */

/** Where a {@link BlockCache} reads a block from: the bytes and a view of the same memory. */
export interface BlockSource {
  readonly buf: Uint8Array;
  readonly view: DataView;
}

/** See the file comment. */
export class BlockCache<T> {
  /** Longest block cached. */
  readonly maxBytes: number;
  readonly #mask: number;
  readonly #keys: Uint8Array;
  readonly #keysView: DataView;
  readonly #lengths: Int32Array;
  readonly #values: (T | undefined)[];

  /** `slots` must be a power of two; `maxBytes` a multiple of 4. */
  constructor(slots: number, maxBytes: number) {
    this.maxBytes = maxBytes;
    this.#mask = slots - 1;
    this.#keys = new Uint8Array(slots * maxBytes);
    this.#keysView = new DataView(this.#keys.buffer);
    this.#lengths = new Int32Array(slots).fill(-1);
    this.#values = Array.from({ length: slots }, () => undefined);
  }

  /** The slot of the block `src.buf[start, start + length)` (length ≤ maxBytes). */
  slot(src: BlockSource, start: number, length: number): number {
    const { buf, view } = src;
    const words = start + (length & ~3);
    let h = 0x811c9dc5;
    for (let i = start; i < words; i += 4) h = Math.imul(h ^ view.getUint32(i, true), 0x01000193);
    for (let i = words; i < start + length; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    return (h ^ (h >>> 16)) & this.#mask;
  }

  /** The value cached in `slot` for exactly these bytes, or undefined. */
  get(slot: number, src: BlockSource, start: number, length: number): T | undefined {
    const value = this.#values[slot];
    if (value === undefined || this.#lengths[slot] !== length) return undefined;
    const { buf, view } = src;
    const keys = this.#keys;
    const keysView = this.#keysView;
    const base = slot * this.maxBytes - start;
    const words = start + (length & ~3);
    let i = start;
    while (i < words && view.getUint32(i, true) === keysView.getUint32(base + i, true)) i += 4;
    if (i < words) return undefined;
    while (i < start + length && buf[i] === keys[base + i]) i++;
    return i === start + length ? value : undefined;
  }

  /** Caches `value` for these bytes in `slot` (replacing what was there). */
  set(slot: number, src: BlockSource, start: number, length: number, value: T): void {
    this.#keys.set(src.buf.subarray(start, start + length), slot * this.maxBytes);
    this.#lengths[slot] = length;
    this.#values[slot] = value;
  }
}
