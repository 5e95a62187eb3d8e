/**
 * Memoised key encoding. Stream keys repeat (one device id per device, record after record), and
 * encoding one costs a codec call and an allocation per record, for every output and every store
 * write. Keys that are strings or numbers are kept here with their bytes in a bounded map
 * (cleared when full); other keys are encoded every time. This is sound because a key codec must
 * be deterministic anyway: equal keys must give equal bytes to land on the same partition.
 * The bytes are shared by every record with that key, so nobody may mutate them (the log copies
 * them into its batches).
 */
import type { Codec } from '../log/codecs/codec.ts';

/** Distinct keys kept per cache before it starts over. */
export const KEY_CACHE_ENTRIES = 4096;

/** Encodes keys with `codec`, remembering the bytes of recent string and number keys. */
export class KeyBytesCache<K> {
  readonly #codec: Codec<K>;
  readonly #maxEntries: number;
  readonly #bytes = new Map<K, Uint8Array>();

  constructor(codec: Codec<K>, maxEntries: number = KEY_CACHE_ENTRIES) {
    this.#codec = codec;
    this.#maxEntries = maxEntries;
  }

  /** The codec's bytes of `key` (throws what the codec throws). */
  encode(key: K): Uint8Array {
    // -0 is the same Map key as 0, but a codec may encode it differently: never cached.
    if (typeof key !== 'string' && (typeof key !== 'number' || Object.is(key, -0))) return this.#codec.encode(key);
    let bytes = this.#bytes.get(key);
    if (bytes === undefined) {
      bytes = this.#codec.encode(key);
      if (this.#bytes.size >= this.#maxEntries) this.#bytes.clear();
      this.#bytes.set(key, bytes);
    }
    return bytes;
  }
}
