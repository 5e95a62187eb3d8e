/**
 * How stores read the topics they are restored from (changelogs, table topics), and how control
 * streams read their topics: a
 * {@link PartitionReader} reads one topic's partitions from the earliest offset, first up to the
 * end as it was when restoring started (restore), then whatever has arrived since (catch-up, for
 * tables). The runtime reads the log with a manually assigned read_committed consumer; the test
 * driver reads its in-memory topics.
 */
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { Consumer, Log, LogRecord, TopicPartition } from '../../log/types.ts';

/** Reads some partitions of one topic. */
export interface PartitionReader {
  /** Calls `apply` for every record from the current position (at first: the earliest) to the end. */
  readToEnd(apply: (record: LogRecord) => void, options?: ReadToEndOptions): Promise<void>;
  /** Calls `apply` for the records available now, without waiting. */
  catchUp(apply: (record: LogRecord) => void): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link PartitionReader.readToEnd}. */
export interface ReadToEndOptions {
  /**
   * Read to the high watermark rather than the last stable offset: wait until every transaction
   * open when the read started is committed or aborted. Changelog restores need this — a commit
   * the coordinator has accepted (so the task's input offsets are committed) may not yet have its
   * marker in the changelog partition, and stopping at the stable offset would leave those writes
   * out of the restored state. Topics read as tables or control streams need not wait (default).
   */
  readonly settleTransactions?: boolean;
}

/** Opens readers; `partitions` null reads every partition of the topic. */
export interface StateReaders {
  open(topic: string, partitions: readonly number[] | null): PartitionReader;
}

/** Defaults of the log readers. */
export const RESTORE_DEFAULTS = { maxPollRecords: 10_000, pollTimeoutMs: 100, restoreTimeoutMs: 300_000 } as const;

/** Readers on a log (the runtime). */
export class LogStateReaders implements StateReaders {
  readonly #log: Log;
  readonly #restoreTimeoutMs: number;

  constructor(log: Log, restoreTimeoutMs: number = RESTORE_DEFAULTS.restoreTimeoutMs) {
    this.#log = log;
    this.#restoreTimeoutMs = restoreTimeoutMs;
  }

  open(topic: string, partitions: readonly number[] | null): PartitionReader {
    return new LogPartitionReader(this.#log, topic, partitions, this.#restoreTimeoutMs);
  }
}

class LogPartitionReader implements PartitionReader {
  readonly #log: Log;
  readonly #topic: string;
  readonly #partitions: readonly number[] | null;
  readonly #timeoutMs: number;
  #consumer: Consumer | null = null;
  #tps: TopicPartition[] = [];

  constructor(log: Log, topic: string, partitions: readonly number[] | null, timeoutMs: number) {
    this.#log = log;
    this.#topic = topic;
    this.#partitions = partitions;
    this.#timeoutMs = timeoutMs;
  }

  async #open(): Promise<Consumer> {
    if (this.#consumer !== null) return this.#consumer;
    const consumer = this.#log.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest', maxPollRecords: RESTORE_DEFAULTS.maxPollRecords });
    const partitions = this.#partitions ?? (await this.#log.admin.describeTopic(this.#topic)).partitions.map((p) => p.partition);
    this.#tps = partitions.map((partition) => ({ topic: this.#topic, partition }));
    await consumer.assign(this.#tps);
    for (const tp of this.#tps) await consumer.seek(tp, 'earliest');
    this.#consumer = consumer;
    return consumer;
  }

  async readToEnd(apply: (record: LogRecord) => void, options: ReadToEndOptions = {}): Promise<void> {
    const consumer = await this.#open();
    // By default the reader's own end offsets: one call, and on Kafka the last stable offset of a
    // read_committed reader, so an open transaction on the topic cannot hold the read up. To settle
    // transactions, the high watermark: the read_committed position passes it only once every
    // transaction below it is resolved.
    const ends = options.settleTransactions === true
      ? new Map((await this.#log.admin.describeTopic(this.#topic)).partitions.map((p) => [p.partition, p.endOffset]))
      : new Map((await consumer.lag()).map((l) => [l.partition, l.endOffset]));
    const deadline = performance.now() + this.#timeoutMs;
    for (;;) {
      let behind = false;
      for (const tp of this.#tps) if ((await consumer.position(tp)) < (ends.get(tp.partition) ?? 0)) behind = true;
      if (!behind) return;
      if (performance.now() > deadline) {
        throw new SluiceError(ErrorCode.STREAM_PROCESSING, `reading '${this.#topic}' to its end did not finish within ${this.#timeoutMs} ms`, {
          retriable: true,
          details: { topic: this.#topic },
        });
      }
      for (const r of await consumer.poll({ timeoutMs: RESTORE_DEFAULTS.pollTimeoutMs })) apply(r);
    }
  }

  async catchUp(apply: (record: LogRecord) => void): Promise<void> {
    const consumer = await this.#open();
    for (const r of await consumer.poll({ timeoutMs: 0 })) apply(r);
  }

  async close(): Promise<void> {
    await this.#consumer?.close();
    this.#consumer = null;
  }
}

/** Readers on in-memory records (the test driver): `records(topic)` is every record of a topic. */
export class MemoryStateReaders implements StateReaders {
  readonly #records: (topic: string) => readonly LogRecord[];

  constructor(records: (topic: string) => readonly LogRecord[]) {
    this.#records = records;
  }

  open(topic: string, partitions: readonly number[] | null): PartitionReader {
    const all = this.#records;
    let position = 0;
    const read = (apply: (record: LogRecord) => void): Promise<void> => {
      const records = all(topic);
      for (; position < records.length; position++) {
        const r = records[position]!;
        if (partitions === null || partitions.includes(r.partition)) apply(r);
      }
      return Promise.resolve();
    };
    return { readToEnd: read, catchUp: read, close: () => Promise.resolve() };
  }
}
