/**
 * The in-memory key-value store of a task. Entries live in a JS Map keyed by the key itself when it
 * is a string or a number, otherwise by its encoded bytes (so two equal object keys are one entry).
 * Memory: one Map entry per distinct key (the decoded key and value plus ~100 bytes of overhead);
 * bound it with `maxEntries`. Every put/delete made through the public API is also noted for the
 * changelog; at each commit the latest write per key goes to the changelog writer (the task's
 * collector, changelog-buffer.ts), so the changelog commits with the outputs.
 *
 * Changelog record format: key = the key codec's bytes, value = the value codec's bytes; a delete is
 * a tombstone: an empty value with the header `sluice.tombstone` (record.ts; compaction keeps the
 * latest record per key, so the tombstone replaces the old value).
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Codec } from '../../log/codecs/codec.ts';
import type { LogRecord } from '../../log/types.ts';
import { KeyBytesCache } from '../key-bytes.ts';
import { TOMBSTONE_HEADER } from '../record.ts';
import { ChangelogBuffer } from './changelog-buffer.ts';
import type { StoreSpec } from './spec.ts';

/** A key-value state store as processors see it (`context.getStore(name)`). */
export interface KeyValueStore<K, V> {
  readonly name: string;
  /** The value of `key`, or undefined. */
  get(key: K): V | undefined;
  /** Sets the value of `key` (and logs it to the changelog). */
  put(key: K, value: V): void;
  /** Removes `key` (and logs a tombstone); returns whether it was there. */
  delete(key: K): boolean;
  /** Number of entries. */
  readonly size: number;
  /** Every entry, in insertion order. */
  entries(): IterableIterator<[K, V]>;
}

/** Receives the changelog record of a write: value null for a delete. */
export type ChangelogWriter = (key: Uint8Array, value: Uint8Array | null) => void;

const latin1 = new TextDecoder('latin1');

/** An in-memory store; `changelog` null for read-only mirrors (tables, global tables). */
export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  readonly name: string;
  readonly #spec: StoreSpec;
  readonly #map = new Map<unknown, [K, V]>();
  readonly #changelog: ChangelogBuffer<unknown> | null;
  readonly #readOnly: boolean;
  readonly #keys: KeyBytesCache<K>;
  /** Whether changelog values are encoded at the commit (StoreSpec.encodeChangelog), not at put(). */
  readonly #encodeAtCommit: boolean;

  constructor(spec: StoreSpec, changelog: ChangelogWriter | null, readOnly = false) {
    this.name = spec.name;
    this.#spec = spec;
    this.#changelog = changelog === null ? null : new ChangelogBuffer(changelog);
    this.#encodeAtCommit = changelog !== null && spec.encodeChangelog === 'commit';
    this.#readOnly = readOnly;
    this.#keys = new KeyBytesCache(spec.keyCodec as Codec<K>);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(this.#id(key))?.[1];
  }

  put(key: K, value: V): void {
    this.#assertWritable();
    const keyBytes = this.#keys.encode(key);
    const valueBytes = this.#encodeAtCommit ? null : this.#spec.valueCodec.encode(value);
    const id = this.#idOf(key, keyBytes);
    if (!this.#map.has(id) && this.#spec.maxEntries !== null && this.#map.size >= this.#spec.maxEntries) {
      throw new SluiceError(ErrorCode.STREAM_PROCESSING, `store '${this.name}' is full (maxEntries ${this.#spec.maxEntries}); key not added`, {
        details: { store: this.name, maxEntries: this.#spec.maxEntries },
      });
    }
    this.#map.set(id, [key, value]);
    if (this.#encodeAtCommit) this.#changelog!.writeLater(id, keyBytes, this.#encodeHeld);
    else this.#changelog?.write(id, keyBytes, valueBytes);
  }

  /** The changelog value of `id` at the commit (encodeChangelog 'commit'): the value held now. */
  readonly #encodeHeld = (id: unknown): Uint8Array => this.#spec.valueCodec.encode(this.#map.get(id)![1]);

  delete(key: K): boolean {
    this.#assertWritable();
    const keyBytes = this.#keys.encode(key);
    const id = this.#idOf(key, keyBytes);
    const had = this.#map.delete(id);
    if (had) this.#changelog?.write(id, keyBytes, null);
    return had;
  }

  /** Sends the latest write of every key written since the last call to the changelog (at a commit). */
  flushChangelog(): void {
    this.#changelog?.flush();
  }

  /** Bytes of the changelog writes {@link flushChangelog} would send now. */
  get pendingChangelogBytes(): number {
    return this.#changelog?.bytes ?? 0;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [k, v] of this.#map.values()) yield [k, v];
  }

  /** Applies a changelog (or table topic) record without logging it: restore and table updates. */
  apply(record: Pick<LogRecord, 'key' | 'value' | 'headers'>): void {
    if (record.key === null) return;
    const key = this.#spec.keyCodec.decode(record.key) as K;
    const id = this.#idOf(key, record.key);
    if (record.headers[TOMBSTONE_HEADER] !== undefined) {
      this.#map.delete(id);
      return;
    }
    this.#map.set(id, [key, this.#spec.valueCodec.decode(record.value) as V]);
  }

  #id(key: K): unknown {
    return typeof key === 'string' || typeof key === 'number' ? key : latin1.decode(this.#keys.encode(key));
  }

  #idOf(key: K, bytes: Uint8Array): unknown {
    return typeof key === 'string' || typeof key === 'number' ? key : latin1.decode(bytes);
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new SluiceError(ErrorCode.STREAM_PROCESSING, `store '${this.name}' is a table mirrored from topic '${String(this.#spec.topic)}'; it is read-only`);
  }
}
