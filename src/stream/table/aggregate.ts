/**
 * The processors of `count()`, `reduce()` and `aggregate()`: per record, read the key's current
 * aggregate from the task's store, apply the adder, write the result back (which logs it to the
 * changelog) and forward (key, new aggregate) downstream — one update per input record. A record
 * with a null key cannot be aggregated: it is a processing error (handled by the error policy).
 */
import type { Processor, ProcessorContext } from '../processor/api.ts';
import type { StreamRecord } from '../record.ts';
import type { KeyValueStore } from '../state/store.ts';

/** Folds a value into an aggregate; `aggregate` is the previous one (or `init()`'s). */
export type Adder<K, V, A> = (aggregate: A, value: V, record: StreamRecord<K, V>) => A;

/**
 * A processor supplier folding records into the store `store`: a key's first record gives
 * `first(record)`, later ones `adder(previous, value, record)`.
 */
export function aggregateProcessor<K, V, A>(store: string, first: (record: StreamRecord<K, V>) => A, adder: Adder<K, V, A>): () => Processor<K, V, K, A> {
  return () => {
    let ctx: ProcessorContext<K, A>;
    let state: KeyValueStore<K, A>;
    return {
      init(context) {
        ctx = context;
        state = context.getStore<K, A>(store);
      },
      process(record) {
        if (record.key === null || record.key === undefined) throw new Error(`cannot aggregate a record with a null key into store '${store}'`);
        const previous = state.get(record.key);
        const next = previous === undefined ? first(record) : adder(previous, record.value, record);
        state.put(record.key, next);
        return ctx.forward({ ...record, value: next });
      },
    };
  };
}
