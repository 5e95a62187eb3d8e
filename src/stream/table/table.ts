/**
 * A table handle in a topology being built (like Kafka Streams' KTable / GlobalKTable): the latest
 * value per key, materialised in a store. Three origins:
 * - `builder.table(topic)`: a topic read as a table by the tasks that join it (co-partitioned);
 * - `builder.globalTable(topic)`: a topic read in full by every instance;
 * - `groupByKey().count()/reduce()/aggregate()`: an aggregation, whose updates `toStream()` returns.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import type { StoreKind } from '../state/spec.ts';
import type { Stream } from '../topology/stream.ts';
import { invalidTopology } from '../topology/validate.ts';

/** A table: a store of the latest value per key. */
export class Table<K, V> {
  /** Name of the store that holds it (readable with `context.getStore` and `driver.store`). */
  readonly store: string;
  readonly kind: StoreKind;
  readonly keyCodec: Codec<K>;
  readonly valueCodec: Codec<V>;
  readonly #updates: Stream<K, V> | null;

  /** Made by the builder and by aggregations. */
  constructor(options: { store: string; kind: StoreKind; key: Codec<K>; value: Codec<V>; updates: Stream<K, V> | null }) {
    this.store = options.store;
    this.kind = options.kind;
    this.keyCodec = options.key;
    this.valueCodec = options.value;
    this.#updates = options.updates;
  }

  /**
   * The table's changelog as a stream: one record per update (key, new value). Available for
   * aggregation results; a table read from a topic has none — read the topic with `stream()`.
   */
  toStream(): Stream<K, V> {
    if (this.#updates === null) {
      throw invalidTopology(`toStream(): table '${this.store}' is read from a topic; read that topic with builder.stream() for its updates`, { store: this.store });
    }
    return this.#updates;
  }
}
