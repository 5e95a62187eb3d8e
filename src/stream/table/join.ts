/**
 * The processor of stream–table joins: for each stream record, look its key (or, for a global
 * table, the key chosen by `options.key`) up in the table's store and forward
 * `joiner(value, tableValue, record)` with the stream record's key and time. An inner join drops
 * records without a table entry (by design, counted nowhere: that is the join's meaning); a left
 * join calls the joiner with `undefined`. The table is as of the start of the batch (table updates
 * are applied before each batch of stream records).
 */
import type { Processor, ProcessorContext } from '../processor/api.ts';
import type { StreamRecord } from '../record.ts';
import type { KeyValueStore } from '../state/store.ts';

/** Options of `stream.join()` / `leftJoin()`. */
export interface JoinOptions<K, V, KT> {
  /** Node name. */
  readonly name?: string;
  /** Global tables only: the table key to look up for a record (default: the record's key). */
  readonly key?: (record: StreamRecord<K, V>) => KT;
}

/** A join processor supplier. */
export function joinProcessor<K, V, KT, VT, VR>(
  store: string,
  joiner: (value: V, tableValue: VT | undefined, record: StreamRecord<K, V>) => VR,
  left: boolean,
  keyOf: ((record: StreamRecord<K, V>) => KT) | undefined,
): () => Processor<K, V, K, VR> {
  return () => {
    let ctx: ProcessorContext<K, VR>;
    let table: KeyValueStore<KT, VT>;
    return {
      init(context) {
        ctx = context;
        table = context.getStore<KT, VT>(store);
      },
      process(record) {
        const key = keyOf === undefined ? (record.key as unknown as KT) : keyOf(record);
        const found = key === null || key === undefined ? undefined : table.get(key);
        if (found === undefined && !left) return undefined;
        return ctx.forward({ ...record, value: joiner(record.value, found, record) });
      },
    };
  };
}
