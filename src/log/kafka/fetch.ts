/**
 * Decoding of Fetch responses into Sluice records. Transactions are filtered as Kafka's Java
 * consumer does (KIP-98): a transactional batch is skipped while its producer has an aborted
 * transaction that began at or before it and whose ABORT marker has not been passed yet; control
 * batches (commit/abort markers) are never returned but do advance the position. The aborted
 * transactions come from fetch-client.ts, which keeps them from the client library's own filter.
 */
import type { Consumer as KafkaClientConsumer, RecordsBatch } from '@platformatic/kafka';
import { abortedTransactionsOf } from './fetch-client.ts';

/** The client's Fetch response and one partition of it. */
export type FetchResponse = Awaited<ReturnType<KafkaClientConsumer['fetch']>>;
type FetchResponsePartition = FetchResponse['responses'][number]['partitions'][number];
import type { LogRecord } from '../types.ts';

const IS_TRANSACTIONAL = 1 << 4;
const IS_CONTROL = 1 << 5;
const LOG_APPEND_TIME = 1 << 3;

/** Records of one partition from one fetch, and the offset to fetch next. */
export interface DecodedPartition {
  readonly records: LogRecord[];
  /** One past the last offset covered by the returned batches (including control batches). */
  readonly nextOffset: number | null;
}

const NO_HEADERS: Readonly<Record<string, Uint8Array>> = Object.freeze({});
const EMPTY = new Uint8Array(0);

/** Decodes the batches of one partition, keeping records at or after `fromOffset`. */
export function decodePartition(topic: string, p: FetchResponsePartition, fromOffset: number, readCommitted: boolean): DecodedPartition {
  const batches: RecordsBatch[] = p.records ?? [];
  const aborted = readCommitted ? [...abortedTransactionsOf(p)].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : 1)) : [];
  const abortedProducers = new Set<bigint>();
  const records: LogRecord[] = [];
  let nextOffset: number | null = null;
  for (const batch of batches) {
    while (aborted.length > 0 && aborted[0]!.firstOffset <= batch.firstOffset) abortedProducers.add(aborted.shift()!.producerId);
    const last = Number(batch.firstOffset) + batch.lastOffsetDelta;
    nextOffset = Math.max(nextOffset ?? 0, last + 1);
    if (batch.attributes & IS_CONTROL) {
      // Control record key: version (int16) then type (int16): 0 = ABORT, 1 = COMMIT.
      const type = batch.records[0]?.key?.readInt16BE(2);
      if (type === 0) abortedProducers.delete(batch.producerId);
      continue;
    }
    if (readCommitted && batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) continue;
    const appendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
    const firstOffset = Number(batch.firstOffset);
    const firstTimestamp = Number(batch.firstTimestamp);
    const maxTimestamp = Number(batch.maxTimestamp);
    for (const r of batch.records) {
      const offset = firstOffset + r.offsetDelta;
      if (offset < fromOffset) continue;
      // Keys, values and header values are the client's Buffers (views of the response): no copies.
      let headers = NO_HEADERS;
      if (r.headers.length > 0) {
        const h: Record<string, Uint8Array> = {};
        for (const [k, v] of r.headers) if (k !== null) h[k.toString('utf8')] = v ?? EMPTY;
        headers = h;
      }
      records.push({
        topic,
        partition: p.partitionIndex,
        offset,
        timestamp: appendTime ? maxTimestamp : firstTimestamp + Number(r.timestampDelta),
        key: r.key,
        value: r.value ?? EMPTY,
        headers,
      });
    }
  }
  return { records, nextOffset };
}
