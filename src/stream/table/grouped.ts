/**
 * A stream grouped by key (`groupByKey()` / `groupBy()`), ready to aggregate. Each aggregation
 * adds a keyValue store (changelogged) and a `process` node using it, and returns a {@link Table}
 * whose `toStream()` is the stream of updates.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { StreamRecord } from '../record.ts';
import type { TopologyBuilder } from '../topology/builder.ts';
import { Stream } from '../topology/stream.ts';
import { WindowedGroupedStream } from '../window/grouped.ts';
import type { Windows } from '../window/windows.ts';
import { assertCodec, assertFunction } from '../topology/validate.ts';
import { aggregateProcessor, type Adder } from './aggregate.ts';
import { Table } from './table.ts';

/** Options of an aggregation. */
export interface AggregateOptions {
  /** Name of the store (and of the changelog `<applicationId>-<name>-changelog`). Default `<node>-store`. */
  readonly name?: string;
  /** Most keys per task (see addStore). Default unbounded. */
  readonly maxEntries?: number;
}

/** A grouped stream. */
export class GroupedStream<K, V> {
  readonly #builder: TopologyBuilder;
  readonly #stream: Stream<K, V>;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;

  /** Made by `groupByKey()`. */
  constructor(builder: TopologyBuilder, stream: Stream<K, V>, key: Codec<K>, value: Codec<V>) {
    this.#builder = builder;
    this.#stream = stream;
    this.#key = key;
    this.#value = value;
  }

  /**
   * Aggregates per key and event-time window (`TimeWindows`, `SlidingWindows`, `SessionWindows`);
   * see window/windows.ts for the window kinds and window/close.ts for grace and lateness.
   */
  windowedBy<W extends Windows>(windows: W): WindowedGroupedStream<K, V, W> {
    return new WindowedGroupedStream<K, V, W>(this.#builder, this.#stream, this.#key, this.#value, windows);
  }

  /** Counts records per key. */
  count(options: AggregateOptions = {}): Table<K, number> {
    return this.#aggregate('count', () => 1, (n) => n + 1, numberCodec, options);
  }

  /** Combines the values of each key with `reducer` (the first value is the initial aggregate). */
  reduce(reducer: (aggregate: V, value: V, record: StreamRecord<K, V>) => V, options: AggregateOptions = {}): Table<K, V> {
    assertFunction('reduce()', reducer);
    return this.#aggregate('reduce', (r) => r.value, reducer, this.#value, options);
  }

  /** Folds the values of each key into an aggregate of type `A`, starting from `init()`. */
  aggregate<A>(init: () => A, adder: Adder<K, V, A>, options: AggregateOptions & { readonly value: Codec<A> }): Table<K, A> {
    assertFunction('aggregate().init', init);
    assertFunction('aggregate().adder', adder);
    assertCodec('aggregate().value', options?.value);
    return this.#aggregate('aggregate', (r) => adder(init(), r.value, r), adder, options.value, options);
  }

  #aggregate<A>(kind: string, first: (r: StreamRecord<K, V>) => A, adder: Adder<K, V, A>, codec: Codec<A>, options: AggregateOptions): Table<K, A> {
    const node = this.#builder.autoName(kind);
    const store = options.name ?? `${node}-store`;
    this.#builder.addStore({ name: store, key: this.#key, value: codec, ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }) });
    const name = this.#builder.add({ kind: 'process', name: node, parents: [this.#stream.node], supplier: aggregateProcessor(store, first, adder) as never, stores: [store] });
    const updates = new Stream<K, A>(this.#builder, name, { key: this.#key, value: codec }, false);
    return new Table<K, A>({ store, kind: 'keyValue', key: this.#key, value: codec, updates });
  }
}

/** Counts as JSON-free decimal text (e.g. `42`). */
const numberCodec: Codec<number> = {
  name: 'count',
  encode: (n) => new TextEncoder().encode(String(n)),
  decode: (b) => Number(new TextDecoder().decode(b)),
};
