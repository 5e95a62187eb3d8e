/**
 * The stores of one task: created from the topology's declarations before the processors' `init`,
 * restored from their changelog (or table topic) partition before the first batch, and — for
 * tables — caught up with their topic at the start of every batch. Writes to keyValue and window
 * stores go to the task's collector as changelog records (partition = the task's partition), the
 * latest per key at each commit (`flushChangelogs`), so they are committed with the outputs (and,
 * in exactly-once mode, in their transaction).
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { ProducerRecord } from '../../log/types.ts';
import type { ControlState } from '../control/state.ts';
import { TOMBSTONE_HEADERS, TOMBSTONE_VALUE } from '../record.ts';
import type { Topology } from '../topology/topology.ts';
import type { GlobalStores } from './global-stores.ts';
import type { PartitionReader, StateReaders } from './readers.ts';
import { changelogTopic, restoreTopic } from './spec.ts';
import { InMemoryWindowStore } from '../window/store.ts';
import { InMemoryKeyValueStore, type KeyValueStore } from './store.ts';
import { storesOfNode, storesOfTask } from './wiring.ts';

/** What a task's stores (and connected processors) need from the runtime (or test driver). */
export interface TaskStateContext {
  readonly readers: StateReaders;
  readonly globals: GlobalStores | null;
  /** The instance's control streams (absent: connected processors get no control records). */
  readonly controls?: ControlState | null;
}

/** Options of {@link TaskStores}. */
export interface TaskStoresOptions {
  readonly topology: Topology;
  readonly applicationId: string;
  readonly sourceNode: string;
  readonly partition: number;
  readonly context: TaskStateContext | undefined;
  /** Sends a changelog record through the task's collector. */
  readonly send: (record: ProducerRecord) => void;
  /** Timestamp of changelog records (the task's stream time, or the wall clock before any record). */
  readonly timestamp: () => number;
}

/** The stores of a task. */
export class TaskStores {
  readonly #options: TaskStoresOptions;
  readonly #local = new Map<string, InMemoryKeyValueStore<unknown, unknown> | InMemoryWindowStore<unknown, unknown>>();
  readonly #readers = new Map<string, PartitionReader>();
  readonly #tables: string[] = [];
  #restored = false;

  constructor(options: TaskStoresOptions) {
    this.#options = options;
    const { topology, applicationId, partition, send, timestamp } = options;
    for (const name of storesOfTask(topology.nodes, options.sourceNode)) {
      const spec = topology.stores.get(name);
      if (spec === undefined || spec.kind === 'global') continue;
      const topic = changelogTopic(applicationId, name);
      const writer =
        (spec.kind === 'keyValue' || spec.kind === 'window') && spec.changelog
          ? (key: Uint8Array, value: Uint8Array | null): void =>
              send(value === null ? { topic, partition, key, value: TOMBSTONE_VALUE, headers: TOMBSTONE_HEADERS, timestamp: timestamp() } : { topic, partition, key, value, timestamp: timestamp() })
          : null;
      this.#local.set(name, spec.kind === 'window' ? new InMemoryWindowStore(spec, writer) : new InMemoryKeyValueStore(spec, writer, spec.kind === 'table'));
      if (spec.kind === 'table') this.#tables.push(name);
    }
  }

  /** True when the task must catch up tables or global tables before each batch. */
  get hasFeeds(): boolean {
    return this.#tables.length > 0 || (this.#options.context?.globals?.any ?? false);
  }

  /** The store `name` as node `node` sees it; the node must have declared it. */
  get(node: string, name: string): KeyValueStore<unknown, unknown> {
    const declared = this.#options.topology.node(node);
    if (declared === undefined || !storesOfNode(declared).includes(name)) {
      throw new SluiceError(ErrorCode.STREAM_PROCESSING, `node '${node}' did not declare store '${name}'; pass { stores: ['${name}'] } to process()`);
    }
    const store = this.#local.get(name) ?? this.#options.context?.globals?.get(name);
    if (store === undefined) throw new SluiceError(ErrorCode.STREAM_PROCESSING, `store '${name}' is not available in task partition ${this.#options.partition}`);
    return store;
  }

  /** Rebuilds every store from its changelog/table partition (from the earliest offset to the end). */
  async restore(): Promise<void> {
    if (this.#restored) return;
    const { context, topology, applicationId, partition } = this.#options;
    if (context !== undefined) {
      for (const [name, store] of this.#local) {
        const spec = topology.stores.get(name)!;
        const topic = restoreTopic(spec, applicationId);
        if (topic === null) continue;
        const reader = context.readers.open(topic, [partition]);
        await reader.readToEnd((r) => store.apply(r), { settleTransactions: spec.kind !== 'table' });
        if (spec.kind === 'table') this.#readers.set(name, reader);
        else await reader.close();
      }
    }
    this.#restored = true;
  }

  /** Applies table updates (and global table updates) that arrived since the last call. */
  async catchUp(): Promise<void> {
    for (const name of this.#tables) await this.#readers.get(name)?.catchUp((r) => this.#local.get(name)!.apply(r));
    await this.#options.context?.globals?.catchUp();
  }

  /** Hands every store's pending changelog writes (the latest per key) to the collector: at a commit. */
  flushChangelogs(): void {
    for (const store of this.#local.values()) store.flushChangelog();
  }

  /** Bytes of the changelog writes {@link flushChangelogs} would hand over now. */
  pendingChangelogBytes(): number {
    let bytes = 0;
    for (const store of this.#local.values()) bytes += store.pendingChangelogBytes;
    return bytes;
  }

  /** Entries per task-local store (the state-size metric). */
  sizes(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, store] of this.#local) out[name] = store.size;
    return out;
  }

  /** The task-local stores (test driver reads). */
  local(): ReadonlyMap<string, KeyValueStore<unknown, unknown>> {
    return this.#local;
  }

  /** Closes the readers (the stores are dropped with the task; the changelog keeps the state). */
  async close(): Promise<void> {
    for (const reader of this.#readers.values()) await reader.close();
    this.#readers.clear();
  }
}
