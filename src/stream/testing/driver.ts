/**
 * The topology test driver (public API, like Kafka Streams' TopologyTestDriver): runs a topology
 * in-process on in-memory topics, with virtual wall-clock time and no log. Pipe records into input
 * topics, read what the topology wrote to output topics, advance the wall clock to fire wall-clock
 * punctuation; stream time follows the piped records' timestamps. Records written to repartition
 * topics (and to any topic the topology also reads) are processed before `pipe` returns. Every
 * batch is committed as soon as it is processed (a runtime with `commitIntervalMs: 0`), so the
 * changelogs hold one record per key a batch wrote.
 * State stores (and their changelogs, as topics `<id>-<store>-changelog`), tables and global tables
 * work as in the runtime: pipe records into a table's topic to update it, read any store with
 * `driver.store(name)` (a view over every task's store of that name).
 * Control streams: a record piped into a control topic is applied at once to every task with a
 * connected processor, and replayed to tasks created later, in pipe order relative to data
 * records (the records of one `pipeRaw` call before it are processed first).
 *
 *     const driver = new TopologyTestDriver(app);
 *     const input = driver.input('in');                  // codecs of the source
 *     const output = driver.output('out', { key: stringCodec, value: jsonCodec() });
 *     await input.pipe('k', { n: 1 }, { timestamp: 1000 });
 *     assert.deepEqual(output.readValues(), [{ n: 2 }]);
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Codec } from '../../log/codecs/codec.ts';
import type { LogRecord, ProducerRecord } from '../../log/types.ts';
import { ManualClock } from '../clock.ts';
import { ControlState, type ControlMetrics } from '../control/state.ts';
import { BufferCollector } from '../task/collector.ts';
import type { TaskMetrics } from '../task/metrics.ts';
import { StreamTask, taskId } from '../task/task.ts';
import { GlobalStores } from '../state/global-stores.ts';
import { MemoryStateReaders } from '../state/readers.ts';
import { changelogTopic } from '../state/spec.ts';
import type { KeyValueStore } from '../state/store.ts';
import type { TaskStateContext } from '../state/task-stores.ts';
import { storeOwners } from '../state/wiring.ts';
import { resolveTopic } from '../topology/nodes.ts';
import type { Topology } from '../topology/topology.ts';
import { MemoryTopics } from './memory-topics.ts';
import { TestInputTopic, TestOutputTopic } from './topics.ts';

/** Options of {@link TopologyTestDriver}. */
export interface TestDriverOptions {
  /** Application id (names repartition topics `<id>-<name>-repartition`). Default `test-app`. */
  readonly applicationId?: string;
  /** Partition count per topic name (inputs, outputs, internal topics); others have 1. */
  readonly partitions?: Readonly<Record<string, number>>;
  /** Initial wall-clock time in ms. Default 0. */
  readonly wallClockStart?: number;
}

/** Runs a topology in-process with virtual time. */
export class TopologyTestDriver {
  /** The driver's virtual wall clock (also the default timestamp of piped records). */
  readonly clock: ManualClock;
  readonly applicationId: string;
  readonly #topology: Topology;
  readonly #topics: MemoryTopics;
  readonly #tasks = new Map<string, StreamTask>();
  readonly #collector = new BufferCollector();
  readonly #state: TaskStateContext;
  readonly #controls: ControlState;
  #closed = false;

  constructor(topology: Topology, options: TestDriverOptions = {}) {
    this.#topology = topology;
    this.applicationId = options.applicationId ?? 'test-app';
    const partitions: Record<string, number> = { ...options.partitions };
    for (const [store, owner] of storeOwners(topology.nodes, topology.stores)) {
      const topic = changelogTopic(this.applicationId, store);
      partitions[topic] ??= partitions[resolveTopic(owner.topic, this.applicationId)] ?? 1;
    }
    this.#topics = new MemoryTopics(partitions);
    this.clock = new ManualClock(options.wallClockStart ?? 0);
    const readers = new MemoryStateReaders((topic) => this.#topics.read(topic));
    this.#controls = new ControlState({
      topology,
      applicationId: this.applicationId,
      readers,
      deadLetter: (records) => {
        for (const r of records) this.#topics.append(r, this.clock.now());
        return Promise.resolve();
      },
    });
    this.#state = { readers, globals: new GlobalStores(topology.stores.values(), readers), controls: this.#controls };
  }

  /**
   * A state store, table or global table by store name, read across every task (partition) that
   * has it; `partition` picks one task's store.
   */
  store<K = unknown, V = unknown>(name: string, partition?: number): KeyValueStore<K, V> {
    const global = this.#state.globals?.get(name);
    if (global !== undefined) return global as unknown as KeyValueStore<K, V>;
    if (!this.#topology.stores.has(name)) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `this topology has no store '${name}'`);
    const stores = () =>
      [...this.#tasks.values()]
        .filter((t) => partition === undefined || t.partition === partition)
        .map((t) => t.stores().local().get(name) as KeyValueStore<K, V> | undefined)
        .filter((s) => s !== undefined);
    const readOnly = (): never => {
      throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `driver.store('${name}') is read-only; write through the topology`);
    };
    return {
      name,
      get: (key) => {
        for (const s of stores()) {
          const v = s.get(key);
          if (v !== undefined) return v;
        }
        return undefined;
      },
      put: readOnly,
      delete: readOnly,
      get size() {
        return stores().reduce((n, s) => n + s.size, 0);
      },
      *entries() {
        for (const s of stores()) yield* s.entries();
      },
    };
  }

  /** An input topic (a source's, a table's or a control stream's); codecs default to those it reads with. */
  input<K = unknown, V = unknown>(topic: string, codecs?: { readonly key: Codec<K>; readonly value: Codec<V> }): TestInputTopic<K, V> {
    const source =
      this.#topology.sourceFor(topic, this.applicationId) ??
      [...this.#topology.stores.values()].find((s) => s.topic === topic) ??
      this.#topology.controls().find((c) => c.topic.name === topic);
    if (source === undefined) throw new SluiceError(ErrorCode.INVALID_ARGUMENT, `no source, table or control stream of this topology reads topic '${topic}'`);
    const key = codecs?.key ?? (source.keyCodec as Codec<K>);
    const value = codecs?.value ?? (source.valueCodec as Codec<V>);
    return new TestInputTopic<K, V>(topic, key, value, (record) => this.pipeRaw(record));
  }

  /** An output topic, decoded with `codecs`; each reader has its own read position. */
  output<K, V>(topic: string, codecs: { readonly key: Codec<K>; readonly value: Codec<V> }): TestOutputTopic<K, V> {
    return new TestOutputTopic<K, V>(() => this.#topics.read(topic), codecs.key, codecs.value);
  }

  /**
   * Appends encoded records to input topics and processes everything they lead to. The records of
   * one call form one batch per partition (as one poll would), so mapAsync runs them concurrently;
   * a control record splits the call: the records before it are processed, then it is applied.
   */
  async pipeRaw(records: ProducerRecord | readonly ProducerRecord[]): Promise<void> {
    this.#assertOpen();
    const list = Array.isArray(records) ? (records as readonly ProducerRecord[]) : [records as ProducerRecord];
    let start = 0;
    for (let i = 0; i <= list.length; i++) {
      if (i < list.length && !this.#controls.has(list[i]!.topic)) continue;
      if (i > start) await this.#pipeData(list.slice(start, i));
      if (i < list.length) await this.#pipeControl(list[i]!);
      start = i + 1;
    }
  }

  async #pipeData(list: readonly ProducerRecord[]): Promise<void> {
    const batches = new Map<string, LogRecord[]>();
    let tableUpdates = false;
    for (const record of list) {
      const stored = this.#topics.append(record, this.clock.now());
      if (this.#topology.sourceFor(stored.topic, this.applicationId) === undefined) {
        tableUpdates = true;
        continue;
      }
      const id = taskId(stored.topic, stored.partition);
      batches.set(id, [...(batches.get(id) ?? []), stored]);
    }
    if (tableUpdates) await this.#catchUpTables();
    const queue: LogRecord[] = [];
    for (const batch of batches.values()) await this.#process(batch, queue);
    await this.#drain(queue);
  }

  /** Appends a control record and applies it to every task (what they forward is processed too). */
  async #pipeControl(record: ProducerRecord): Promise<void> {
    this.#topics.append(record, this.clock.now());
    if ([...this.#topology.stores.values()].some((s) => s.topic === record.topic)) await this.#catchUpTables();
    await this.#controls.advance('end');
    const queue: LogRecord[] = [];
    for (const task of this.#tasks.values()) task.prepareCommit();
    this.#route(queue);
    await this.#drain(queue);
  }

  /** Moves the wall clock forward by `ms` and fires every due wall-clock punctuation. */
  async advanceWallClock(ms: number): Promise<void> {
    this.#assertOpen();
    this.clock.advance(ms);
    const queue: LogRecord[] = [];
    for (const task of this.#tasks.values()) {
      await task.punctuateWallClock();
      task.prepareCommit();
      this.#route(queue);
    }
    await this.#drain(queue);
  }

  /** Stream time of the task reading `topic`/`partition` (-1 before its first record). */
  streamTime(topic: string, partition = 0): number {
    return this.#tasks.get(taskId(topic, partition))?.streamTime ?? -1;
  }

  /** Every record written to `topic` so far, as stored (for raw checks, e.g. dead letters). */
  records(topic: string): readonly LogRecord[] {
    return this.#topics.read(topic);
  }

  /**
   * Metrics of every live task. Lag is measured against the in-memory partition's end (0 unless a
   * record failed under the `fail` policy: the driver processes every record when it is piped);
   * throughput follows the driver's virtual wall clock.
   */
  metrics(): TaskMetrics[] {
    return [...this.#tasks.values()].map((t) => {
      const end = this.#topics.endOffset(t.topic, t.partition);
      t.observeEndOffset(end, t.nextOffset ?? 0);
      return t.metrics();
    });
  }

  /** Metrics of the control topics (records read, decoding failures, keys in the replayed view). */
  controlMetrics(): ControlMetrics[] {
    return this.#controls.metrics();
  }

  /**
   * Restarts every task, as after a crash following its last commit or a move to another
   * instance: the tasks are closed and dropped with their in-memory state and stream time; the
   * next record of a partition starts a new task, which restores its stores from the changelogs.
   */
  async restartTasks(): Promise<void> {
    this.#assertOpen();
    for (const task of this.#tasks.values()) await task.close();
    this.#tasks.clear();
  }

  /** Closes every task's processors. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const task of this.#tasks.values()) await task.close();
  }

  /** Applies the table and global table updates appended so far. */
  async #catchUpTables(): Promise<void> {
    for (const task of this.#tasks.values()) await task.stores().catchUp();
    await this.#state.globals?.catchUp();
  }

  /** Processes one partition's batch and commits it (outputs and changelog records appended, internal ones queued). */
  async #process(batch: readonly LogRecord[], queue: LogRecord[]): Promise<void> {
    const task = await this.#task(batch[0]!.topic, batch[0]!.partition);
    await task.process(batch);
    task.prepareCommit();
    this.#route(queue);
  }

  /** Processes the queued records one at a time, and whatever they lead to. */
  async #drain(queue: LogRecord[]): Promise<void> {
    while (queue.length > 0) await this.#process([queue.shift()!], queue);
  }

  /** Appends the collected outputs; those on topics the topology reads are queued for processing. */
  #route(queue: LogRecord[]): void {
    for (const out of this.#collector.take()) {
      const stored = this.#topics.append(out, this.clock.now());
      if (this.#topology.sourceFor(out.topic, this.applicationId) !== undefined) queue.push(stored);
    }
  }

  async #task(topic: string, partition: number): Promise<StreamTask> {
    const id = taskId(topic, partition);
    let task = this.#tasks.get(id);
    if (task === undefined) {
      task = new StreamTask({ topology: this.#topology, applicationId: this.applicationId, topic, partition, clock: this.clock, collector: this.#collector, state: this.#state });
      this.#tasks.set(id, task);
      await task.restoreState();
    }
    return task;
  }

  #assertOpen(): void {
    if (this.#closed) throw new SluiceError(ErrorCode.STREAM_CLOSED, 'the test driver is closed');
  }
}
