/**
 * The in-memory topics of the test driver: per topic, per partition, an append-only array of log
 * records with offsets from 0, partitioned by key exactly like the log's default partitioner.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import { partitionForKey } from '../../log/partitioner.ts';
import type { LogRecord, ProducerRecord } from '../../log/types.ts';
import { NO_HEADERS } from '../record.ts';

/** In-memory topics; unknown topics appear on first use with the default partition count. */
export class MemoryTopics {
  readonly #partitions: Readonly<Record<string, number>>;
  readonly #topics = new Map<string, LogRecord[][]>();
  readonly #appended = new Map<string, LogRecord[]>();
  #roundRobin = 0;

  /** `partitions`: partition count per topic name; others get 1. */
  constructor(partitions: Readonly<Record<string, number>> = {}) {
    this.#partitions = partitions;
  }

  /** Partition count of `topic`. */
  partitionCount(topic: string): number {
    return this.#partitions[topic] ?? 1;
  }

  /** Appends a record (partition: explicit, else by key, else round-robin) and returns it as stored. */
  append(record: ProducerRecord, now: number): LogRecord {
    const count = this.partitionCount(record.topic);
    const partition =
      record.partition ?? (record.key === null || record.key === undefined ? this.#roundRobin++ % count : partitionForKey(record.key, count));
    if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
      throw new SluiceError(ErrorCode.LOG_INVALID_PARTITION, `partition ${partition} of topic '${record.topic}' does not exist (it has ${count})`);
    }
    const log = this.#log(record.topic, partition);
    const stored: LogRecord = {
      topic: record.topic,
      partition,
      offset: log.length,
      timestamp: record.timestamp ?? now,
      key: record.key ?? null,
      value: record.value,
      headers: record.headers ?? NO_HEADERS,
    };
    log.push(stored);
    const all = this.#appended.get(record.topic) ?? [];
    all.push(stored);
    this.#appended.set(record.topic, all);
    return stored;
  }

  /** Offset the next record of `topic`/`partition` will get. */
  endOffset(topic: string, partition: number): number {
    return this.#topics.get(topic)?.[partition]?.length ?? 0;
  }

  /** Every record of `topic`, in the order they were appended (across partitions). */
  read(topic: string): readonly LogRecord[] {
    return this.#appended.get(topic) ?? [];
  }

  #log(topic: string, partition: number): LogRecord[] {
    let partitions = this.#topics.get(topic);
    if (partitions === undefined) {
      partitions = Array.from({ length: this.partitionCount(topic) }, () => []);
      this.#topics.set(topic, partitions);
    }
    return partitions[partition]!;
  }
}
