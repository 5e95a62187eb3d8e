/**
 * Byte formats of windowed results and of window-store changelogs.
 *
 * Windowed key (output topics and changelog keys), {@link windowedCodec}:
 *   [key bytes (the key codec's)] [start: int64 big-endian] [end: int64 big-endian]
 * so the key is everything but the last 16 bytes.
 *
 * Window-store changelog value: [max record timestamp: int64 big-endian] [aggregate bytes].
 * The store's stream-time record: key = the single byte 0xff (shorter than any windowed key),
 * value = [stream time: int64 big-endian]; written when windows are closed, so that a restored
 * task knows how far time had gone (and does not accept records for windows already emitted).
 */
import type { Codec } from '../../log/codecs/codec.ts';
import { KeyBytesCache } from '../key-bytes.ts';
import type { Windowed } from './windows.ts';

const TIME_BYTES = 16;
const TWO_32 = 2 ** 32;

/**
 * Writes a safe integer as int64 big-endian, byte by byte: no BigInt, and no DataView (asking a
 * small typed array for its buffer would move it off the V8 heap).
 */
function writeInt64(out: Uint8Array, at: number, n: number): void {
  const hi = Math.floor(n / TWO_32);
  const lo = n - hi * TWO_32;
  out[at] = hi >>> 24;
  out[at + 1] = hi >>> 16;
  out[at + 2] = hi >>> 8;
  out[at + 3] = hi;
  out[at + 4] = lo >>> 24;
  out[at + 5] = lo >>> 16;
  out[at + 6] = lo >>> 8;
  out[at + 7] = lo;
}

/** Reads an int64 big-endian written by {@link writeInt64}. */
function readInt64(bytes: Uint8Array, at: number): number {
  const hi = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  const lo = ((bytes[at + 4]! << 24) | (bytes[at + 5]! << 16) | (bytes[at + 6]! << 8) | bytes[at + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

/** Encodes a windowed key from the key's bytes. */
export function encodeWindowedKey(keyBytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(keyBytes.length + TIME_BYTES);
  out.set(keyBytes, 0);
  writeInt64(out, keyBytes.length, start);
  writeInt64(out, keyBytes.length + 8, end);
  return out;
}

/** Splits a windowed key into the key's bytes, start and end. */
export function decodeWindowedKey(bytes: Uint8Array): { keyBytes: Uint8Array; start: number; end: number } {
  if (bytes.length < TIME_BYTES) throw new Error(`a windowed key has at least ${TIME_BYTES} bytes, got ${bytes.length}`);
  const at = bytes.length - TIME_BYTES;
  return { keyBytes: bytes.subarray(0, at), start: readInt64(bytes, at), end: readInt64(bytes, at + 8) };
}

/**
 * The windowed key a window store last logged (see {@link rememberWindowedKey}): one entry, for
 * the sink that usually encodes the same window's update right after.
 */
const lastLogged = { inner: null as Codec<unknown> | null, key: undefined as unknown, start: 0, end: 0, bytes: new Uint8Array(0) as Uint8Array };

/**
 * Notes that `bytes` encode window [`start`, `end`] of `key` under `windowedCodec(inner)`: a
 * window store passes the changelog key of each window it logs, so that a sink writing that
 * window's update next gets the same bytes instead of encoding them again. Only string and number
 * keys (other than -0) are remembered: their bytes depend on nothing but the value, which the
 * codec compares.
 */
export function rememberWindowedKey(inner: Codec<unknown>, key: unknown, start: number, end: number, bytes: Uint8Array): void {
  if (typeof key !== 'string' && (typeof key !== 'number' || Object.is(key, -0))) return;
  lastLogged.inner = inner;
  lastLogged.key = key;
  lastLogged.start = start;
  lastLogged.end = end;
  lastLogged.bytes = bytes;
}

/**
 * The codec of windowed keys over `key` (what windowed aggregations' streams use by default). The
 * inner key's bytes are memoised (key-bytes.ts): one window's updates repeat the same key; and the
 * window a store just logged is not encoded again ({@link rememberWindowedKey}). The bytes
 * returned may be shared: nobody may mutate them (the log copies them into its batches).
 */
export function windowedCodec<K>(key: Codec<K>): Codec<Windowed<K>> {
  const keys = new KeyBytesCache(key);
  return {
    name: `windowed(${key.name})`,
    encode: (w) => {
      const last = lastLogged;
      if (last.inner === key && Object.is(last.key, w.key) && last.start === w.start && last.end === w.end) return last.bytes;
      return encodeWindowedKey(keys.encode(w.key), w.start, w.end);
    },
    decode: (bytes) => {
      const { keyBytes, start, end } = decodeWindowedKey(bytes);
      return { key: key.decode(keyBytes), start, end };
    },
  };
}

/** The key of the store's stream-time record. */
export const TIME_KEY = new Uint8Array([0xff]);

/** An int64 big-endian prefix followed by `rest`. */
export function withTimePrefix(time: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + rest.length);
  writeInt64(out, 0, time);
  out.set(rest, 8);
  return out;
}

/** Reads the int64 prefix and the rest of a value written by {@link withTimePrefix}. */
export function readTimePrefix(bytes: Uint8Array): { time: number; rest: Uint8Array } {
  if (bytes.length < 8) throw new Error(`a time-prefixed value has at least 8 bytes, got ${bytes.length}`);
  return { time: readInt64(bytes, 0), rest: bytes.subarray(8) };
}
