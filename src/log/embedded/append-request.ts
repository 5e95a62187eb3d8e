/**
 * Appends as they travel from a producer to the writer thread: records already encoded into batch
 * blobs (on the caller's thread), plus, for a transaction commit, the producer's fencing epoch and
 * the group offsets to commit in the same SQLite transaction. A consumer's offset commit travels the
 * same way (no appends), so that it never waits for the write lock on the caller's thread.
 */
import type { ProducerRecord, TopicPartitionOffset } from '../types.ts';
import { encodeBatch } from './batch.ts';
import type { TopicRow } from './topics.ts';

/**
 * Validated records for one partition of one topic: the caller's own record objects (not copied),
 * with the timestamp given to those that have none.
 */
export interface PartitionAppend {
  readonly topic: TopicRow;
  readonly partition: number;
  readonly records: readonly ProducerRecord[];
  readonly defaultTimestamp: number;
}

/** Largest number of records stored in one batch row; bigger appends are split. */
export const MAX_BATCH_RECORDS = 4096;

/** One encoded batch row. */
export interface EncodedBatch {
  readonly count: number;
  readonly minTs: number;
  readonly maxTs: number;
  readonly blob: Uint8Array;
}

/** Encoded records for one partition. */
export interface EncodedAppend {
  readonly topicId: number;
  readonly topic: string;
  readonly partition: number;
  readonly batches: readonly EncodedBatch[];
}

/** Group offsets to commit (with a transaction, or alone), with the member's fence (null: no group check). */
export interface TransactionOffsetCommit {
  readonly groupId: string;
  readonly offsets: readonly TopicPartitionOffset[];
  readonly fence: { readonly memberId: string; readonly generation: number } | null;
}

/** What makes an append a transaction commit. */
export interface TransactionCommit {
  readonly transactionalId: string;
  readonly epoch: number;
  readonly offsets: readonly TransactionOffsetCommit[];
}

/** A request to the writer thread. */
export interface AppendRequest {
  readonly id: number;
  /** Fsync before acknowledging (acks 'all'). */
  readonly durable: boolean;
  readonly appends: readonly EncodedAppend[];
  readonly transaction: TransactionCommit | null;
  /** A consumer's offset commits (outside any transaction). */
  readonly commits?: readonly TransactionOffsetCommit[];
}

/** The writer thread's answer: each append's base offset, or the error that undid the request. */
export type AppendReply =
  | { readonly id: number; readonly bases: number[] }
  | {
      readonly id: number;
      readonly error: { readonly code: string; readonly message: string; readonly retriable: boolean; readonly details: Record<string, unknown> };
    };

/** Encodes each partition's records into batch blobs of at most MAX_BATCH_RECORDS records. */
export function encodeAppends(appends: readonly PartitionAppend[]): EncodedAppend[] {
  return appends.map(({ topic, partition, records, defaultTimestamp }) => {
    const batches: EncodedBatch[] = [];
    for (let start = 0; start < records.length; start += MAX_BATCH_RECORDS) {
      const end = Math.min(records.length, start + MAX_BATCH_RECORDS);
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (let i = start; i < end; i++) {
        const ts = records[i]!.timestamp ?? defaultTimestamp;
        if (ts < minTs) minTs = ts;
        if (ts > maxTs) maxTs = ts;
      }
      batches.push({ count: end - start, minTs, maxTs, blob: encodeBatch(records, { from: start, to: end, defaultTimestamp }) });
    }
    return { topicId: topic.id, topic: topic.name, partition, batches };
  });
}

/** The buffers to transfer (not copy) to the writer thread. */
export function transferList(appends: readonly EncodedAppend[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const a of appends) for (const b of a.batches) list.push(b.blob.buffer as ArrayBuffer);
  return list;
}
