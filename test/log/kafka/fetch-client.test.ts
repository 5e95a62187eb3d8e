/**
 * The Kafka consumer reading read_committed across an ABORT marker of a transaction that wrote
 * nothing to the partition (src/log/kafka/fetch-client.ts): the committed records before that
 * marker must all be read. The client library's own filter used to drop every batch of the
 * producer from its last listed aborted transaction up to that marker — committed ones included —
 * which lost window state and outputs in the exactly-once crash test on Kafka.
 *
 * Needs the test broker (scripts/kafka start); skipped without it, except under CI (CI=true).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TEST_BROKER } from '../../../src/log/config.ts';
import { openLog } from '../../../src/log/index.ts';
import { pollUntil, probeKafka, randomTopic, text } from '../../helpers.ts';
import { writeTransactions } from './raw-transactions.ts';

const probe = await probeKafka();
const skip = probe.available ? false : probe.mustFail ? false : probe.message;

test('read_committed keeps the committed records between an aborted transaction and an ABORT marker without records', { skip, timeout: 60_000 }, async (t) => {
  if (!probe.available) throw new Error(`${probe.message} (CI=true: the Kafka tests must run)`);
  const log = await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] });
  t.after(() => log.close());
  const topic = randomTopic('aborts');
  await log.admin.createTopic(topic, { partitions: 1 });
  t.after(() => log.admin.deleteTopic(topic).catch(() => {}));
  // The client library's filter went wrong when the producer's last ABORT marker in a response was
  // one without records: its range then ran from the last aborted transaction with records to it.
  await writeTransactions(topic, 0, [
    { records: [['k', 'aborted-1']], outcome: 'abort' },
    { records: [['k', 'committed-1'], ['k', 'committed-2']], outcome: 'commit' },
    { records: [['k', 'aborted-2']], outcome: 'abort' },
    { records: [['k', 'committed-3']], outcome: 'commit' },
    { records: [], outcome: 'abort' },
    { records: [['k', 'committed-4']], outcome: 'commit' },
  ]);
  // 6 records and 6 markers: the abort that wrote nothing left its marker in the partition.
  assert.equal((await log.admin.describeTopic(topic)).partitions[0]!.endOffset, 12, 'the layout the test needs is on the broker');

  // Everything is in the log before the read, so the first fetch sees every marker at once.
  const consumer = log.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  t.after(() => consumer.close());
  await consumer.assign([{ topic, partition: 0 }]);
  const read = await pollUntil(consumer, (rs) => rs.some((r) => text(r.value) === 'committed-4'), 30_000);
  assert.deepEqual(read.map((r) => text(r.value)), ['committed-1', 'committed-2', 'committed-3', 'committed-4']);
  assert.equal(await consumer.position({ topic, partition: 0 }), 12);

  // read_uncommitted sees every record written, aborted ones included.
  const all = log.consumer({ isolationLevel: 'read_uncommitted', autoOffsetReset: 'earliest' });
  t.after(() => all.close());
  await all.assign([{ topic, partition: 0 }]);
  const everything = await pollUntil(all, (rs) => rs.length >= 6, 30_000);
  assert.deepEqual(everything.map((r) => text(r.value)), ['aborted-1', 'committed-1', 'committed-2', 'aborted-2', 'committed-3', 'committed-4']);
});
