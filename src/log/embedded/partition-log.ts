/**
 * Appending record batches to partitions and reading them back. Appends of one call are one SQLite
 * transaction: every batch row and every end offset move together, or nothing does.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { LogRecord, RecordHeaders } from '../types.ts';
import { decodeBatch, encodeBatch } from './batch.ts';
import { withWriteTransaction } from './database.ts';
import { type TopicRow, unknownTopic } from './topics.ts';

/** Largest number of records stored in one batch row; bigger appends are split. */
const MAX_BATCH_RECORDS = 4096;

/** A record ready to append (validated, timestamp resolved). */
export interface AppendRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array;
  readonly headers: RecordHeaders | undefined;
  readonly timestamp: number;
}

/** Records for one partition of one topic. */
export interface PartitionAppend {
  readonly topic: TopicRow;
  readonly partition: number;
  readonly records: readonly AppendRecord[];
}

interface BatchRow {
  base_offset: number;
  data: Uint8Array;
}

/** Reads and writes the batches of every partition. */
export class PartitionLog {
  readonly #db: DatabaseSync;
  readonly #endOffset: StatementSync;
  readonly #insertBatch: StatementSync;
  readonly #advance: StatementSync;
  readonly #fetch: StatementSync;
  readonly #byTimestamp: StatementSync;
  readonly #bounds: StatementSync;
  #appends = 0;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#endOffset = db.prepare('SELECT end_offset FROM partitions WHERE topic_id = ? AND partition = ?');
    this.#insertBatch = db.prepare(
      'INSERT INTO batches (topic_id, partition, base_offset, last_offset, min_ts, max_ts, bytes, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#advance = db.prepare('UPDATE partitions SET end_offset = ?, bytes = bytes + ? WHERE topic_id = ? AND partition = ?');
    this.#fetch = db.prepare(
      'SELECT base_offset, data FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ? ORDER BY last_offset',
    );
    this.#byTimestamp = db.prepare(
      'SELECT base_offset, data FROM batches WHERE topic_id = ? AND partition = ? AND max_ts >= ? ORDER BY last_offset LIMIT 1',
    );
    this.#bounds = db.prepare('SELECT start_offset AS startOffset, end_offset AS endOffset FROM partitions WHERE topic_id = ? AND partition = ?');
  }

  /**
   * Appends every partition's records in one transaction, with `extra` (e.g. committing group
   * offsets) run inside the same transaction. Returns each append's base offset, in input order.
   */
  append(appends: readonly PartitionAppend[], durable: boolean, extra?: () => void): number[] {
    this.#db.exec(durable ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL');
    const bases = withWriteTransaction(this.#db, () => {
      const result = appends.map((a) => this.#appendPartition(a));
      extra?.();
      return result;
    });
    this.#appends++;
    return bases;
  }

  /** How many appends this process made (consumers use it to notice their own process's writes). */
  get appendCount(): number {
    return this.#appends;
  }

  #appendPartition({ topic, partition, records }: PartitionAppend): number {
    const row = this.#endOffset.get(topic.id, partition) as { end_offset: number } | undefined;
    if (row === undefined) throw unknownTopic(topic.name);
    const base = row.end_offset;
    let bytes = 0;
    for (let start = 0; start < records.length; start += MAX_BATCH_RECORDS) {
      const end = Math.min(records.length, start + MAX_BATCH_RECORDS);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (let i = start; i < end; i++) {
        const ts = records[i]!.timestamp;
        if (ts < minTs) minTs = ts;
        if (ts > maxTs) maxTs = ts;
      }
      const blob = encodeBatch(records, start, end);
      this.#insertBatch.run(topic.id, partition, base + start, base + end - 1, minTs, maxTs, blob.byteLength, blob);
      bytes += blob.byteLength;
    }
    this.#advance.run(base + records.length, bytes, topic.id, partition);
    return base;
  }

  /** Writes an already-encoded batch as is (used by compaction, which keeps offsets). */
  insertEncoded(topic: TopicRow, partition: number, baseOffset: number, lastOffset: number, minTs: number, maxTs: number, blob: Uint8Array): void {
    this.#insertBatch.run(topic.id, partition, baseOffset, lastOffset, minTs, maxTs, blob.byteLength, blob);
  }

  /**
   * Appends to `out` up to `maxRecords` records of a partition from `fromOffset` on. Batch rows
   * are fetched one at a time (iterate), so no blob is read beyond what is needed.
   */
  read(topic: TopicRow, partition: number, fromOffset: number, maxRecords: number, out: LogRecord[]): number {
    let added = 0;
    for (const row of this.#fetch.iterate(topic.id, partition, fromOffset) as IterableIterator<BatchRow>) {
      added += decodeBatch(row.data, { topic: topic.name, partition, baseOffset: row.base_offset }, fromOffset, maxRecords - added, out);
      if (added >= maxRecords) break;
    }
    return added;
  }

  /** Offset of the first record with timestamp ≥ `timestamp`, or null if none. */
  offsetForTimestamp(topic: TopicRow, partition: number, timestamp: number): number | null {
    const row = this.#byTimestamp.get(topic.id, partition, timestamp) as BatchRow | undefined;
    if (row === undefined) return null;
    const records: LogRecord[] = [];
    decodeBatch(row.data, { topic: topic.name, partition, baseOffset: row.base_offset }, 0, Number.MAX_SAFE_INTEGER, records);
    return records.find((r) => r.timestamp >= timestamp)?.offset ?? null;
  }

  /** Start and end offsets of a partition, or LOG_UNKNOWN_TOPIC if the topic is gone. */
  bounds(topic: TopicRow, partition: number): { startOffset: number; endOffset: number } {
    const row = this.#bounds.get(topic.id, partition) as { startOffset: number; endOffset: number } | undefined;
    if (row === undefined) throw unknownTopic(topic.name);
    return row;
  }
}
