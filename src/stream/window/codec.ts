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
import type { Windowed } from './windows.ts';

const TIME_BYTES = 16;

function writeTimes(out: Uint8Array, at: number, a: number, b: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setBigInt64(at, BigInt(a));
  view.setBigInt64(at + 8, BigInt(b));
}

/** Encodes a windowed key from the key's bytes. */
export function encodeWindowedKey(keyBytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(keyBytes.length + TIME_BYTES);
  out.set(keyBytes, 0);
  writeTimes(out, keyBytes.length, start, end);
  return out;
}

/** Splits a windowed key into the key's bytes, start and end. */
export function decodeWindowedKey(bytes: Uint8Array): { keyBytes: Uint8Array; start: number; end: number } {
  if (bytes.length < TIME_BYTES) throw new Error(`a windowed key has at least ${TIME_BYTES} bytes, got ${bytes.length}`);
  const at = bytes.length - TIME_BYTES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { keyBytes: bytes.subarray(0, at), start: Number(view.getBigInt64(at)), end: Number(view.getBigInt64(at + 8)) };
}

/** The codec of windowed keys over `key` (what windowed aggregations' streams use by default). */
export function windowedCodec<K>(key: Codec<K>): Codec<Windowed<K>> {
  return {
    name: `windowed(${key.name})`,
    encode: (w) => encodeWindowedKey(key.encode(w.key), w.start, w.end),
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
  new DataView(out.buffer).setBigInt64(0, BigInt(time));
  out.set(rest, 8);
  return out;
}

/** Reads the int64 prefix and the rest of a value written by {@link withTimePrefix}. */
export function readTimePrefix(bytes: Uint8Array): { time: number; rest: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { time: Number(view.getBigInt64(0)), rest: bytes.subarray(8) };
}
