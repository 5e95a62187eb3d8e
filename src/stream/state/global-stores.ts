/**
 * Global tables of one running instance (or test driver): every partition of each global table's
 * topic, read in full with a manually assigned consumer (not the group), restored before the
 * instance starts processing and caught up at the start of every task batch. All tasks of the
 * instance share the stores (read-only).
 */
import { InMemoryKeyValueStore } from './store.ts';
import type { StoreSpec } from './spec.ts';
import type { PartitionReader, StateReaders } from './readers.ts';

/** The global stores of an instance. */
export class GlobalStores {
  readonly #stores = new Map<string, { store: InMemoryKeyValueStore<unknown, unknown>; reader: PartitionReader }>();
  #inFlight: Promise<void> | null = null;

  constructor(specs: Iterable<StoreSpec>, readers: StateReaders) {
    for (const spec of specs) {
      if (spec.kind !== 'global') continue;
      this.#stores.set(spec.name, { store: new InMemoryKeyValueStore(spec, null, true), reader: readers.open(spec.topic!, null) });
    }
  }

  /** True when there is at least one global table. */
  get any(): boolean {
    return this.#stores.size > 0;
  }

  /** The global store called `name`. */
  get(name: string): InMemoryKeyValueStore<unknown, unknown> | undefined {
    return this.#stores.get(name)?.store;
  }

  /** Names of the global stores. */
  names(): string[] {
    return [...this.#stores.keys()];
  }

  /** Reads every global topic to its end. */
  async restore(): Promise<void> {
    for (const { store, reader } of this.#stores.values()) await reader.readToEnd((r) => store.apply(r));
  }

  /** Applies what arrived since; concurrent callers share one catch-up. */
  catchUp(): Promise<void> {
    if (this.#stores.size === 0) return Promise.resolve();
    this.#inFlight ??= (async () => {
      try {
        for (const { store, reader } of this.#stores.values()) await reader.catchUp((r) => store.apply(r));
      } finally {
        this.#inFlight = null;
      }
    })();
    return this.#inFlight;
  }

  /** Closes the readers. */
  async close(): Promise<void> {
    for (const { reader } of this.#stores.values()) await reader.close();
  }
}
