/**
 * Writes encoded batches — each batch's bytes into its partition's segment file (`delete`-policy
 * topics outside transactions; segments.ts) or into its row — with the batch rows and the
 * partitions' new end offsets; for a transaction commit the fencing check and the group offsets;
 * consumers' offset commits. The caller owns the SQLite transaction, so everything `apply` does commits or rolls back
 * together (bytes written to a segment past its recorded end are simply overwritten later).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { AppendRequest, EncodedBatch, TransactionCommit } from './append-request.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { type SegmentAppender, type SegmentLocation, segmentMaxAge } from './segments.ts';
import { unknownTopic } from './topics.ts';

const NO_BYTES = new Uint8Array(0);

interface TargetRow {
  end_offset: number;
  cleanup_policy: 'delete' | 'compact';
  segment_ms: number | null;
  retention_ms: number | null;
}

/** Applies append requests inside the caller's transaction. */
export class BatchWriter {
  readonly #groups: GroupCoordinator;
  readonly #endOffset: StatementSync;
  readonly #insertBatch: StatementSync;
  readonly #advance: StatementSync;
  readonly #epoch: StatementSync;
  readonly #segments: SegmentAppender | null;
  readonly #clock: () => number;
  /** Batch bytes written into the database (its WAL) since the last {@link takeDatabaseBytes}. */
  #databaseBytes = 0;

  /** `segments` null: every batch is kept in the database (compaction's rewrites, which are never segment-stored). */
  constructor(db: DatabaseSync, clock: () => number, segments: SegmentAppender | null = null) {
    this.#groups = new GroupCoordinator(db, clock);
    this.#segments = segments;
    this.#clock = clock;
    this.#endOffset = db.prepare(
      'SELECT p.end_offset, t.cleanup_policy, t.segment_ms, t.retention_ms FROM partitions p JOIN topics t ON t.id = p.topic_id WHERE p.topic_id = ? AND p.partition = ?',
    );
    this.#insertBatch = db.prepare(
      'INSERT INTO batches (topic_id, partition, base_offset, last_offset, min_ts, max_ts, bytes, data, appended_at, segment, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#advance = db.prepare('UPDATE partitions SET end_offset = ?, bytes = bytes + ? WHERE topic_id = ? AND partition = ?');
    this.#epoch = db.prepare('SELECT epoch FROM producers WHERE transactional_id = ?');
  }

  /**
   * Appends every partition's batches and commits a transaction's or a consumer's offsets; returns
   * base offsets. The batches' append time is the wall clock now (sub-millisecond), right before
   * the caller commits.
   */
  apply(request: Pick<AppendRequest, 'appends' | 'transaction' | 'commits'>): number[] {
    if (request.transaction !== null) this.#assertNotFenced(request.transaction);
    const appendedAt = performance.timeOrigin + performance.now();
    const bases = request.appends.map((a) => {
      const row = this.#endOffset.get(a.topicId, a.partition) as TargetRow | undefined;
      if (row === undefined) throw unknownTopic(a.topic);
      // A transaction's batches stay in the database, on disk atomically with its offsets (segments.ts).
      const segments = row.cleanup_policy === 'delete' && request.transaction === null ? this.#segments : null;
      const maxAgeMs = segmentMaxAge({ segmentMs: row.segment_ms, retentionMs: row.retention_ms });
      let offset = row.end_offset;
      let bytes = 0;
      for (const b of a.batches) {
        const at = segments?.append(a.topicId, a.partition, b.blob, maxAgeMs, this.#clock()) ?? null;
        this.insert(a.topicId, a.partition, offset, offset + b.count - 1, b, appendedAt, at);
        offset += b.count;
        bytes += b.blob.byteLength;
      }
      this.#advance.run(offset, bytes, a.topicId, a.partition);
      return row.end_offset;
    });
    for (const o of request.transaction?.offsets ?? []) this.#groups.commit(o.groupId, o.offsets, o.fence);
    for (const o of request.commits ?? []) this.#groups.commit(o.groupId, o.offsets, o.fence);
    return bases;
  }

  /**
   * Inserts one batch row as is (compaction uses it to keep original offsets); `appendedAt` null:
   * not known; `at`: where its bytes were written (null: into the row).
   */
  insert(
    topicId: number,
    partition: number,
    baseOffset: number,
    lastOffset: number,
    batch: Omit<EncodedBatch, 'count'>,
    appendedAt: number | null,
    at: SegmentLocation | null = null,
  ): void {
    const { blob } = batch;
    if (at === null) this.#databaseBytes += blob.byteLength;
    this.#insertBatch.run(
      topicId,
      partition,
      baseOffset,
      lastOffset,
      batch.minTs,
      batch.maxTs,
      blob.byteLength,
      at === null ? blob : NO_BYTES,
      appendedAt,
      at?.segment ?? null,
      at?.position ?? null,
    );
  }

  /** Batch bytes written into the database since the last call (what its WAL grew by, roughly). */
  takeDatabaseBytes(): number {
    const bytes = this.#databaseBytes;
    this.#databaseBytes = 0;
    return bytes;
  }

  #assertNotFenced({ transactionalId, epoch }: TransactionCommit): void {
    const row = this.#epoch.get(transactionalId) as { epoch: number } | undefined;
    if (row?.epoch !== epoch) {
      throw new SluiceError(
        ErrorCode.LOG_PRODUCER_FENCED,
        `producer with transactionalId '${transactionalId}' was fenced by a newer producer with the same id (epoch ${row?.epoch ?? '?'} > ${epoch})`,
        { details: { transactionalId } },
      );
    }
  }
}
