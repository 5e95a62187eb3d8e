/**
 * Retention and compaction of the embedded log, run on a timer by every open log (each pass is one
 * write transaction per partition, so passes from several processes don't conflict).
 *
 * - Retention (`delete` policy): whole batches leave from the head of a partition while their
 *   newest timestamp is older than `retentionMs`, or while the partition, without them, still
 *   holds more than `retentionBytes`. The start offset moves to the first batch kept.
 * - Compaction (`compact` policy), as Kafka's log cleaner: once at least half of a partition's
 *   bytes were written since it was last cleaned, only the latest record of each key is kept
 *   (unkeyed records are kept), rewritten into batches that keep their original offsets, so
 *   offsets stay stable and consumers just see gaps.
 * Freed pages go back to the file system (incremental vacuum) and the WAL is truncated, so the
 * directory really shrinks — once free pages make up a quarter of the file: fewer are reused by
 * later appends anyway, and giving each pass's few pages back would move as many pages from the
 * end of the file, the newest data, on every pass (a busy compacted changelog is cleaned every
 * second).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { LogRecord } from '../types.ts';
import { decodeBatch, encodeBatch } from './batch.ts';
import { withWriteTransaction } from './database.ts';
import { BatchWriter } from './batch-writer.ts';
import type { TopicCatalog, TopicRow } from './topics.ts';

/** Records per rewritten batch during compaction. */
const COMPACTED_BATCH_RECORDS = 4096;

interface PartitionRow {
  partition: number;
  start_offset: number;
  end_offset: number;
  bytes: number;
  cleaned_offset: number;
}

interface StoredBatch {
  id: number;
  base_offset: number;
  last_offset: number;
  max_ts: number;
  bytes: number;
}

/** What one maintenance pass reclaimed. */
export interface MaintenanceResult {
  readonly batchesDeleted: number;
  readonly recordsCompacted: number;
}

/** Applies retention and compaction to every topic. */
export class Maintenance {
  readonly #db: DatabaseSync;
  readonly #topics: TopicCatalog;
  readonly #writer: BatchWriter;
  readonly #clock: () => number;
  readonly #oldestBatchMaxTs: StatementSync;
  readonly #dirtyBytes: StatementSync;
  /** Space was freed but the WAL could not be truncated yet. */
  #truncatePending = false;

  constructor(db: DatabaseSync, topics: TopicCatalog, clock: () => number) {
    this.#db = db;
    this.#oldestBatchMaxTs = db.prepare('SELECT max_ts FROM batches WHERE topic_id = ? AND partition = ? ORDER BY last_offset LIMIT 1');
    this.#dirtyBytes = db.prepare('SELECT COALESCE(SUM(bytes), 0) AS dirty FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ?');
    this.#topics = topics;
    this.#writer = new BatchWriter(db, clock);
    this.#clock = clock;
  }

  /** One pass over all topics; gives freed space back to the file system if anything was removed. */
  run(): MaintenanceResult {
    let batchesDeleted = 0;
    let recordsCompacted = 0;
    for (const topic of this.#topics.list()) {
      const { config } = topic;
      if (config.cleanupPolicy === 'compact') recordsCompacted += this.#compactTopic(topic);
      else if (config.retentionMs !== null || config.retentionBytes !== null) batchesDeleted += this.#retainTopic(topic);
    }
    if (batchesDeleted + recordsCompacted > 0 && this.#mostlyFree()) {
      this.#db.exec('PRAGMA incremental_vacuum');
      this.#truncatePending = true;
    }
    // Truncating the WAL fails (busy) while another connection reads or writes; retry each pass.
    if (this.#truncatePending) {
      const { busy } = this.#db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number };
      this.#truncatePending = busy !== 0;
    }
    return { batchesDeleted, recordsCompacted };
  }

  /** True when at least a quarter of the database's pages are free. */
  #mostlyFree(): boolean {
    const { freelist_count: free } = this.#db.prepare('PRAGMA freelist_count').get() as { freelist_count: number };
    const { page_count: pages } = this.#db.prepare('PRAGMA page_count').get() as { page_count: number };
    return free > 0 && free * 4 >= pages;
  }

  #partitions(topic: TopicRow): PartitionRow[] {
    return this.#db.prepare('SELECT * FROM partitions WHERE topic_id = ? ORDER BY partition').all(topic.id) as unknown as PartitionRow[];
  }

  #batches(topic: TopicRow, partition: number): StoredBatch[] {
    return this.#db
      .prepare('SELECT rowid AS id, base_offset, last_offset, max_ts, bytes FROM batches WHERE topic_id = ? AND partition = ? ORDER BY last_offset')
      .all(topic.id, partition) as unknown as StoredBatch[];
  }

  #retainTopic(topic: TopicRow): number {
    const { retentionMs, retentionBytes } = topic.config;
    const cutoff = retentionMs === null ? -Infinity : this.#clock() - retentionMs;
    let deleted = 0;
    for (const p of this.#partitions(topic)) {
      // A read-only look first, so that an idle pass never takes the write lock.
      const oldest = this.#oldestBatchMaxTs.get(topic.id, p.partition) as { max_ts: number } | undefined;
      if (oldest === undefined || (oldest.max_ts >= cutoff && (retentionBytes === null || p.bytes <= retentionBytes))) continue;
      deleted += withWriteTransaction(this.#db, () => {
        const batches = this.#batches(topic, p.partition);
        let size = batches.reduce((s, b) => s + b.bytes, 0);
        let drop = 0;
        while (drop < batches.length) {
          const b = batches[drop]!;
          const tooOld = b.max_ts < cutoff;
          const tooBig = retentionBytes !== null && size - b.bytes >= retentionBytes;
          if (!tooOld && !tooBig) break;
          size -= b.bytes;
          drop++;
        }
        if (drop === 0) return 0;
        this.#deleteBatches(batches.slice(0, drop));
        const start = drop < batches.length ? batches[drop]!.base_offset : p.end_offset;
        this.#db
          .prepare('UPDATE partitions SET start_offset = ?, bytes = ? WHERE topic_id = ? AND partition = ?')
          .run(start, size, topic.id, p.partition);
        return drop;
      });
    }
    return deleted;
  }

  #deleteBatches(batches: readonly StoredBatch[]): void {
    const del = this.#db.prepare('DELETE FROM batches WHERE rowid = ?');
    for (const b of batches) del.run(b.id);
  }

  #compactTopic(topic: TopicRow): number {
    let removed = 0;
    for (const p of this.#partitions(topic)) {
      if (!this.#dirty(topic, p)) continue;
      removed += withWriteTransaction(this.#db, () => {
        const current = this.#partitions(topic).find((q) => q.partition === p.partition);
        return current !== undefined && this.#dirty(topic, current) ? this.#compactPartition(topic, current) : 0;
      });
    }
    return removed;
  }

  /** True once at least half of a partition's bytes arrived since it was last cleaned. */
  #dirty(topic: TopicRow, p: PartitionRow): boolean {
    const { dirty } = this.#dirtyBytes.get(topic.id, p.partition, p.cleaned_offset) as { dirty: number };
    return dirty > 0 && dirty * 2 >= p.bytes;
  }

  #compactPartition(topic: TopicRow, p: PartitionRow): number {
    const batches = this.#batches(topic, p.partition);
    const records: LogRecord[] = [];
    const blob = this.#db.prepare('SELECT data FROM batches WHERE rowid = ?');
    for (const b of batches) {
      const { data } = blob.get(b.id) as { data: Uint8Array };
      decodeBatch(data, { topic: topic.name, partition: p.partition, baseOffset: b.base_offset }, 0, Number.MAX_SAFE_INTEGER, records);
    }
    const latest = new Map<string, number>();
    for (const r of records) if (r.key !== null) latest.set(Buffer.from(r.key).toString('latin1'), r.offset);
    const kept = records.filter((r) => r.key === null || latest.get(Buffer.from(r.key).toString('latin1')) === r.offset);
    const removed = records.length - kept.length;
    if (removed === 0) {
      this.#markCleaned(topic, p.partition, p.end_offset, p.bytes);
      return 0;
    }
    this.#deleteBatches(batches);
    let bytes = 0;
    for (let i = 0; i < kept.length; i += COMPACTED_BATCH_RECORDS) {
      const chunk = kept.slice(i, i + COMPACTED_BATCH_RECORDS);
      const base = chunk[0]!.offset;
      const encoded = encodeBatch(chunk, { offsetDeltas: chunk.map((r) => r.offset - base) });
      const timestamps = chunk.map((r) => r.timestamp);
      this.#writer.insert(topic.id, p.partition, base, chunk[chunk.length - 1]!.offset, { minTs: Math.min(...timestamps), maxTs: Math.max(...timestamps), blob: encoded });
      bytes += encoded.byteLength;
    }
    this.#markCleaned(topic, p.partition, p.end_offset, bytes);
    return removed;
  }

  #markCleaned(topic: TopicRow, partition: number, cleanedOffset: number, bytes: number): void {
    this.#db
      .prepare('UPDATE partitions SET cleaned_offset = ?, bytes = ? WHERE topic_id = ? AND partition = ?')
      .run(cleanedOffset, bytes, topic.id, partition);
  }
}
