/**
 * The topology builder: `topology()` starts one, `stream(topic, codecs)` adds a source and returns
 * a {@link Stream} whose operators add nodes; `build()` freezes the graph into a {@link Topology}.
 * Every option is checked here, at the boundary, with STREAM_INVALID_TOPOLOGY errors that name the
 * node and the reason.
 */
import { bytesCodec } from '../../log/codecs/basic.ts';
import type { Codec } from '../../log/codecs/codec.ts';
import { ControlStream, type ControlOptions } from '../control/stream.ts';
import { storeSpec, type StoreKind, type StoreOptions, type StoreSpec } from '../state/spec.ts';
import { validateStores } from '../state/wiring.ts';
import { Table } from '../table/table.ts';
import { errorPolicy, type ErrorPolicyOptions } from './error-policy.ts';
import type { ControlNode, NodeSpec, TimestampExtractor, TopicRef, TopologyNode } from './nodes.ts';
import { Stream } from './stream.ts';
import { Topology } from './topology.ts';
import { assertCodec, assertFunction, invalidTopology } from './validate.ts';

/** Options of {@link topology}. */
export interface TopologyOptions {
  /** Error policy for bad records and failing user functions. Default: fail on everything. */
  readonly errors?: ErrorPolicyOptions;
}

/** Options of {@link TopologyBuilder.stream}. */
export interface SourceOptions<K, V> {
  /** Codec of record keys. */
  readonly key: Codec<K>;
  /** Codec of record values. */
  readonly value: Codec<V>;
  /** Event time of each record; default: the log record's timestamp. */
  readonly timestamp?: TimestampExtractor<K, V>;
  /** Node name (default `source-<n>`). */
  readonly name?: string;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** Builds a topology; see {@link topology}. */
export class TopologyBuilder {
  readonly #nodes: TopologyNode[] = [];
  readonly #names = new Set<string>();
  readonly #sourceTopics = new Set<string>();
  readonly #controlTopics = new Set<string>();
  readonly #repartitionPartitions = new Map<string, number>();
  readonly #stores = new Map<string, StoreSpec>();
  readonly #options: TopologyOptions;
  #counter = 0;
  #built = false;

  constructor(options: TopologyOptions = {}) {
    this.#options = options;
    errorPolicy(options.errors);
  }

  /** Adds a source reading `topic`, decoded with the given codecs. */
  stream<K, V>(topic: string, options: SourceOptions<K, V>): Stream<K, V> {
    if (typeof topic !== 'string' || topic.length === 0) throw invalidTopology('stream(): topic must be a non-empty string');
    assertCodec(`stream('${topic}').key`, options?.key);
    assertCodec(`stream('${topic}').value`, options.value);
    if (options.timestamp !== undefined) assertFunction(`stream('${topic}').timestamp`, options.timestamp);
    const name = this.add({
      kind: 'source',
      name: options.name,
      parents: [],
      topic: { name: topic, internal: false },
      keyCodec: options.key as Codec<unknown>,
      valueCodec: options.value as Codec<unknown>,
      timestamp: options.timestamp as TimestampExtractor<unknown, unknown> | undefined,
    });
    return new Stream<K, V>(this, name, { key: options.key, value: options.value });
  }

  /**
   * Adds a control stream reading `topic` (a topic name, or a user {@link TopicRef}): every
   * running instance reads all of its partitions from the earliest offset, outside the consumer
   * group, and applies each record to the connected processors of all its tasks
   * (`stream.connect(control, supplier)`), before the data records appended after it. Instances
   * keep the latest record per key and replay it to every task they create, so a compacted topic
   * (one record per key: a model per name) is the natural control topic. Codecs default to raw bytes.
   * `options.perInstance` adds a listener per instance that sees every record even while the
   * instance has no task (see {@link ControlOptions.perInstance}).
   */
  control<CK = Uint8Array, CV = Uint8Array>(topic: string | TopicRef, options: ControlOptions<CK, CV> = {}): ControlStream<CK, CV> {
    const ref = typeof topic === 'string' ? { name: topic, internal: false } : topic;
    if (typeof ref?.name !== 'string' || ref.name.length === 0) throw invalidTopology('control(): topic must be a non-empty string');
    if (ref.internal) throw invalidTopology(`control('${ref.name}'): a control topic must be a user topic, not an internal one`);
    if (this.#controlTopics.has(ref.name)) throw invalidTopology(`topic '${ref.name}' is read by two control streams; reuse the first one`);
    if (this.#sourceTopics.has(ref.name)) throw invalidTopology(`topic '${ref.name}' is read by a stream; a control topic is read by control() only (forward from control() to see its records downstream)`);
    const key = options.key ?? (bytesCodec as unknown as Codec<CK>);
    const value = options.value ?? (bytesCodec as unknown as Codec<CV>);
    assertCodec(`control('${ref.name}').key`, key);
    assertCodec(`control('${ref.name}').value`, value);
    if (options.perInstance !== undefined) assertFunction(`control('${ref.name}').perInstance`, options.perInstance);
    const node = this.add({
      kind: 'control',
      name: options.name,
      parents: [],
      topic: { name: ref.name, internal: false },
      keyCodec: key as Codec<unknown>,
      valueCodec: value as Codec<unknown>,
      perInstance: (options.perInstance ?? null) as ControlNode['perInstance'],
    });
    this.#controlTopics.add(ref.name);
    return new ControlStream<CK, CV>(this, { node, topic: ref.name, key, value });
  }

  /**
   * Declares a key-value state store; processors that list it (`process(supplier, { stores: [name] })`)
   * get it with `context.getStore(name)`. Each task has its own, logged to the compacted topic
   * `<applicationId>-<name>-changelog` and restored from it when the task starts or moves.
   */
  addStore<K, V>(options: StoreOptions<K, V>): void {
    this.#addStore('keyValue', options, null);
  }

  /** Declares a window store (internal: used by windowed aggregations, window/grouped.ts). */
  addWindowStore<K, V>(options: StoreOptions<K, V>): void {
    this.#addStore('window', options, null);
  }

  /**
   * Reads `topic` as a table (latest value per key) for stream–table joins. The task of stream
   * partition n reads partition n of the table, so the joined stream must be co-partitioned with
   * it (same partition count, same key; `run()` checks the counts). The topic is its own changelog.
   */
  table<K, V>(topic: string, options: SourceOptions<K, V> & { readonly store?: string }): Table<K, V> {
    return this.#table('table', topic, options);
  }

  /** Reads every partition of `topic` as a table on every instance (device registry, models). */
  globalTable<K, V>(topic: string, options: SourceOptions<K, V> & { readonly store?: string }): Table<K, V> {
    return this.#table('global', topic, options);
  }

  #table<K, V>(kind: StoreKind, topic: string, options: SourceOptions<K, V> & { readonly store?: string }): Table<K, V> {
    if (typeof topic !== 'string' || topic.length === 0) throw invalidTopology(`${kind === 'table' ? 'table' : 'globalTable'}(): topic must be a non-empty string`);
    const store = options?.store ?? `${topic}-${kind === 'table' ? 'table' : 'global'}`;
    for (const s of this.#stores.values()) if (s.topic === topic) throw invalidTopology(`topic '${topic}' is already read as table '${s.name}'; reuse that table`);
    this.#addStore(kind, { name: store, key: options.key, value: options.value }, topic);
    return new Table<K, V>({ store, kind, key: options.key, value: options.value, updates: null });
  }

  #addStore<K, V>(kind: StoreKind, options: StoreOptions<K, V>, topic: string | null): void {
    if (this.#built) throw invalidTopology('this topology was already built; start a new one with topology()');
    const spec = storeSpec(kind, options, topic);
    if (this.#stores.has(spec.name)) throw invalidTopology(`store name '${spec.name}' is used twice`, { store: spec.name });
    this.#stores.set(spec.name, spec);
  }

  /** Freezes the graph; the builder cannot be changed afterwards. */
  build(): Topology {
    if (!this.#nodes.some((n) => n.kind === 'source')) throw invalidTopology('a topology needs at least one source: call stream(topic, codecs)');
    validateStores(this.#nodes, this.#stores);
    for (const c of this.#nodes) {
      if (c.kind === 'control' && c.perInstance === null && !this.#nodes.some((n) => n.kind === 'connect' && n.control === c.name)) {
        throw invalidTopology(`control stream '${c.name}' (topic '${c.topic.name}') is not connected: call stream.connect(control, supplier), or give it a perInstance listener`, { node: c.name });
      }
    }
    this.#built = true;
    return new Topology({
      nodes: this.#nodes,
      errors: errorPolicy(this.#options.errors),
      repartitionPartitions: this.#repartitionPartitions,
      stores: this.#stores,
    });
  }

  /**
   * Adds a node (internal, used by {@link Stream}); `name` undefined gets `<kind>-<n>`. Returns the
   * node's name.
   */
  add(node: NodeSpec): string {
    if (this.#built) throw invalidTopology('this topology was already built; start a new one with topology()');
    const name = node.name ?? this.autoName(node.kind);
    if (!NAME.test(name)) throw invalidTopology(`node name ${JSON.stringify(name)} must be 1-100 characters of A-Z a-z 0-9 . _ -`, { node: name });
    if (this.#names.has(name)) throw invalidTopology(`node name '${name}' is used twice`, { node: name });
    if (node.kind === 'source') {
      const key = `${node.topic.internal ? 'internal:' : ''}${node.topic.name}`;
      if (this.#controlTopics.has(key)) throw invalidTopology(`topic '${node.topic.name}' is a control topic; it cannot also be read by stream()`, { node: name });
      if (this.#sourceTopics.has(key)) throw invalidTopology(`topic '${node.topic.name}' is read by two sources; read it once and branch or reuse the stream`, { node: name });
      this.#sourceTopics.add(key);
    }
    this.#names.add(name);
    this.#nodes.push(Object.freeze({ ...node, name, parents: Object.freeze([...node.parents]) }) as TopologyNode);
    return name;
  }

  /** A fresh default node name `<kind>-<n>` (internal). */
  autoName(kind: string): string {
    return `${kind}-${this.#counter++}`;
  }

  /** Records the partition count of an internal topic (internal, used by `repartition`). */
  setRepartitionPartitions(topic: string, partitions: number): void {
    this.#repartitionPartitions.set(topic, partitions);
  }
}

/**
 * Starts describing a stream application:
 *
 *     const b = topology({ errors: { onError: 'dead-letter', deadLetterTopic: 'telemetry.dlq' } });
 *     b.stream('telemetry', { key: stringCodec, value: telemetryCodec })
 *       .filter((r) => r.value.metrics.temp !== undefined)
 *       .to('hot', { key: stringCodec, value: jsonCodec() });
 *     const app = b.build();
 */
export function topology(options: TopologyOptions = {}): TopologyBuilder {
  return new TopologyBuilder(options);
}
