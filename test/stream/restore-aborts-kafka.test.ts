/**
 * A store restored on Kafka from a changelog whose transactions include aborted ones — one of them
 * an abort that wrote nothing to the changelog partition (what an instance killed mid-transaction
 * leaves) — gets every committed value. Before src/log/kafka/fetch-client.ts the client library's
 * read_committed filter dropped the committed changelog records between the last aborted
 * transaction with records and that marker, and the task restarted those keys from nothing.
 *
 * Needs the test broker (scripts/kafka start); skipped without it, except under CI (CI=true).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { run, topology } from '../../src/stream/index.ts';
import { bytes, pollUntil, randomGroup, text } from '../helpers.ts';
import { writeTransactions } from '../log/kafka/raw-transactions.ts';
import { kafkaBackend, kafkaGate } from './backends.ts';
import { createTopics, produce } from './runtime-helpers.ts';

const gate = await kafkaGate();
const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

test('[kafka] a count store restores every committed changelog value across aborted transactions, one without records', { skip: gate.skip, timeout: 120_000 }, async (t) => {
  gate.check();
  const log = await kafkaBackend.open(t);
  const input = kafkaBackend.unique('in');
  const output = kafkaBackend.unique('out');
  const applicationId = randomGroup('restore-aborts');
  const changelog = `${applicationId}-counts-changelog`;
  await createTopics(log, { [input]: 1, [output]: 1 });
  await log.admin.createTopic(changelog, { partitions: 1, cleanupPolicy: 'compact' });
  // What earlier runs of the application left in the changelog (counts are decimal text).
  await writeTransactions(changelog, 0, [
    { records: [['a', '100']], outcome: 'abort' },
    { records: [['a', '5']], outcome: 'commit' },
    { records: [['b', '100']], outcome: 'abort' },
    { records: [['b', '7'], ['c', '2']], outcome: 'commit' },
    { records: [], outcome: 'abort' },
  ]);
  await produce(log, ['a', 'b', 'c'].map((k) => ({ topic: input, key: bytes(k), value: bytes('1') })));

  const b = topology();
  b.stream(input, codecs).groupByKey().count({ name: 'counts' }).toStream().to(output, codecs);
  const app = await run(b.build(), { log, applicationId, delivery: 'exactly-once', instanceId: 'i0', ...kafkaBackend.fast });
  t.after(() => app.close());

  const reader = log.consumer({ isolationLevel: 'read_committed', autoOffsetReset: 'earliest' });
  t.after(() => reader.close());
  await reader.assign([{ topic: output, partition: 0 }]);
  const counts = await pollUntil(reader, (rs) => rs.length >= 3, 60_000);
  const latest = new Map(counts.map((r) => [text(r.key!), text(r.value)]));
  assert.deepEqual(Object.fromEntries(latest), { a: '6', b: '8', c: '3' }, 'each count continues from its last committed changelog value');
});
