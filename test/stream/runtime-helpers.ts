/** Helpers of the runtime tests: a fresh embedded log per test, topic setup, reading a topic whole. */
import type { TestContext } from 'node:test';
import { openLog } from '../../src/log/index.ts';
import type { Log, LogRecord, ProducerRecord } from '../../src/log/types.ts';
import { pollUntil, tempDir } from '../helpers.ts';

/** An embedded log in a temp directory, closed and removed after the test. */
export async function freshLog(t: TestContext): Promise<Log> {
  const dir = await tempDir('sluice-stream-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  return log;
}

/** Creates topics with the given partition counts. */
export async function createTopics(log: Log, topics: Readonly<Record<string, number>>): Promise<void> {
  for (const [name, partitions] of Object.entries(topics)) await log.admin.createTopic(name, { partitions });
}

/** Produces records and closes the producer. */
export async function produce(log: Log, records: readonly ProducerRecord[]): Promise<void> {
  const producer = log.producer();
  await producer.send(records);
  await producer.close();
}

/** Reads `topic` from the start until `count` records arrived (fails after the deadline). */
export async function readTopic(log: Log, topic: string, count: number, timeoutMs = 20_000): Promise<LogRecord[]> {
  const { config } = await log.admin.describeTopic(topic);
  const consumer = log.consumer();
  try {
    await consumer.assign(Array.from({ length: config.partitions }, (_, partition) => ({ topic, partition })));
    return await pollUntil(consumer, (all) => all.length >= count, timeoutMs);
  } finally {
    await consumer.close();
  }
}
