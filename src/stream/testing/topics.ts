/** Typed views of the test driver's topics: an input to pipe records into, an output to read. */
import type { Codec } from '../../log/codecs/codec.ts';
import type { LogRecord, ProducerRecord, RecordHeaders } from '../../log/types.ts';
import { isTombstone, type KeyValue } from '../record.ts';

/** Options of a piped record. */
export interface PipeOptions {
  /** Event time; default: the driver's wall clock. */
  readonly timestamp?: number;
  readonly headers?: RecordHeaders;
  /** Explicit partition; default: by key. */
  readonly partition?: number;
}

/**
 * A record read from an output topic. A tombstone (empty value with the header `sluice.tombstone`,
 * e.g. a retracted session on an update stream) is read with value `null` without calling the value
 * codec: give a `Codec<V | null>` to read topics that carry them.
 */
export interface TestRecord<K, V> {
  readonly key: K | null;
  readonly value: V;
  readonly timestamp: number;
  readonly headers: RecordHeaders;
  readonly partition: number;
}

/** Pipes typed records into a topic of the test driver. */
export class TestInputTopic<K, V> {
  readonly topic: string;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  readonly #pipe: (records: readonly ProducerRecord[]) => Promise<void>;

  /** Made by {@link TopologyTestDriver.input}. */
  constructor(topic: string, key: Codec<K>, value: Codec<V>, pipe: (records: readonly ProducerRecord[]) => Promise<void>) {
    this.topic = topic;
    this.#key = key;
    this.#value = value;
    this.#pipe = pipe;
  }

  /** Encodes and pipes one record (a null key stays null), then processes it. */
  pipe(key: K | null, value: V, options: PipeOptions = {}): Promise<void> {
    return this.pipeBytes(key === null ? null : this.#key.encode(key), this.#value.encode(value), options);
  }

  /** Pipes records as one batch (per partition), as one poll of the runtime would deliver them. */
  pipeAll(records: Iterable<KeyValue<K | null, V> & PipeOptions>): Promise<void> {
    return this.#pipe([...records].map((r) => this.#record(r.key === null ? null : this.#key.encode(r.key), this.#value.encode(r.value), r)));
  }

  /** Pipes raw bytes (e.g. an undecodable record). */
  pipeBytes(key: Uint8Array | null, value: Uint8Array, options: PipeOptions = {}): Promise<void> {
    return this.#pipe([this.#record(key, value, options)]);
  }

  #record(key: Uint8Array | null, value: Uint8Array, options: PipeOptions): ProducerRecord {
    return {
      topic: this.topic,
      key,
      value,
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.partition === undefined ? {} : { partition: options.partition }),
    };
  }
}

/** Reads typed records from a topic of the test driver; each read consumes them for this reader. */
export class TestOutputTopic<K, V> {
  readonly #records: () => readonly LogRecord[];
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  #position = 0;

  /** Made by {@link TopologyTestDriver.output}. */
  constructor(records: () => readonly LogRecord[], key: Codec<K>, value: Codec<V>) {
    this.#records = records;
    this.#key = key;
    this.#value = value;
  }

  /** Number of records not read yet. */
  get size(): number {
    return this.#records().length - this.#position;
  }

  /** True when every record was read. */
  isEmpty(): boolean {
    return this.size === 0;
  }

  /** Reads (and consumes) every unread record. */
  readRecords(): TestRecord<K, V>[] {
    const all = this.#records();
    const out = all.slice(this.#position).map((r) => ({
      key: r.key === null ? null : this.#key.decode(r.key),
      value: isTombstone(r.value, r.headers) ? (null as V) : this.#value.decode(r.value),
      timestamp: r.timestamp,
      headers: r.headers,
      partition: r.partition,
    }));
    this.#position = all.length;
    return out;
  }

  /** Reads the unread values. */
  readValues(): V[] {
    return this.readRecords().map((r) => r.value);
  }

  /** Reads the unread records as keys and values. */
  readKeyValues(): KeyValue<K | null, V>[] {
    return this.readRecords().map((r) => ({ key: r.key, value: r.value }));
  }
}
