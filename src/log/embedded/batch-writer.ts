/**
 * Writes encoded batches into the database: batch rows plus the partitions' new end offsets, for a
 * transaction commit the fencing check and the group offsets, and consumers' offset commits. The caller owns the SQLite
 * transaction, so everything `apply` does commits or rolls back together.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ErrorCode, SluiceError } from '../../errors.ts';
import type { AppendRequest, EncodedBatch, TransactionCommit } from './append-request.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { unknownTopic } from './topics.ts';

/** Applies append requests inside the caller's transaction. */
export class BatchWriter {
  readonly #groups: GroupCoordinator;
  readonly #endOffset: StatementSync;
  readonly #insertBatch: StatementSync;
  readonly #advance: StatementSync;
  readonly #epoch: StatementSync;

  constructor(db: DatabaseSync, clock: () => number) {
    this.#groups = new GroupCoordinator(db, clock);
    this.#endOffset = db.prepare('SELECT end_offset FROM partitions WHERE topic_id = ? AND partition = ?');
    this.#insertBatch = db.prepare(
      'INSERT INTO batches (topic_id, partition, base_offset, last_offset, min_ts, max_ts, bytes, data, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
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
      const row = this.#endOffset.get(a.topicId, a.partition) as { end_offset: number } | undefined;
      if (row === undefined) throw unknownTopic(a.topic);
      let offset = row.end_offset;
      let bytes = 0;
      for (const b of a.batches) {
        this.insert(a.topicId, a.partition, offset, offset + b.count - 1, b, appendedAt);
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

  /** Inserts one batch row as is (compaction uses it to keep original offsets); `appendedAt` null: not known. */
  insert(topicId: number, partition: number, baseOffset: number, lastOffset: number, batch: Omit<EncodedBatch, 'count'>, appendedAt: number | null): void {
    this.#insertBatch.run(topicId, partition, baseOffset, lastOffset, batch.minTs, batch.maxTs, batch.blob.byteLength, batch.blob, appendedAt);
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
