/**
 * Writes transactions to one partition of the Kafka test broker with the raw client
 * (@platformatic/kafka), one producer and one transactional id for all of them, so that tests can
 * lay out a partition our API cannot: a transaction that added the partition and wrote nothing to
 * it before it was aborted leaves an ABORT marker there and no aborted-transaction entry (an
 * instance killed between adding a partition to its transaction and writing to it does that).
 */
import { Producer, ProduceAcks } from '@platformatic/kafka';
import { DEFAULT_TEST_BROKER } from '../../../src/log/config.ts';
import { randomTransactionalId } from '../../helpers.ts';

/** One transaction: its records (key, value) and how it ends; no records: add the partition only. */
export interface RawTransaction {
  readonly records: readonly (readonly [key: string, value: string])[];
  readonly outcome: 'commit' | 'abort';
}

/** Runs `transactions` in order on `topic`/`partition`; the log then holds their records and one marker each. */
export async function writeTransactions(topic: string, partition: number, transactions: readonly RawTransaction[]): Promise<void> {
  const producer = new Producer({
    clientId: 'sluice-test-raw',
    bootstrapBrokers: [DEFAULT_TEST_BROKER],
    idempotent: true,
    acks: ProduceAcks.ALL,
    transactionalId: randomTransactionalId('raw'),
    producerId: -1n,
    producerEpoch: -1,
    autocreateTopics: false,
  });
  try {
    for (const { records, outcome } of transactions) {
      const tx = await producer.beginTransaction();
      if (records.length === 0) {
        await tx.addPartitions(await producer.metadata({ topics: [topic] }), [{ topic, partition, value: Buffer.alloc(0) }]);
      } else {
        await tx.send({ messages: records.map(([key, value]) => ({ topic, partition, key: Buffer.from(key), value: Buffer.from(value) })) });
      }
      await (outcome === 'commit' ? tx.commit() : tx.abort());
    }
  } finally {
    await producer.close(true);
  }
}
