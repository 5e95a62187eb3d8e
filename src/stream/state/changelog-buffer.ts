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
 */
import type { ChangelogWriter } from './store.ts';

/** The latest pending write of one key (value null: a delete). */
interface PendingWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Pending changelog writes of one store, the latest per key. */
export class ChangelogBuffer<Id> {
  readonly #writer: ChangelogWriter;
  #pending = new Map<Id, PendingWrite>();
  #bytes = 0;

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
    const pending = this.#pending.get(id);
    if (pending === undefined) {
      this.#pending.set(id, { key, value });
    } else {
      this.#bytes -= pending.key.byteLength + (pending.value?.byteLength ?? 0);
      pending.key = key;
      pending.value = value;
    }
    this.#bytes += key.byteLength + (value?.byteLength ?? 0);
  }

  /** Hands every pending write to the changelog writer and starts over. */
  flush(): void {
    if (this.#pending.size === 0) return;
    const pending = this.#pending;
    this.#pending = new Map();
    this.#bytes = 0;
    for (const w of pending.values()) this.#writer(w.key, w.value);
  }
}
