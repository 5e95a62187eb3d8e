/**
 * Retention and compaction of the embedded log, run on a timer by the housekeeping thread of every
 * process that writes to the log (housekeeping-thread.ts). Each pass works in short write
 * transactions — at most RETENTION_BATCHES_PER_TRANSACTION deletions or COMPACTION_CHUNK_BYTES of
 * rewritten batches each — so other writers (in any process) never wait long for the write lock,
 * and passes from several processes don't conflict.
 *
 * - Retention (`delete` policy): whole batches leave from the head of a partition while their
 *   newest timestamp is older than `retentionMs`, or while the partition, without them, still
 *   holds more than `retentionBytes`. The start offset moves to the first batch kept; a segment
 *   file no batch points into any more is removed (segment-upkeep.ts).
 * - Compaction (`compact` policy), as Kafka's log cleaner: once at least half of a partition's
 *   bytes were written since it was last cleaned, only the latest record of each key is kept
 *   (unkeyed records are kept), rewritten into batches that keep their original offsets, so
 *   offsets stay stable and consumers just see gaps. The latest offset of each key comes from one
 *   read of the partition up to its end; then the batches are rewritten chunk by chunk, each chunk
 *   decoded, filtered and encoded outside the transaction that swaps it in. Dropping a record older
 *   than its key's latest is always safe, whatever another process did meanwhile: no one ever
 *   removes the latest record of a key. A chunk whose batches another process rewrote meanwhile is
 *   left alone (its records were compacted there).
 *   Compacted topics keep their batches in the database, so compaction never touches segments.
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
import { dropEmptySegments, removeOrphanSegments } from './segment-upkeep.ts';
import { removeSegmentFiles } from './segments.ts';
import type { TopicCatalog, TopicRow } from './topics.ts';

/** Records per rewritten batch during compaction. */
const COMPACTED_BATCH_RECORDS = 4096;
/** Most stored bytes one compaction transaction rewrites. */
const COMPACTION_CHUNK_BYTES = 256 * 1024;
/** Most batches one retention transaction deletes. */
const RETENTION_BATCHES_PER_TRANSACTION = 256;
/** Most free pages one incremental vacuum step gives back (4 MiB of 4 KiB pages). */
const VACUUM_PAGES_PER_STEP = 1024;

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

/** A chunk's batches rewritten by compaction, and how many records they no longer hold. */
interface Rewrite {
  readonly removed: number;
  readonly batches: readonly RewrittenBatch[];
}

/** One batch written by compaction. */
interface RewrittenBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly minTs: number;
  readonly maxTs: number;
  readonly blob: Uint8Array;
  readonly appendedAt: number | null;
}

/** A batch as compaction's scan saw it: its keyed records' keys and offsets (same positions). */
interface ScannedBatch extends Omit<StoredBatch, 'max_ts'> {
  readonly keys: readonly string[];
  readonly offsets: readonly number[];
}

/** What one maintenance pass reclaimed. */
export interface MaintenanceResult {
  readonly batchesDeleted: number;
  readonly recordsCompacted: number;
}

/** Applies retention and compaction to every topic. */
export class Maintenance {
  readonly #db: DatabaseSync;
  readonly #dir: string;
  readonly #topics: TopicCatalog;
  readonly #writer: BatchWriter;
  /** Segments whose rows the current transaction dropped (their files go once it commits). */
  #droppedSegments: number[] = [];
  #sweptOrphans = false;
  readonly #clock: () => number;
  readonly #oldestBatchMaxTs: StatementSync;
  readonly #dirtyBytes: StatementSync;
  /** Space was freed but the WAL could not be truncated yet. */
  #truncatePending = false;
  readonly #sleeper = new Int32Array(new SharedArrayBuffer(4));

  /** Maintains the log in `dir` through `db`. */
  constructor(db: DatabaseSync, dir: string, topics: TopicCatalog, clock: () => number) {
    this.#db = db;
    this.#dir = dir;
    this.#oldestBatchMaxTs = db.prepare('SELECT max_ts FROM batches WHERE topic_id = ? AND partition = ? ORDER BY last_offset LIMIT 1');
    this.#dirtyBytes = db.prepare('SELECT COALESCE(SUM(bytes), 0) AS dirty FROM batches WHERE topic_id = ? AND partition = ? AND last_offset >= ?');
    this.#topics = topics;
    this.#writer = new BatchWriter(db, clock);
    this.#clock = clock;
  }

  /** One pass over all topics; gives freed space back to the file system if anything was removed. */
  run(): MaintenanceResult {
    if (!this.#sweptOrphans) {
      removeOrphanSegments(this.#db, this.#dir);
      this.#sweptOrphans = true;
    }
    let batchesDeleted = 0;
    let recordsCompacted = 0;
    for (const topic of this.#topics.list()) {
      const { config } = topic;
      if (config.cleanupPolicy === 'compact') recordsCompacted += this.#compactTopic(topic);
      else if (config.retentionMs !== null || config.retentionBytes !== null) batchesDeleted += this.#retainTopic(topic);
    }
    if (batchesDeleted + recordsCompacted > 0 && this.#mostlyFree()) {
      const vacuum = this.#db.prepare(`PRAGMA incremental_vacuum(${VACUUM_PAGES_PER_STEP})`);
      const steps = Math.ceil(this.#freePages() / VACUUM_PAGES_PER_STEP);
      for (let i = 0; i < steps; i++) this.#writeSpaced(() => vacuum.all());
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
    const free = this.#freePages();
    const { page_count: pages } = this.#db.prepare('PRAGMA page_count').get() as { page_count: number };
    return free > 0 && free * 4 >= pages;
  }

  #freePages(): number {
    return (this.#db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
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
      for (;;) {
        const dropped = this.#writeSpaced(() => this.#retainSome(topic, p.partition, cutoff, retentionBytes));
        deleted += dropped;
        if (dropped < RETENTION_BATCHES_PER_TRANSACTION) break;
      }
    }
    return deleted;
  }

  /** Deletes up to RETENTION_BATCHES_PER_TRANSACTION batches from the head that the policy lets go; returns how many. */
  #retainSome(topic: TopicRow, partition: number, cutoff: number, retentionBytes: number | null): number {
    const p = this.#partitions(topic).find((q) => q.partition === partition);
    if (p === undefined) return 0;
    const batches = this.#batches(topic, partition);
    let size = batches.reduce((s, b) => s + b.bytes, 0);
    let drop = 0;
    while (drop < batches.length && drop < RETENTION_BATCHES_PER_TRANSACTION) {
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
    this.#db.prepare('UPDATE partitions SET start_offset = ?, bytes = ? WHERE topic_id = ? AND partition = ?').run(start, size, topic.id, partition);
    this.#droppedSegments.push(...dropEmptySegments(this.#db, topic.id, partition));
    return drop;
  }

  #deleteBatches(batches: readonly { readonly id: number }[]): void {
    const del = this.#db.prepare('DELETE FROM batches WHERE rowid = ?');
    for (const b of batches) del.run(b.id);
  }

  #compactTopic(topic: TopicRow): number {
    let removed = 0;
    for (const p of this.#partitions(topic)) if (this.#dirty(topic, p)) removed += this.#compactPartition(topic, p);
    return removed;
  }

  /** True once at least half of a partition's bytes arrived since it was last cleaned. */
  #dirty(topic: TopicRow, p: PartitionRow): boolean {
    const { dirty } = this.#dirtyBytes.get(topic.id, p.partition, p.cleaned_offset) as { dirty: number };
    return dirty > 0 && dirty * 2 >= p.bytes;
  }

  #compactPartition(topic: TopicRow, p: PartitionRow): number {
    const end = p.end_offset;
    const { batches, latest } = this.#scan(topic, p.partition, end);
    // Chunks of consecutive batches; only those holding a record older than its key's latest are rewritten.
    const chunks: ScannedBatch[][] = [];
    let chunkBytes = COMPACTION_CHUNK_BYTES;
    for (const b of batches) {
      if (chunkBytes >= COMPACTION_CHUNK_BYTES) {
        chunks.push([]);
        chunkBytes = 0;
      }
      chunks.at(-1)!.push(b);
      chunkBytes += b.bytes;
    }
    const obsolete = (b: ScannedBatch): boolean => b.keys.some((key, i) => b.offsets[i]! < latest.get(key)!);
    let removed = 0;
    for (const chunk of chunks) {
      if (!chunk.some(obsolete)) continue;
      const rewrite = this.#prepareRewrite(topic, p.partition, chunk, latest);
      if (rewrite !== null) removed += this.#writeSpaced(() => this.#replace(topic, p.partition, chunk, rewrite));
    }
    this.#writeSpaced(() => this.#markCleaned(topic, p.partition, end));
    return removed;
  }

  /**
   * One read of the partition's batches before `end`: each batch with the keys (and offsets) of its
   * keyed records, and the offset of the latest record of every key.
   */
  #scan(topic: TopicRow, partition: number, end: number): { batches: ScannedBatch[]; latest: Map<string, number> } {
    const latest = new Map<string, number>();
    const batches: ScannedBatch[] = [];
    const rows = this.#db.prepare(
      'SELECT rowid AS id, base_offset, last_offset, bytes, data FROM batches WHERE topic_id = ? AND partition = ? AND last_offset < ? ORDER BY last_offset',
    );
    for (const row of rows.iterate(topic.id, partition, end) as IterableIterator<Omit<ScannedBatch, 'keys' | 'offsets'> & { data: Uint8Array }>) {
      const records: LogRecord[] = [];
      decodeBatch(row.data, { topic: topic.name, partition, baseOffset: row.base_offset }, 0, Number.MAX_SAFE_INTEGER, records);
      const keys: string[] = [];
      const offsets: number[] = [];
      for (const r of records) {
        if (r.key === null) continue;
        const key = keyString(r.key);
        latest.set(key, r.offset);
        keys.push(key);
        offsets.push(r.offset);
      }
      batches.push({ id: row.id, base_offset: row.base_offset, last_offset: row.last_offset, bytes: row.bytes, keys, offsets });
    }
    return { batches, latest };
  }

  /**
   * Runs `fn` in a write transaction, then sleeps as long as the transaction took (at least 1 ms),
   * so that the writers of every process get the lock at least half of the time during a pass.
   */
  #writeSpaced<T>(fn: () => T): T {
    const started = performance.now();
    try {
      const result = withWriteTransaction(this.#db, fn);
      removeSegmentFiles(this.#dir, this.#droppedSegments);
      return result;
    } finally {
      this.#droppedSegments = [];
      Atomics.wait(this.#sleeper, 0, 0, Math.max(1, performance.now() - started));
    }
  }

  /**
   * The rewrite of one chunk of consecutive batches without the records older than their key's
   * latest, made outside any transaction: the replacement batches and how many records go; null
   * when another process rewrote one of its batches meanwhile, or when nothing would go.
   */
  #prepareRewrite(topic: TopicRow, partition: number, chunk: readonly ScannedBatch[], latest: ReadonlyMap<string, number>): Rewrite | null {
    const blob = this.#db.prepare('SELECT data, appended_at FROM batches WHERE rowid = ? AND base_offset = ? AND last_offset = ?');
    const records: LogRecord[] = [];
    for (const b of chunk) {
      const row = blob.get(b.id, b.base_offset, b.last_offset) as { data: Uint8Array; appended_at: number | null } | undefined;
      if (row === undefined) return null;
      decodeBatch(row.data, { topic: topic.name, partition, baseOffset: b.base_offset, appendedAt: row.appended_at ?? undefined }, 0, Number.MAX_SAFE_INTEGER, records);
    }
    const kept = records.filter((r) => r.key === null || r.offset >= (latest.get(keyString(r.key)) ?? r.offset));
    if (kept.length === records.length) return null;
    const batches: RewrittenBatch[] = [];
    for (let i = 0; i < kept.length; i += COMPACTED_BATCH_RECORDS) {
      const part = kept.slice(i, i + COMPACTED_BATCH_RECORDS);
      const base = part[0]!.offset;
      const timestamps = part.map((r) => r.timestamp);
      batches.push({
        baseOffset: base,
        lastOffset: part[part.length - 1]!.offset,
        minTs: Math.min(...timestamps),
        maxTs: Math.max(...timestamps),
        blob: encodeBatch(part, { offsetDeltas: part.map((r) => r.offset - base) }),
        appendedAt: latestAppend(part),
      });
    }
    return { removed: records.length - kept.length, batches };
  }

  /**
   * Replaces a chunk's batches with their rewrite (in the caller's write transaction); returns how
   * many records went, or 0 when another process rewrote one of them since the rewrite was made.
   */
  #replace(topic: TopicRow, partition: number, chunk: readonly ScannedBatch[], rewrite: Rewrite): number {
    const present = this.#db.prepare('SELECT 1 FROM batches WHERE rowid = ? AND base_offset = ? AND last_offset = ?');
    if (!chunk.every((b) => present.get(b.id, b.base_offset, b.last_offset) !== undefined)) return 0;
    this.#deleteBatches(chunk);
    let bytes = 0;
    for (const b of rewrite.batches) {
      this.#writer.insert(topic.id, partition, b.baseOffset, b.lastOffset, b, b.appendedAt);
      bytes += b.blob.byteLength;
    }
    const freed = chunk.reduce((n, b) => n + b.bytes, 0) - bytes;
    this.#db.prepare('UPDATE partitions SET bytes = bytes - ? WHERE topic_id = ? AND partition = ?').run(freed, topic.id, partition);
    return rewrite.removed;
  }

  #markCleaned(topic: TopicRow, partition: number, cleanedOffset: number): void {
    this.#db
      .prepare('UPDATE partitions SET cleaned_offset = MAX(cleaned_offset, ?) WHERE topic_id = ? AND partition = ?')
      .run(cleanedOffset, topic.id, partition);
  }
}

/**
 * The append time of a compacted batch: that of the newest batch its records came from (so no
 * record reads as appended earlier than it was), or null when one of them has none.
 */
function latestAppend(records: readonly LogRecord[]): number | null {
  let latest = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.appendedAt === undefined) return null;
    latest = Math.max(latest, r.appendedAt);
  }
  return latest;
}

/** A key's bytes as a Map key. */
function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}
