/**
 * Low-level pieces of the binary codecs: a slab writer, a bounds-checked reader,
 * LEB128 varints (up to 2^53 − 1, canonical form only) and a bounded cache of short decoded
 * strings. Everything here is internal to the codecs folder.
 */
import { utf8Decode } from './utf8.ts';

const encoder = new TextEncoder();
/** Size of the slabs encoded records are carved from. */
const SLAB_BYTES = 64 * 1024;
/** Records larger than this get a buffer of their own instead of a piece of a slab. */
const MAX_SLAB_RECORD = 4 * 1024;
const MAX_VARINT_BYTES = 8;
/** An input whose buffer is at least this many times its size is read in place (see ByteReader). */
const SHARED_BUFFER_RATIO = 4;

/** Bytes the unsigned LEB128 varint of `n` takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/**
 * Writes records back to back into a slab (like Node's Buffer pool): `finish()` returns a view of
 * the bytes just written, so a small record costs no allocation but that view. A view keeps its
 * 64 KiB slab alive; records over 4 KiB are copied out into a buffer of their own.
 */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  /** Where the record being written starts in `buf`. */
  start = 0;
  pos = 0;
  /** True while an encode is using this writer (guards against re-entrant use). */
  busy = false;

  constructor() {
    this.buf = new Uint8Array(SLAB_BYTES);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  /** Moves the record being written to a fresh slab (larger if needed). */
  private grow(n: number): void {
    const used = this.pos - this.start;
    let size = SLAB_BYTES;
    while (size < used + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(this.start, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = used;
  }

  /** The bytes of the record just written. */
  finish(): Uint8Array {
    const { start, pos } = this;
    if (pos - start > MAX_SLAB_RECORD) {
      const out = this.buf.slice(start, pos);
      this.reset();
      return out;
    }
    this.start = pos;
    return new Uint8Array(this.buf.buffer, start, pos - start);
  }

  /** Drops the record being written (after a failed encode); lets go of an oversized slab. */
  reset(): void {
    this.pos = this.start;
    if (this.buf.length > SLAB_BYTES) {
      this.buf = new Uint8Array(SLAB_BYTES);
      this.view = new DataView(this.buf.buffer);
      this.start = this.pos = 0;
    }
  }

  /** Writes one byte (room must have been ensured). */
  u8(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** Writes a little-endian IEEE-754 double (room must have been ensured). */
  f64(v: number): void {
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  /** Writes an unsigned LEB128 varint of a safe integer ≥ 0 (room must have been ensured). */
  varint(n: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80; // & works modulo 2^32, so the low 7 bits are right for any n
      n = n >= 0x80000000 ? Math.floor(n / 128) : n >>> 7;
    }
    buf[p++] = n;
    this.pos = p;
  }

  /**
   * Writes a varint byte length then the UTF-8 bytes of `s`. Returns false (writing nothing) when
   * `s` has a lone surrogate. Fast path: short ASCII strings, copied char by char.
   */
  string(s: string): boolean {
    const n = s.length;
    this.ensure(MAX_VARINT_BYTES + 3 * n);
    if (n < 0x80) {
      const buf = this.buf;
      const p = this.pos;
      buf[p] = n;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return this.stringSlow(s);
        buf[p + 1 + i] = c;
      }
      this.pos = p + 1 + n;
      return true;
    }
    return this.stringSlow(s);
  }

  private stringSlow(s: string): boolean {
    if (!s.isWellFormed()) return false;
    const start = this.pos;
    const body = start + MAX_VARINT_BYTES;
    const { written } = encoder.encodeInto(s, this.buf.subarray(body));
    this.varint(written);
    this.buf.copyWithin(this.pos, body, body + written);
    this.pos += written;
    return true;
  }
}

/** Why a {@link ByteReader} stopped: the reason and the byte offset (relative to the input). */
export class ReadFailure {
  readonly reason: string;
  readonly offset: number;
  constructor(reason: string, offset: number) {
    this.reason = reason;
    this.offset = offset;
  }
}

/**
 * Reads an input in place when it is a view into a larger buffer (a record of a batch, or of an
 * encoder's slab): the views of that buffer are made once and reused for every record in it.
 * A small input with a buffer of its own is copied into a reusable scratch instead (no DataView per
 * record); a large one is read in place. Positions (`pos`, `end`, ReadFailure offsets) are
 * absolute in `buf`; `base` is where the input starts. Every read is bounds-checked and throws a
 * {@link ReadFailure}.
 */
export class ByteReader {
  buf: Uint8Array;
  view: DataView;
  /** Where the input starts in `buf`. */
  base = 0;
  pos = 0;
  end = 0;
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;
  /** The buffer shared by recent inputs, and its views. */
  private shared: ArrayBufferLike | null = null;
  private sharedBuf: Uint8Array;
  private sharedView: DataView;

  constructor(scratchSize = 4096) {
    this.scratch = new Uint8Array(scratchSize);
    this.scratchView = new DataView(this.scratch.buffer);
    this.buf = this.sharedBuf = this.scratch;
    this.view = this.sharedView = this.scratchView;
  }

  /** Starts reading `bytes`. */
  reset(bytes: Uint8Array): void {
    const buffer = bytes.buffer;
    const n = bytes.length;
    if (buffer === this.shared) {
      this.buf = this.sharedBuf;
      this.view = this.sharedView;
      this.base = bytes.byteOffset;
    } else if (n > this.scratch.length || buffer.byteLength >= SHARED_BUFFER_RATIO * n) {
      this.shared = buffer;
      this.buf = this.sharedBuf = new Uint8Array(buffer);
      this.view = this.sharedView = new DataView(buffer);
      this.base = bytes.byteOffset;
    } else {
      this.scratch.set(bytes);
      this.buf = this.scratch;
      this.view = this.scratchView;
      this.base = 0;
    }
    this.pos = this.base;
    this.end = this.base + n;
  }

  /** Throws a ReadFailure unless `n` more bytes are available. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new ReadFailure(`truncated: ${what} needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  /** Reads one byte. */
  u8(what: string): number {
    if (this.pos >= this.end) throw new ReadFailure(`truncated: ${what} missing`, this.pos);
    return this.buf[this.pos++] as number;
  }

  /** Reads a little-endian double. */
  f64(what: string): number {
    if (this.end - this.pos < 8) this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a canonical unsigned LEB128 varint (at most 8 bytes, value ≤ 2^53 − 1). */
  varint(what: string): number {
    const start = this.pos;
    if (start < this.end) {
      const b = this.buf[start] as number;
      if (b < 0x80) {
        this.pos = start + 1;
        return b;
      }
    }
    let result = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new ReadFailure(`truncated: ${what} (varint) missing`, start);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new ReadFailure(`${what} (varint) is not in canonical form`, start);
        if (result > Number.MAX_SAFE_INTEGER) throw new ReadFailure(`${what} (varint) exceeds 2^53 - 1`, start);
        return result;
      }
      scale *= 128;
    }
    throw new ReadFailure(`${what} (varint) is longer than ${MAX_VARINT_BYTES} bytes`, start);
  }

  /** Reads a varint length then that many UTF-8 bytes; short ones go through `cache` if given. */
  string(what: string, cache?: StringCache): string {
    const lengthAt = this.pos;
    // One-byte lengths (< 128) inline: no varint call, and no message string built per read.
    const first = lengthAt < this.end ? (this.buf[lengthAt] as number) : 0x80;
    const n = first < 0x80 ? first : this.varint(`${what} length`);
    if (first < 0x80) this.pos = lengthAt + 1;
    if (n > this.end - this.pos) {
      throw new ReadFailure(`truncated: ${what} needs ${n} bytes, ${this.end - this.pos} left`, lengthAt);
    }
    const start = this.pos;
    this.pos = start + n;
    const s = cache !== undefined && n <= cache.maxBytes ? cache.find(this.buf, start, n) : tryDecodeUtf8(this.buf, start, n);
    if (s === undefined) throw new ReadFailure(`${what} is not valid UTF-8`, start);
    return s;
  }
}

/**
 * Decodes `n` bytes at `start`: a quick loop for short ASCII, the strict TextDecoder otherwise;
 * undefined when they are not valid UTF-8 (no throw on the hot path: callers then need no try,
 * which made V8's code for a short-string lookup ~60 ns slower).
 */
function tryDecodeUtf8(buf: Uint8Array, start: number, n: number): string | undefined {
  if (n <= 32) {
    let s = '';
    for (let i = start; i < start + n; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) return strictUtf8(buf, start, n);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return strictUtf8(buf, start, n);
}

function strictUtf8(buf: Uint8Array, start: number, n: number): string | undefined {
  try {
    return utf8Decode(buf, start, start + n);
  } catch {
    return undefined;
  }
}

/**
 * A bounded cache from short UTF-8 byte strings to decoded strings: four-way set-associative (the
 * FNV-1a hash of the bytes picks a set of four slots; a miss replaces the set's least recently
 * used one). Four ways, not two: with as many strings as sets (a fleet of 1,000 device ids in 1,024
 * sets), ~2 % of them share a set with four others and miss every time in a round-robin, against
 * ~8 % with pairs of slots — and a miss (decode, copy, new string) costs ten hits.
 * It saves building (and interning) the same device ids and names for every record.
 */
export class StringCache {
  readonly maxBytes: number;
  private readonly setMask: number;
  private readonly keys: Uint8Array;
  private readonly lengths: Int32Array;
  private readonly values: string[];
  /** Per slot: the tick of its last use (0: never). */
  private readonly used: Float64Array;
  private tick = 0;

  /** `slots` must be a power of two ≥ 4. */
  constructor(slots: number, maxBytes: number) {
    if (!(slots >= 4 && (slots & (slots - 1)) === 0)) throw new RangeError(`StringCache: slots must be a power of two ≥ 4, got ${slots}`);
    this.maxBytes = maxBytes;
    this.setMask = slots / 4 - 1;
    this.keys = new Uint8Array(slots * maxBytes);
    this.lengths = new Int32Array(slots).fill(-1);
    this.values = Array.from({ length: slots }, () => '');
    this.used = new Float64Array(slots);
  }

  /** The string of `buf[start, start + n)` (n ≤ maxBytes), or undefined when it is not valid UTF-8. */
  find(buf: Uint8Array, start: number, n: number): string | undefined {
    let h = 0x811c9dc5;
    for (let i = start; i < start + n; i++) h = Math.imul(h ^ (buf[i] as number), 0x01000193);
    const first = ((h ^ (h >>> 15)) & this.setMask) * 4;
    for (let slot = first; slot < first + 4; slot++) {
      if (this.matches(slot, buf, start, n)) {
        this.used[slot] = ++this.tick;
        return this.values[slot] as string;
      }
    }
    const value = tryDecodeUtf8(buf, start, n);
    if (value === undefined) return undefined;
    let victim = first;
    for (let slot = first + 1; slot < first + 4; slot++) if ((this.used[slot] as number) < (this.used[victim] as number)) victim = slot;
    this.keys.set(buf.subarray(start, start + n), victim * this.maxBytes);
    this.lengths[victim] = n;
    this.values[victim] = value;
    this.used[victim] = ++this.tick;
    return value;
  }

  private matches(slot: number, buf: Uint8Array, start: number, n: number): boolean {
    if (this.lengths[slot] !== n) return false;
    const keys = this.keys;
    const base = slot * this.maxBytes - start;
    for (let i = start; i < start + n; i++) if (keys[base + i] !== buf[i]) return false;
    return true;
  }
}

/**
 * The cache of short identifiers: record keys decoded by the string codec and the device ids of
 * telemetry records, which are usually the same strings — one cache holds each once, and the
 * second lookup of a record finds its set already in the CPU's cache. Strings repeat (device ids,
 * names), so decoding one is then a hash and a compare. 16,384 slots of 48 bytes (~1 MB, touched
 * as used): a fleet of 5,000 devices looked up in turn still hits ~96 % of the time (with 4,096
 * slots: ~28 %).
 */
export const idStrings = new StringCache(16384, 48);
