/**
 * A grouped stream with windows (`groupByKey().windowedBy(windows)`), ready to aggregate. Each
 * aggregation declares a window store (changelogged, see store.ts) and a process node running
 * window/aggregate.ts, and returns a {@link WindowedTable}.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { StreamRecord } from '../record.ts';
import type { Adder } from '../table/aggregate.ts';
import type { TopologyBuilder } from '../topology/builder.ts';
import type { Stream } from '../topology/stream.ts';
import { assertCodec, assertFunction, assertInteger, invalidTopology } from '../topology/validate.ts';
import { windowAggregateProcessor } from './aggregate.ts';
import { WindowedTable } from './table.ts';
import { assertWindows, type Windows } from './windows.ts';

/** Options of a windowed aggregation. */
export interface WindowedAggregateOptions {
  /** Name of the window store (and of its changelog `<applicationId>-<name>-changelog`). Default `<node>-store`. */
  readonly name?: string;
  /** Most windows per task (a new window beyond it is a processing error). Default: bounded only by retention. */
  readonly maxEntries?: number;
  /** Also write late records to this topic (with the input's codecs); same as `lateRecords().to(topic)`. */
  readonly lateTopic?: string;
}

/** Options of a windowed `aggregate()`. */
export interface WindowedAggregateValueOptions<K, A> extends WindowedAggregateOptions {
  /** Codec of the aggregate (changelog and outputs). */
  readonly value: Codec<A>;
  /** Session windows only (required there): combines the aggregates of two merged sessions. */
  readonly merger?: (left: A, right: A, key: K) => A;
}

/** A windowed grouped stream (`W`: the kind of windows, which decides the update stream's type). */
export class WindowedGroupedStream<K, V, W extends Windows = Windows> {
  readonly #builder: TopologyBuilder;
  readonly #stream: Stream<K, V>;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  /** The window specification. */
  readonly windows: W;

  /** Made by `groupByKey().windowedBy()`. */
  constructor(builder: TopologyBuilder, stream: Stream<K, V>, key: Codec<K>, value: Codec<V>, windows: W) {
    assertWindows('windowedBy()', windows);
    this.#builder = builder;
    this.#stream = stream;
    this.#key = key;
    this.#value = value;
    this.windows = windows;
  }

  /** Counts records per key and window. */
  count(options: WindowedAggregateOptions = {}): WindowedTable<K, V, number, W> {
    return this.#aggregate('count', () => 1, (n) => n + 1, (a, b) => a + b, countCodec, options);
  }

  /** Combines the values of each key and window with `reducer` (also merges sessions). */
  reduce(reducer: (aggregate: V, value: V, record: StreamRecord<K, V>) => V, options: WindowedAggregateOptions = {}): WindowedTable<K, V, V, W> {
    assertFunction('reduce()', reducer);
    return this.#aggregate('reduce', (r) => r.value, reducer, reducer, this.#value, options);
  }

  /** Folds the values of each key and window into an aggregate, starting from `init()`. */
  aggregate<A>(init: () => A, adder: Adder<K, V, A>, options: WindowedAggregateValueOptions<K, A>): WindowedTable<K, V, A, W> {
    assertFunction('aggregate().init', init);
    assertFunction('aggregate().adder', adder);
    assertCodec('aggregate().value', options?.value);
    const merger = options.merger;
    if (this.windows.kind === 'session') {
      if (merger === undefined) throw invalidTopology('aggregate() over session windows needs options.merger to combine merged sessions', { path: 'aggregate().merger' });
      assertFunction('aggregate().merger', merger);
    } else if (merger !== undefined) {
      throw invalidTopology('aggregate().merger is for session windows only', { path: 'aggregate().merger' });
    }
    return this.#aggregate('aggregate', (r) => adder(init(), r.value, r), adder, merger === undefined ? null : (a, b, r) => merger(a, b, r.key), options.value, options);
  }

  #aggregate<A>(
    kind: string,
    first: (r: StreamRecord<K, V>) => A,
    adder: Adder<K, V, A>,
    merger: ((a: A, b: A, record: StreamRecord<K, V>) => A) | null,
    codec: Codec<A>,
    options: WindowedAggregateOptions,
  ): WindowedTable<K, V, A, W> {
    if (options.maxEntries !== undefined) assertInteger(`${kind}().maxEntries`, options.maxEntries, 1);
    if (options.lateTopic !== undefined && (typeof options.lateTopic !== 'string' || options.lateTopic.length === 0)) {
      throw invalidTopology(`${kind}().lateTopic must be a non-empty string`, { path: `${kind}().lateTopic` });
    }
    const node = this.#builder.autoName(`windowed-${kind}`);
    const store = options.name ?? `${node}-store`;
    this.#builder.addWindowStore({ name: store, key: this.#key, value: codec, ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }) });
    const supplier = windowAggregateProcessor<K, V, A>({ node, store, windows: this.windows, first, adder, merger });
    this.#builder.add({ kind: 'process', name: node, parents: [this.#stream.node], supplier: supplier as never, stores: [store] });
    const table = new WindowedTable<K, V, A, W>({ builder: this.#builder, node, store, key: this.#key, value: this.#value, aggregate: codec });
    if (options.lateTopic !== undefined) table.lateRecords().to(options.lateTopic, { key: this.#key, value: this.#value });
    return table;
  }
}

/** Counts as decimal text (the same format as the unwindowed `count()`). */
const countCodec: Codec<number> = {
  name: 'count',
  encode: (n) => new TextEncoder().encode(String(n)),
  decode: (b) => Number(new TextDecoder().decode(b)),
};
