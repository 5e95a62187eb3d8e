/**
 * The in-memory window store of a task (store kind `window`): per key, its open windows sorted by
 * start, each with its aggregate and the largest timestamp of the records in it; plus an expiry
 * queue of windows by close time. It is created per task from the topology's declaration, logged
 * to the compacted changelog `<applicationId>-<store>-changelog` through the task's collector —
 * the latest state of each window changed since the last commit, at the commit
 * (changelog-buffer.ts), so changelog writes commit with the outputs, in their transaction under
 * exactly-once — and restored from it like a key-value store (formats in codec.ts).
 *
 * Retention: a window is kept until stream time reaches its close time (close.ts: end + grace,
 * plus the gap for sessions), when its final result is emitted; then it is dropped (a tombstone in
 * the changelog, so compaction drops it there too). Sliding windows are kept `d` ms longer, closed
 * (read-only), because a later record's left window is computed from them. Memory is therefore
 * bounded by the windows open at once: keys × (size + grace) / advance for time windows, keys ×
 * open sessions for sessions, keys × 2 × records within 2d + grace for sliding windows (plus, for
 * sessions, one expiry-queue slot per record within gap + grace) — and by an optional `maxEntries`.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Codec } from '../../log/codecs/codec.ts';
import type { LogRecord } from '../../log/types.ts';
import { KeyBytesCache } from '../key-bytes.ts';
import { TOMBSTONE_HEADER } from '../record.ts';
import { ChangelogBuffer } from '../state/changelog-buffer.ts';
import type { StoreSpec } from '../state/spec.ts';
import type { ChangelogWriter, KeyValueStore } from '../state/store.ts';
import { decodeWindowedKey, encodeWindowedKey, readTimePrefix, rememberWindowedKey, TIME_KEY, withTimePrefix } from './codec.ts';
import { MinHeap } from './heap.ts';
import type { Windowed } from './windows.ts';

/** One window of one key. Fields other than `agg` and `maxTs` never change. */
export interface WindowEntry<K, A> {
  readonly key: K;
  readonly start: number;
  readonly end: number;
  agg: A;
  /** Largest event time of the records in the window. */
  maxTs: number;
  /** Encoded changelog key (computed once). */
  readonly storeKey: Uint8Array;
  /** The window's key as records carry it (made once, frozen: every update of the window shares it). */
  readonly windowed: Windowed<K>;
  readonly id: unknown;
  removed: boolean;
  /** Closed: final, read-only, kept only for lookups until dropped. */
  closed: boolean;
}

const latin1 = new TextDecoder('latin1');

/** Order of windows closing at the same time: by start, then end, then key bytes. */
function byWindowThenKey(a: WindowEntry<unknown, unknown>, b: WindowEntry<unknown, unknown>): number {
  if (a.start !== b.start) return a.start - b.start;
  if (a.end !== b.end) return a.end - b.end;
  return Buffer.compare(a.storeKey, b.storeKey);
}

/** A window store; `changelog` null when the store is not logged. */
export class InMemoryWindowStore<K, A> implements KeyValueStore<Windowed<K>, A> {
  readonly name: string;
  readonly #spec: StoreSpec;
  /** Pending changelog writes by window (the stream-time record under TIME_KEY). */
  readonly #changelog: ChangelogBuffer<WindowEntry<K, A> | typeof TIME_KEY> | null;
  readonly #keys: KeyBytesCache<K>;
  readonly #byKey = new Map<unknown, WindowEntry<K, A>[]>();
  readonly #expiry = new MinHeap<WindowEntry<K, A>>(byWindowThenKey);
  #closeAt: ((end: number) => number) | null = null;
  #retainMs = 0;
  #size = 0;
  /** The largest stream time this store has seen or was restored with (-1: none). */
  #observed = -1;
  /** Windows closing at or before this time were closed (and emitted) before the restore. */
  #closedThrough = -1;

  constructor(spec: StoreSpec, changelog: ChangelogWriter | null) {
    this.name = spec.name;
    this.#spec = spec;
    this.#changelog = changelog === null ? null : new ChangelogBuffer(changelog);
    this.#keys = new KeyBytesCache(spec.keyCodec as Codec<K>);
  }

  get size(): number {
    return this.#size;
  }

  /** The largest stream time known to this store (restored from its changelog), or -1. */
  get observedTime(): number {
    return this.#observed;
  }

  /**
   * Sets the close-time rule and how long closed windows stay for lookups (the aggregating
   * processor does this in `init`, before the restore) and rebuilds the queue.
   */
  setRetention(closeAt: (end: number) => number, retainAfterCloseMs: number): void {
    this.#closeAt = closeAt;
    this.#retainMs = retainAfterCloseMs;
    this.#expiry.clear();
    for (const list of this.#byKey.values()) for (const e of list) this.#expiry.push(closeAt(e.end), e);
  }

  /** The window of `key` starting at `start`. */
  fetch(key: K, start: number): WindowEntry<K, A> | undefined {
    const list = this.#byKey.get(this.#id(key, null));
    if (list === undefined) return undefined;
    for (const e of list) if (e.start === start) return e;
    return undefined;
  }

  /** The windows of `key` with `from <= start <= to`, by start. */
  range(key: K, from: number, to: number): WindowEntry<K, A>[] {
    const list = this.#byKey.get(this.#id(key, null));
    return list === undefined ? [] : list.filter((e) => e.start >= from && e.start <= to);
  }

  /** The windows of `key` with `end >= earliestEnd` and `start <= latestStart` (sessions overlapping a range). */
  overlapping(key: K, earliestEnd: number, latestStart: number): WindowEntry<K, A>[] {
    const list = this.#byKey.get(this.#id(key, null));
    return list === undefined ? [] : list.filter((e) => e.end >= earliestEnd && e.start <= latestStart);
  }

  /** Creates or updates a window, logging it. */
  putWindow(key: K, start: number, end: number, agg: A, maxTs: number): WindowEntry<K, A> {
    const existing = this.fetch(key, start);
    if (existing?.closed === true) throw new Error(`window [${start}, ${end}] of store '${this.name}' is closed`);
    if (existing !== undefined && existing.end === end) {
      existing.agg = agg;
      existing.maxTs = maxTs;
      this.#log(existing);
      return existing;
    }
    if (existing !== undefined) this.remove(existing);
    if (this.#spec.maxEntries !== null && this.#size >= this.#spec.maxEntries) {
      throw new SluiceError(ErrorCode.STREAM_PROCESSING, `window store '${this.name}' is full (maxEntries ${this.#spec.maxEntries}); window not added`, {
        details: { store: this.name, maxEntries: this.#spec.maxEntries },
      });
    }
    const keyBytes = this.#keys.encode(key);
    const entry: WindowEntry<K, A> = {
      key,
      start,
      end,
      agg,
      maxTs,
      storeKey: encodeWindowedKey(keyBytes, start, end),
      windowed: Object.freeze({ key, start, end }),
      id: this.#id(key, keyBytes),
      removed: false,
      closed: false,
    };
    this.#insert(entry);
    this.#log(entry);
    return entry;
  }

  /** Sets the aggregate and max timestamp of an open window of this store (as fetched), logging it. */
  updateWindow(entry: WindowEntry<K, A>, agg: A, maxTs: number): WindowEntry<K, A> {
    if (entry.closed || entry.removed) throw new Error(`window [${entry.start}, ${entry.end}] of store '${this.name}' is ${entry.closed ? 'closed' : 'gone'}`);
    entry.agg = agg;
    entry.maxTs = maxTs;
    this.#log(entry);
    return entry;
  }

  /** Drops a window (a tombstone in the changelog). */
  remove(entry: WindowEntry<K, A>): void {
    if (entry.removed) return;
    this.#unlink(entry);
    this.#changelog?.write(entry, entry.storeKey, null);
  }

  /**
   * Notes that stream time is `now` and closes every window whose close time is ≤ `now`, oldest
   * first: `onClose` gets each (except windows already closed before a restore), then it is
   * dropped (or, with a retention after close, marked closed and dropped later). When any window
   * closed, the stream time is logged too (see codec.ts). Returns the number of windows closed.
   */
  expire(now: number, onClose: (entry: WindowEntry<K, A>) => void): number {
    if (now > this.#observed) this.#observed = now;
    let closed = 0;
    while (this.#expiry.peekPriority() <= now) {
      const e = this.#expiry.pop()!;
      if (e.removed) continue;
      if (e.closed) {
        this.remove(e);
        continue;
      }
      const at = this.#closeAt!(e.end);
      if (at > this.#closedThrough) onClose(e);
      closed++;
      if (this.#retainMs === 0) {
        this.remove(e);
      } else {
        e.closed = true;
        this.#expiry.push(at + this.#retainMs, e);
      }
    }
    if (closed > 0) this.#changelog?.write(TIME_KEY, TIME_KEY, withTimePrefix(now, new Uint8Array(0)));
    return closed;
  }

  /** Sends the latest state of every window changed since the last call to the changelog (at a commit). */
  flushChangelog(): void {
    this.#changelog?.flush();
  }

  /** Bytes of the changelog writes {@link flushChangelog} would send now. */
  get pendingChangelogBytes(): number {
    return this.#changelog?.bytes ?? 0;
  }

  /** The aggregate of window `w`. */
  get(w: Windowed<K>): A | undefined {
    const e = this.fetch(w.key, w.start);
    return e !== undefined && e.end === w.end ? e.agg : undefined;
  }

  /** Sets a window's aggregate (its max timestamp becomes at least `w.start`). */
  put(w: Windowed<K>, agg: A): void {
    this.putWindow(w.key, w.start, w.end, agg, this.fetch(w.key, w.start)?.maxTs ?? w.start);
  }

  delete(w: Windowed<K>): boolean {
    const e = this.fetch(w.key, w.start);
    if (e === undefined || e.end !== w.end) return false;
    this.remove(e);
    return true;
  }

  *entries(): IterableIterator<[Windowed<K>, A]> {
    for (const list of this.#byKey.values()) for (const e of list) yield [e.windowed, e.agg];
  }

  /** Applies a changelog record without logging it (restore). */
  apply(record: Pick<LogRecord, 'key' | 'value' | 'headers'>): void {
    if (record.key === null) return;
    if (record.key.length === TIME_KEY.length && record.key[0] === TIME_KEY[0]) {
      const { time } = readTimePrefix(record.value);
      if (time > this.#observed) this.#observed = time;
      if (time > this.#closedThrough) this.#closedThrough = time;
      return;
    }
    const { keyBytes, start, end } = decodeWindowedKey(record.key);
    const key = this.#spec.keyCodec.decode(keyBytes) as K;
    const existing = this.fetch(key, start);
    if (existing !== undefined) this.#unlink(existing);
    if (record.headers[TOMBSTONE_HEADER] !== undefined) return;
    const { time, rest } = readTimePrefix(record.value);
    const entry: WindowEntry<K, A> = {
      key,
      start,
      end,
      agg: this.#spec.valueCodec.decode(rest) as A,
      maxTs: time,
      storeKey: record.key.slice(),
      windowed: Object.freeze({ key, start, end }),
      id: this.#id(key, keyBytes),
      removed: false,
      closed: false,
    };
    this.#insert(entry);
    if (time > this.#observed) this.#observed = time;
  }

  #log(e: WindowEntry<K, A>): void {
    rememberWindowedKey(this.#spec.keyCodec, e.key, e.start, e.end, e.storeKey);
    // Encoded at the commit: a window's aggregate and max timestamp change only through
    // putWindow/updateWindow, which log again, so the entry then holds what was logged last.
    this.#changelog?.writeLater(e, e.storeKey, this.#encodeEntry);
  }

  /** What the changelog holds for a window: its max timestamp and aggregate (only windows are written later). */
  readonly #encodeEntry = (id: WindowEntry<K, A> | typeof TIME_KEY): Uint8Array => {
    const e = id as WindowEntry<K, A>;
    return withTimePrefix(e.maxTs, this.#spec.valueCodec.encode(e.agg));
  };

  #insert(e: WindowEntry<K, A>): void {
    let list = this.#byKey.get(e.id);
    if (list === undefined) {
      list = [];
      this.#byKey.set(e.id, list);
    }
    let i = list.length;
    while (i > 0 && list[i - 1]!.start > e.start) i--;
    list.splice(i, 0, e);
    this.#size++;
    if (this.#closeAt !== null) this.#expiry.push(this.#closeAt(e.end), e);
  }

  #unlink(e: WindowEntry<K, A>): void {
    e.removed = true;
    const list = this.#byKey.get(e.id);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i < 0) return;
    list.splice(i, 1);
    this.#size--;
    if (list.length === 0) this.#byKey.delete(e.id);
  }

  #id(key: K, bytes: Uint8Array | null): unknown {
    if (typeof key === 'string' || typeof key === 'number') return key;
    return latin1.decode(bytes ?? this.#keys.encode(key));
  }
}
