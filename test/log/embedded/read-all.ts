/** Reads every stored record of a topic, for the embedded backend's end-of-test checks. */
import assert from 'node:assert/strict';
import type { Log, LogRecord, PartitionInfo } from '../../../src/log/types.ts';

/** What {@link readAll} returns: the partitions' bounds and each partition's records in order. */
export interface TopicContents {
  readonly partitions: readonly PartitionInfo[];
  readonly records: ReadonlyMap<number, readonly LogRecord[]>;
}

/**
 * Reads every partition of `topic` from its start offset to its end offset (as described when the
 * read starts), with a deadline.
 */
export async function readAll(log: Log, topic: string, timeoutMs = 30_000): Promise<TopicContents> {
  const { partitions } = await log.admin.describeTopic(topic);
  const consumer = log.consumer({ isolationLevel: 'read_committed' });
  try {
    await consumer.assign(partitions.map((p) => ({ topic, partition: p.partition })));
    const records = new Map<number, LogRecord[]>(partitions.map((p) => [p.partition, []]));
    const remaining = new Set(partitions.filter((p) => p.endOffset > p.startOffset).map((p) => p.partition));
    const end = new Map(partitions.map((p) => [p.partition, p.endOffset]));
    for (const p of partitions) await consumer.seek({ topic, partition: p.partition }, { offset: p.startOffset });
    const deadline = Date.now() + timeoutMs;
    while (remaining.size > 0) {
      assert.ok(Date.now() < deadline, `readAll(${topic}): partitions ${[...remaining].join(', ')} not read to their end within ${timeoutMs} ms`);
      for (const r of await consumer.poll({ timeoutMs: 200 })) {
        if (r.offset >= end.get(r.partition)!) continue;
        records.get(r.partition)!.push(r);
        if (r.offset === end.get(r.partition)! - 1) remaining.delete(r.partition);
      }
      for (const p of remaining) {
        if ((await consumer.position({ topic, partition: p })) >= end.get(p)!) remaining.delete(p);
      }
    }
    return { partitions, records };
  } finally {
    await consumer.close();
  }
}
