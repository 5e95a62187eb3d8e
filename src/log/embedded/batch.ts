/**
 * The embedded backend's record-batch format: one SQLite row holds one batch of records of one
 * partition, as a single blob.
 *
 * Layout (little-endian):
 *   header   magic u8 = 0x53 ('S'), version u8 = 1, count u32, crc32 u32 (zlib CRC-32 of the
 *            first 6 header bytes, then the body: everything but the CRC itself)
 *   body     `count` records, each:
 *              offsetDelta u32        offset − the batch's base offset (gaps appear after compaction)
 *              timestamp   f64        event time in ms (a double holds every ms timestamp exactly)
 *              keyLength   i32        −1 for a null key
 *              key         bytes
 *              valueLength u32
 *              value       bytes
 *              headerCount u16
 *              headers     headerCount × (nameLength u16, name UTF-8, valueLength u32, value bytes)
 * The CRC guards against storage corruption; a mismatch raises LOG_STORAGE_CORRUPT instead of
 * returning garbage.
 */
import { crc32 } from 'node:zlib';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { LogRecord, RecordHeaders } from '../types.ts';

const MAGIC = 0x53;
const VERSION = 1;
const HEADER_BYTES = 10;
const EMPTY_HEADERS: RecordHeaders = Object.freeze({});
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** One record to encode into a batch (a producer's record or a stored one). */
export interface BatchEntry {
  readonly timestamp?: number;
  readonly key?: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers?: RecordHeaders | undefined;
}

/** Which entries to encode, and how. */
export interface EncodeOptions {
  /** First entry to encode. Default 0. */
  readonly from?: number;
  /** End of the range (exclusive). Default: all entries. */
  readonly to?: number;
  /** Timestamp of entries without one. */
  readonly defaultTimestamp?: number;
  /** Offset deltas of the entries (compaction keeps the original offsets). Default: 0, 1, 2… */
  readonly offsetDeltas?: readonly number[];
}

/** The header names of `headers` as UTF-8, each with its value; null when there are none. */
function encodedHeaders(headers: RecordHeaders | undefined): Array<[Uint8Array, Uint8Array]> | null {
  if (headers === undefined) return null;
  let out: Array<[Uint8Array, Uint8Array]> | null = null;
  for (const name in headers) {
    (out ??= []).push([utf8.encode(name), headers[name]!]);
  }
  return out;
}

/** Encodes entries (a range of them, per `options`) into one batch blob. */
export function encodeBatch(entries: readonly BatchEntry[], options: EncodeOptions = {}): Uint8Array {
  const { from = 0, to = entries.length, defaultTimestamp = 0, offsetDeltas } = options;
  const count = to - from;
  // Records of a batch usually share one headers object (often the empty one): encoded once.
  let headerBytes: Array<Array<[Uint8Array, Uint8Array]> | null> | null = null;
  let lastHeaders: RecordHeaders | undefined;
  let lastEncoded: Array<[Uint8Array, Uint8Array]> | null = null;
  let lastSize = 0;
  let size = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const e = entries[from + i]!;
    if (i === 0 || e.headers !== lastHeaders) {
      lastHeaders = e.headers;
      lastEncoded = encodedHeaders(e.headers);
      lastSize = 0;
      if (lastEncoded !== null) for (const [n, v] of lastEncoded) lastSize += 2 + n.byteLength + 4 + v.byteLength;
    }
    if (lastEncoded !== null) {
      (headerBytes ??= new Array<Array<[Uint8Array, Uint8Array]> | null>(count).fill(null))[i] = lastEncoded;
      size += lastSize;
    }
    size += 4 + 8 + 4 + (e.key == null ? 0 : e.key.byteLength) + 4 + e.value.byteLength + 2;
  }
  // A buffer of its own (not from the shared pool), so it can be transferred to the writer thread;
  // written through a DataView (cheaper per field than Buffer's write methods).
  const buf = Buffer.allocUnsafeSlow(size);
  const view = new DataView(buf.buffer, buf.byteOffset, size);
  buf[0] = MAGIC;
  buf[1] = VERSION;
  view.setUint32(2, count, true);
  let o = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const e = entries[from + i]!;
    view.setUint32(o, offsetDeltas === undefined ? i : offsetDeltas[i]!, true);
    view.setFloat64(o + 4, e.timestamp ?? defaultTimestamp, true);
    o += 12;
    const key = e.key;
    if (key == null) {
      view.setInt32(o, -1, true);
      o += 4;
    } else {
      view.setInt32(o, key.byteLength, true);
      buf.set(key, o + 4);
      o += 4 + key.byteLength;
    }
    const value = e.value;
    view.setUint32(o, value.byteLength, true);
    buf.set(value, o + 4);
    o += 4 + value.byteLength;
    const hs = headerBytes === null ? null : headerBytes[i]!;
    view.setUint16(o, hs?.length ?? 0, true);
    o += 2;
    if (hs !== null) {
      for (const [n, v] of hs) {
        view.setUint16(o, n.byteLength, true);
        buf.set(n, o + 2);
        o += 2 + n.byteLength;
        view.setUint32(o, v.byteLength, true);
        buf.set(v, o + 4);
        o += 4 + v.byteLength;
      }
    }
  }
  view.setUint32(6, checksum(buf), true);
  return buf;
}

/** CRC-32 of magic, version and count, continued over the body. */
function checksum(buf: Uint8Array): number {
  return crc32(buf.subarray(HEADER_BYTES), crc32(buf.subarray(0, 6)));
}

/**
 * A CRC that does not match: damaged storage — or, the one time it was met in practice, a log
 * directory written by an earlier development build whose batch layout differed.
 */
const CRC_MISMATCH =
  'CRC mismatch: the stored batch is damaged, or was written by an incompatible earlier build of Sluice (a log directory from such a build must be moved aside)';

function corrupt(where: string, reason: string): SluiceError {
  return new SluiceError(ErrorCode.LOG_STORAGE_CORRUPT, `corrupt record batch in ${where}: ${reason}`, { details: { where } });
}

/** Where a batch blob came from (for its records' fields and for error messages). */
export interface BatchMeta {
  readonly topic: string;
  readonly partition: number;
  readonly baseOffset: number;
  readonly appendedAt?: number | undefined;
}

/**
 * The records of one batch blob, checked once (magic, version, CRC) and then decoded a few at a
 * time: a reader that takes part of a batch keeps the cursor for its next read instead of
 * decoding the rest at once (records made long before they are used outlive young-generation
 * collections) or reading and checking the blob again. Keys, values and header values are views
 * into the blob (no copies; plain Uint8Arrays, which cost less to make than Buffer slices).
 */
export class BatchCursor {
  readonly #blob: Uint8Array;
  readonly #view: DataView;
  readonly #meta: BatchMeta;
  readonly #where: string;
  readonly #count: number;
  /** Records decoded or skipped so far, and the byte position of the next one. */
  #index = 0;
  #pos = HEADER_BYTES;

  constructor(blob: Uint8Array, meta: BatchMeta) {
    this.#where = `${meta.topic}/${meta.partition}@${meta.baseOffset}`;
    const size = blob.byteLength;
    if (size < HEADER_BYTES || blob[0] !== MAGIC || blob[1] !== VERSION) throw corrupt(this.#where, 'bad magic or version');
    this.#view = new DataView(blob.buffer, blob.byteOffset, size);
    if (checksum(blob) !== this.#view.getUint32(6, true)) throw corrupt(this.#where, CRC_MISMATCH);
    this.#blob = blob;
    this.#meta = meta;
    this.#count = this.#view.getUint32(2, true);
  }

  /** True once every record was taken (or skipped). */
  get done(): boolean {
    return this.#index >= this.#count;
  }

  /**
   * Appends to `out` up to `limit` of the next records whose offset is ≥ `fromOffset` (skipping
   * the others); returns how many it appended.
   */
  take(fromOffset: number, limit: number, out: LogRecord[]): number {
    const blob = this.#blob;
    const view = this.#view;
    const size = blob.byteLength;
    const { topic, partition, baseOffset, appendedAt } = this.#meta;
    const memory = blob.buffer;
    const base = blob.byteOffset;
    const count = this.#count;
    /** A view of `length` bytes at `at`, which must lie inside the blob. */
    const slice = (at: number, length: number): Uint8Array => {
      if (at + length > size) throw new RangeError(`${length} bytes at ${at} run past the end of the batch`);
      return new Uint8Array(memory, base + at, length);
    };
    let o = this.#pos;
    let i = this.#index;
    let added = 0;
    try {
      for (; i < count && added < limit; i++) {
        const offset = baseOffset + view.getUint32(o, true);
        const timestamp = view.getFloat64(o + 4, true);
        o += 12;
        const keyLength = view.getInt32(o, true);
        const keyAt = o + 4;
        o = keyAt + Math.max(0, keyLength);
        const valueLength = view.getUint32(o, true);
        const valueAt = o + 4;
        o = valueAt + valueLength;
        const headerCount = view.getUint16(o, true);
        o += 2;
        if (offset < fromOffset) {
          for (let j = 0; j < headerCount; j++) {
            o += 2 + view.getUint16(o, true);
            o += 4 + view.getUint32(o, true);
          }
          continue;
        }
        let headers = EMPTY_HEADERS;
        if (headerCount > 0) {
          const h: Record<string, Uint8Array> = {};
          for (let j = 0; j < headerCount; j++) {
            const nameLength = view.getUint16(o, true);
            const name = utf8Decoder.decode(slice(o + 2, nameLength));
            o += 2 + nameLength;
            const vLength = view.getUint32(o, true);
            h[name] = slice(o + 4, vLength);
            o += 4 + vLength;
          }
          headers = h;
        }
        const key = keyLength >= 0 ? slice(keyAt, keyLength) : null;
        out.push({ topic, partition, offset, timestamp, key, value: slice(valueAt, valueLength), headers, appendedAt });
        added++;
      }
    } catch (error) {
      throw corrupt(this.#where, `truncated record (${(error as Error).message})`);
    }
    this.#pos = o;
    this.#index = i;
    if (i === count && o !== size) throw corrupt(this.#where, `${size - o} bytes after the last record`);
    return added;
  }
}

/**
 * Decodes the records of a batch whose offset is ≥ `fromOffset`, appending at most `limit` of them
 * to `out`; returns how many it appended.
 */
export function decodeBatch(blob: Uint8Array, meta: BatchMeta, fromOffset: number, limit: number, out: LogRecord[]): number {
  return new BatchCursor(blob, meta).take(fromOffset, limit, out);
}

/** Number of records in a batch blob, from its header. */
export function batchCount(blob: Uint8Array): number {
  return (blob[2]! | (blob[3]! << 8) | (blob[4]! << 16)) + blob[5]! * 0x1000000;
}
