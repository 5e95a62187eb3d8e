/**
 * Reading record batches back from partitions (appends go through the writer thread: writer.ts),
 * out of their segment file or, for compacted topics, their row.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { LogRecord } from '../types.ts';
import { BatchCursor, decodeBatch, type BatchMeta } from './batch.ts';
import { SegmentReader } from './segments.ts';
import { type TopicRow, unknownTopic } from './topics.ts';

interface BatchRow {
  base_offset: number;
  bytes: number;
  data: Uint8Array;
  appended_at: number | null;
  segment: number | null;
  position: number | null;
}

const COLUMNS = 'base_offset, bytes, data, appended_at, segment, position';

/** Where the batch of `row` came from, for its records and error messages. */
function metaOf(topic: TopicRow, partition: number, row: BatchRow): BatchMeta {
  return { topic: topic.name, partition, baseOffset: row.base_offset, appendedAt: row.appended_at ?? undefined };
}

/** Reads the batches of every partition. */
export class PartitionLog {
  readonly #fetch: StatementSync;
  readonly #byTimestamp: StatementSync;
  readonly #bounds: StatementSync;
  readonly #segments: SegmentReader;

  /** Reads the log in `dir` through `db`. */
  constructor(db: DatabaseSync, dir: string) {
    this.#segments = new SegmentReader(dir);
    this.#fetch = db.prepare(`SELECT ${COLUMNS} FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ? ORDER BY last_offset`);
    this.#byTimestamp = db.prepare(`SELECT ${COLUMNS} FROM batches WHERE topic_id = ? AND partition = ? AND max_ts >= ? ORDER BY last_offset LIMIT 1`);
    this.#bounds = db.prepare('SELECT start_offset AS startOffset, end_offset AS endOffset FROM partitions WHERE topic_id = ? AND partition = ?');
  }

  /**
   * Appends to `out` up to `maxRecords` records of a partition from `fromOffset` on; returns the
   * cursor of the last batch read when records of it are left (null otherwise), for the next read
   * to go on from. Batch rows are fetched one at a time (iterate), so no batch is read beyond what
   * is needed. A batch whose segment retention removed meanwhile ends the read (the next one
   * finds the partition's new start).
   */
  read(topic: TopicRow, partition: number, fromOffset: number, maxRecords: number, out: LogRecord[]): BatchCursor | null {
    let added = 0;
    for (const row of this.#fetch.iterate(topic.id, partition, fromOffset) as IterableIterator<BatchRow>) {
      const bytes = this.#bytesOf(topic, partition, row);
      if (bytes === null) return null;
      const cursor = new BatchCursor(bytes, metaOf(topic, partition, row));
      added += cursor.take(fromOffset, maxRecords - added, out);
      if (added >= maxRecords) return cursor.done ? null : cursor;
    }
    return null;
  }

  /** Offset of the first record with timestamp ≥ `timestamp`, or null if none. */
  offsetForTimestamp(topic: TopicRow, partition: number, timestamp: number): number | null {
    const row = this.#byTimestamp.get(topic.id, partition, timestamp) as BatchRow | undefined;
    if (row === undefined) return null;
    const bytes = this.#bytesOf(topic, partition, row);
    if (bytes === null) return null;
    const records: LogRecord[] = [];
    decodeBatch(bytes, metaOf(topic, partition, row), 0, Number.MAX_SAFE_INTEGER, records);
    return records.find((r) => r.timestamp >= timestamp)?.offset ?? null;
  }

  /** A batch's bytes: from its segment file, or its row; null when its segment is gone. */
  #bytesOf(topic: TopicRow, partition: number, row: BatchRow): Uint8Array | null {
    if (row.segment === null) return row.data;
    return this.#segments.read(topic.id, partition, row.segment, row.position!, row.bytes);
  }

  /**
   * Closes the segment file held open for a partition: a consumer that stops reading it (a
   * revocation, a new assignment, close), so that a segment retention removes doesn't keep its
   * space. Another reader of the partition opens it again at its next read.
   */
  release(topic: TopicRow, partition: number): void {
    this.#segments.release(topic.id, partition);
  }

  /** Closes the segment files it holds open. */
  close(): void {
    this.#segments.close();
  }

  /** Start and end offsets of a partition, or LOG_UNKNOWN_TOPIC if the topic is gone. */
  bounds(topic: TopicRow, partition: number): { startOffset: number; endOffset: number } {
    const row = this.#bounds.get(topic.id, partition) as { startOffset: number; endOffset: number } | undefined;
    if (row === undefined) throw unknownTopic(topic.name);
    return row;
  }
}
