/**
 * The result of a windowed aggregation: a table keyed by (key, window) whose store is the window
 * store. Three streams come out of it, each made on first use:
 * - `toStream()`: every update (one per window a record changed); for session windows also the
 *   retractions of the sessions a merge replaced (value null, header `sluice.tombstone`);
 * - `suppress(untilWindowCloses()).toStream()`: each window's final result, once, when it closes;
 * - `lateRecords()`: the input records that arrived too late for (some of) their windows.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import { Table } from '../table/table.ts';
import type { TopologyBuilder } from '../topology/builder.ts';
import { Stream } from '../topology/stream.ts';
import { invalidTopology } from '../topology/validate.ts';
import { windowedCodec } from './codec.ts';
import type { Suppression, Windowed, Windows, WindowUpdate } from './windows.ts';

/** Made by a windowed aggregation. */
export interface WindowedTableOptions<K, V, A> {
  readonly builder: TopologyBuilder;
  /** The aggregation's process node. */
  readonly node: string;
  readonly store: string;
  readonly key: Codec<K>;
  readonly value: Codec<V>;
  readonly aggregate: Codec<A>;
}

/**
 * A windowed aggregation's table: (key, window) → aggregate; `W` is the kind of windows. Its value
 * type as a table is that of its update stream ({@link WindowUpdate}); the store holds only `A`.
 */
export class WindowedTable<K, V, A, W extends Windows = Windows> extends Table<Windowed<K>, WindowUpdate<A, W>> {
  readonly #options: WindowedTableOptions<K, V, A>;
  readonly #streams = new Map<string, Stream<unknown, unknown>>();

  constructor(options: WindowedTableOptions<K, V, A>) {
    super({ store: options.store, kind: 'window', key: windowedCodec(options.key), value: options.aggregate, updates: null });
    this.#options = options;
  }

  /**
   * Every update: for each record, each window it changed with the new aggregate. With session
   * windows a merge first retracts each session it replaced: a record with that session's key,
   * value `null` and the header `sluice.tombstone` (written to a topic as a tombstone).
   */
  override toStream(): Stream<Windowed<K>, WindowUpdate<A, W>> {
    return this.#child('updates', this.keyCodec, this.#options.aggregate) as Stream<Windowed<K>, WindowUpdate<A, W>>;
  }

  /**
   * Holds results back: with {@link untilWindowCloses}, the returned table's `toStream()` carries
   * each window's final result exactly once, when stream time reaches the window's close time
   * (end + grace; for sessions end + gap + grace + 1 ms), and nothing before.
   */
  suppress(suppression: Suppression): Table<Windowed<K>, A> {
    if (suppression?.kind !== 'untilWindowCloses') throw invalidTopology('suppress() takes untilWindowCloses()', { path: 'suppress()' });
    const value = this.#options.aggregate;
    const finals = this.#child('final', this.keyCodec, value) as Stream<Windowed<K>, A>;
    return new Table<Windowed<K>, A>({ store: this.store, kind: 'window', key: this.keyCodec, value, updates: finals });
  }

  /**
   * The input records that were late for at least one of their windows (header
   * `sluice.window.late`: `all` when the record changed nothing, `partial` when a hopping record
   * still updated its open windows). They are also counted in the task metric `lateRecords`.
   */
  lateRecords(): Stream<K, V> {
    return this.#child('late', this.#options.key, this.#options.value) as Stream<K, V>;
  }

  #child(branch: string, key: Codec<unknown>, value: Codec<unknown>): Stream<unknown, unknown> {
    let stream = this.#streams.get(branch);
    if (stream === undefined) {
      const { builder, node } = this.#options;
      const name = builder.add({ kind: 'branchOutput', name: `${node}-${branch}`, parents: [node], branch });
      stream = new Stream<unknown, unknown>(builder, name, { key, value }, false);
      this.#streams.set(branch, stream);
    }
    return stream;
  }
}
