/**
 * The topology builder: `topology()` starts one, `stream(topic, codecs)` adds a source and returns
 * a {@link Stream} whose operators add nodes; `build()` freezes the graph into a {@link Topology}.
 * Every option is checked here, at the boundary, with STREAM_INVALID_TOPOLOGY errors that name the
 * node and the reason.
 */
import type { Codec } from '../../log/codecs/codec.ts';
import { errorPolicy, type ErrorPolicyOptions } from './error-policy.ts';
import type { NodeSpec, TimestampExtractor, TopologyNode } from './nodes.ts';
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
  readonly #repartitionPartitions = new Map<string, number>();
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

  /** Freezes the graph; the builder cannot be changed afterwards. */
  build(): Topology {
    if (this.#nodes.length === 0) throw invalidTopology('a topology needs at least one source: call stream(topic, codecs)');
    this.#built = true;
    return new Topology({
      nodes: this.#nodes,
      errors: errorPolicy(this.#options.errors),
      repartitionPartitions: this.#repartitionPartitions,
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
