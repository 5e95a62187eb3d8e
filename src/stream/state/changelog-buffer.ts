/**
 * A store's changelog writes between two commits, as Kafka Streams' record cache does for its
 * changelogs: only the latest write of each key is kept, and the kept writes go to the changelog
 * writer (the task's collector) when the task commits (`flush`, from task.prepareCommit()), in the
 * order their keys were first written since the last flush. The runtime commits input offsets
 * only after the flushed records are durable (in exactly-once mode: in the same transaction), so a
 * restore from the changelog still gives the state as of the committed offsets (at-least-once:
 * possibly later). Writes superseded within one commit interval are never produced, stored or
 * compacted: a key updated by every record costs one changelog record per commit, not per record.
 * Memory: one entry per key written since the last flush, so at most the store's own size.
 * A write may leave its value to be encoded at the flush ({@link ChangelogBuffer.writeLater}): a
 * window updated by every record is then encoded once per commit, not once per update.
 */
import type { ChangelogWriter } from './store.ts';

/** The latest pending write of one key: its value (null: a delete), or what encodes it at the flush. */
interface PendingWrite<Id> {
  key: Uint8Array;
  value: Uint8Array | null;
  later: ((id: Id) => Uint8Array) | null;
}

/** What a value encoded at the flush counts for in {@link ChangelogBuffer.bytes} until then, at first. */
const FIRST_LATER_VALUE_BYTES = 64;

/** Pending changelog writes of one store, the latest per key. */
export class ChangelogBuffer<Id> {
  readonly #writer: ChangelogWriter;
  #pending = new Map<Id, PendingWrite<Id>>();
  #bytes = 0;
  /** The size of the last value encoded at a flush (what a pending one counts for). */
  #laterValueBytes = FIRST_LATER_VALUE_BYTES;

  constructor(writer: ChangelogWriter) {
    this.#writer = writer;
  }

  /** Keys with a write not yet flushed. */
  get size(): number {
    return this.#pending.size;
  }

  /** Bytes (keys and values) of the pending writes. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Notes the write of `key` (bytes) under `id`; value null for a delete. */
  write(id: Id, key: Uint8Array, value: Uint8Array | null): void {
    this.#note(id, key, value, null);
  }

  /**
   * Notes the write of `key` under `id` with a value that `encode(id)` makes at the flush: the
   * caller promises that it then gives the latest value (what encoding now would give, unless a
   * later write of the same key replaces this one). {@link bytes} counts it at the size of the
   * last value encoded that way.
   */
  writeLater(id: Id, key: Uint8Array, encode: (id: Id) => Uint8Array): void {
    this.#note(id, key, null, encode);
  }

  #note(id: Id, key: Uint8Array, value: Uint8Array | null, later: ((id: Id) => Uint8Array) | null): void {
    let pending = this.#pending.get(id);
    if (pending === undefined) {
      pending = { key, value, later };
      this.#pending.set(id, pending);
    } else {
      this.#bytes -= this.#size(pending);
      pending.key = key;
      pending.value = value;
      pending.later = later;
    }
    this.#bytes += this.#size(pending);
  }

  #size(w: PendingWrite<Id>): number {
    return w.key.byteLength + (w.later !== null ? this.#laterValueBytes : (w.value?.byteLength ?? 0));
  }

  /** Hands every pending write to the changelog writer and starts over. */
  flush(): void {
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    this.#bytes = 0;
    for (const [id, w] of pending) {
      if (w.later === null) {
        this.#writer(w.key, w.value);
        continue;
      }
      const value = w.later(id);
      this.#laterValueBytes = value.byteLength;
      this.#writer(w.key, value);
    }
  }
}
