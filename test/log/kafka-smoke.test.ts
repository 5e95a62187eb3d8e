/**
 * Smoke test of the Kafka backend against the real broker of scripts/kafka (127.0.0.1:19092).
 * Skipped with a message when no broker answers, except in CI, where it fails.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { test } from 'node:test';
import { isSluiceError } from '../../src/errors.ts';
import { DEFAULT_TEST_BROKER, openLog, partitionForKey } from '../../src/log/index.ts';

const [host = '127.0.0.1', port = '19092'] = DEFAULT_TEST_BROKER.split(':');

function reachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const up = await reachable();
const skip = up ? false : `no Kafka broker on ${DEFAULT_TEST_BROKER}; start one with scripts/kafka start`;
if (!up && process.env.CI === 'true') {
  test('Kafka broker is running in CI', () => assert.fail(`no Kafka broker on ${DEFAULT_TEST_BROKER} (CI must start it with scripts/kafka start)`));
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

test('kafka backend: create, produce by key, consume, commit, describe, delete', { skip, timeout: 60_000 }, async (t) => {
  const log = await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] });
  t.after(() => log.close());
  const topic = `smoke-${randomUUID()}`;
  await log.admin.createTopic(topic, { partitions: 3, retentionMs: 3_600_000 });
  t.after(() => log.admin.deleteTopic(topic).catch(() => {}));
  assert.ok((await log.admin.listTopics()).includes(topic));

  const producer = log.producer();
  const sent = await producer.send([
    { topic, key: bytes('device-1'), value: bytes('a') },
    { topic, key: bytes('device-1'), value: bytes('b'), headers: { h: bytes('x') } },
    { topic, key: bytes('device-2'), value: bytes('c') },
  ]);
  assert.equal(sent[0]!.partition, partitionForKey(bytes('device-1'), 3));
  assert.equal(sent[1]!.offset, sent[0]!.offset + 1);

  await assert.rejects(producer.send([{ topic: `missing-${randomUUID()}`, value: bytes('x') }]), (e) => isSluiceError(e, 'SLUICE_LOG_UNKNOWN_TOPIC'));
  await assert.rejects(producer.send([{ topic, value: bytes('x'), partition: 7 }]), (e) => isSluiceError(e, 'SLUICE_LOG_INVALID_PARTITION'));

  const consumer = log.consumer({ groupId: `g-${randomUUID()}` });
  await consumer.assign([0, 1, 2].map((partition) => ({ topic, partition })));
  const got: string[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < 3 && Date.now() < deadline) {
    for (const r of await consumer.poll({ timeoutMs: 500 })) got.push(text(r.value));
  }
  assert.deepEqual(got.sort(), ['a', 'b', 'c']);
  await consumer.commit();
  const p = sent[0]!.partition;
  const end = Math.max(...sent.filter((m) => m.partition === p).map((m) => m.offset)) + 1;
  assert.deepEqual(await consumer.committed([{ topic, partition: p }]), [{ topic, partition: p, offset: end }]);

  const described = await log.admin.describeTopic(topic);
  assert.equal(described.config.partitions, 3);
  assert.equal(described.config.retentionMs, 3_600_000);
  assert.equal(described.config.retentionBytes, null);
  assert.equal(described.partitions.reduce((n, x) => n + x.endOffset - x.startOffset, 0), 3);

  await producer.close();
  await assert.rejects(producer.send([{ topic, value: bytes('x') }]), (e) => isSluiceError(e, 'SLUICE_LOG_CLOSED'));
});

test('kafka backend: transactions are atomic for read_committed consumers', { skip, timeout: 60_000 }, async (t) => {
  const log = await openLog({ backend: 'kafka', brokers: [DEFAULT_TEST_BROKER] });
  t.after(() => log.close());
  const topic = `smoke-tx-${randomUUID()}`;
  await log.admin.createTopic(topic);
  t.after(() => log.admin.deleteTopic(topic).catch(() => {}));
  const producer = log.producer({ transactionalId: `tx-${randomUUID()}` });
  const aborted = await producer.beginTransaction();
  await aborted.send([{ topic, value: bytes('aborted') }]);
  await aborted.abort();
  const tx = await producer.beginTransaction();
  await tx.send([{ topic, value: bytes('committed') }]);
  await tx.commit();
  await assert.rejects(tx.commit(), (e) => isSluiceError(e, 'SLUICE_LOG_TRANSACTION_STATE'));

  const consumer = log.consumer();
  await consumer.assign([{ topic, partition: 0 }]);
  const got: string[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < 1 && Date.now() < deadline) {
    for (const r of await consumer.poll({ timeoutMs: 500 })) got.push(text(r.value));
  }
  assert.deepEqual(got, ['committed']);
  assert.equal(await consumer.position({ topic, partition: 0 }), 4); // 2 records + 2 markers
});
