/**
 * Crash safety of the embedded backend: a child process writes to the log and is SIGKILLed at
 * random points, many times, restarting on the same directory. Afterwards every acknowledged
 * record is there exactly once and intact, no batch is partly visible, offsets are contiguous, and
 * the log still takes writes. The transactional variant checks that a transaction's records on two
 * topics and its group offsets are all there or none are.
 *
 * Fixtures: test/fixtures/embedded/crash-producer.ts and crash-tx.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { openLog } from '../../../src/log/index.ts';
import type { Log, LogRecord } from '../../../src/log/types.ts';
import { Flag, type CheckedValue, decodeValue, encodeValue, headersOf, keyOf } from '../../fixtures/embedded/records.ts';
import { randomGroup, randomTopic, randomTransactionalId, tempDir, text } from '../../helpers.ts';
import { type Child, randomInt, spawnFixture } from './child.ts';
import { readAll } from './read-all.ts';

const ROUNDS = 25;
const TX_ROUNDS = 15;

async function openIn(path: string): Promise<Log> {
  return openLog({ backend: 'embedded', dir: path });
}

/**
 * Lets the child run for a random while and SIGKILLs it: every third round while it may still be
 * starting up (opening the database, reading where the last run stopped), otherwise after it
 * printed its first acknowledgement (so that every round makes progress).
 */
async function killAtRandom(child: Child, round: number, ackPrefix: string): Promise<void> {
  if (round % 3 === 0) {
    await delay(randomInt(0, 400));
  } else {
    await child.waitForLine((l) => l.startsWith(ackPrefix), { what: `a '${ackPrefix}' line` });
    await delay(randomInt(0, 300));
  }
  const exit = await child.kill('SIGKILL');
  assert.equal(exit.signal, 'SIGKILL', `the child died on its own (exit code ${exit.code}) in round ${round}:\n${child.stderr()}`);
}

/** Checks a record's value, key and headers against each other; returns what the value says. */
function checkRecord(r: LogRecord): CheckedValue {
  const where = `${r.topic}/${r.partition}@${r.offset}`;
  let v: CheckedValue;
  try {
    v = decodeValue(r.value);
  } catch (error) {
    assert.fail(`${where}: ${(error as Error).message}`);
  }
  assert.equal(text(r.key), v.flags & Flag.key ? keyOf(v.seq) : null, `${where}: key`);
  const expected = v.flags & Flag.headers ? headersOf(v) : {};
  assert.deepEqual(
    Object.fromEntries(Object.entries(r.headers).map(([k, b]) => [k, text(b)])),
    Object.fromEntries(Object.entries(expected).map(([k, b]) => [k, text(b)])),
    `${where}: headers`,
  );
  return v;
}

/** Asserts that a partition's records have the offsets startOffset..endOffset−1, with no gap. */
function assertContiguous(topic: string, partition: number, records: readonly LogRecord[], startOffset: number, endOffset: number): void {
  assert.equal(startOffset, 0, `${topic}/${partition}: start offset`);
  assert.equal(records.length, endOffset - startOffset, `${topic}/${partition}: record count vs offsets`);
  records.forEach((r, i) => assert.equal(r.offset, startOffset + i, `${topic}/${partition}: offsets must be contiguous`));
}

test('acknowledged sends survive SIGKILL at random points: exactly once, intact, whole batches, contiguous offsets', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir('sluice-crash-');
  t.after(() => dir.remove());
  const topic = randomTopic('crash');
  const setup = await openIn(dir.path);
  await setup.admin.createTopic(topic, { partitions: 4 });
  await setup.close();

  /** batch → [first seq, last seq] of every acknowledged send. */
  const acked = new Map<number, readonly [number, number]>();
  let lastAckedSeq = -1;
  let lastAckedBatch = -1;
  for (let round = 0; round < ROUNDS; round++) {
    const child = spawnFixture('crash-producer.ts', [dir.path, topic]);
    t.after(() => child.kill());
    await killAtRandom(child, round, 'ack ');
    for (const line of child.lines) {
      const [kind, a, b, c] = line.split(' ');
      if (kind === 'ready') {
        // The restarted child found every acknowledged record (it continues after them).
        assert.ok(Number(a) > lastAckedBatch, `round ${round}: restarted at batch ${a}, but batch ${lastAckedBatch} was acknowledged`);
        assert.ok(Number(b) > lastAckedSeq, `round ${round}: restarted at seq ${b}, but seq ${lastAckedSeq} was acknowledged`);
      } else if (kind === 'ack') {
        const batch = Number(a);
        acked.set(batch, [Number(b), Number(c)]);
        lastAckedBatch = batch;
        lastAckedSeq = Number(c);
      } else {
        assert.fail(`unexpected line from the child: ${line}`);
      }
    }
  }
  // Two rounds in three wait for an acknowledgement before the kill.
  assert.ok(acked.size >= Math.ceil((ROUNDS * 2) / 3), `too few acknowledged sends to mean anything (${acked.size})`);

  const log = await openIn(dir.path);
  t.after(() => log.close());
  const { partitions, records } = await readAll(log, topic);
  const seqs = new Map<number, string>();
  /** batch → its size and the indices and seqs seen. */
  const batches = new Map<number, { size: number; first: number; indices: Set<number> }>();
  for (const p of partitions) {
    const list = records.get(p.partition)!;
    assertContiguous(topic, p.partition, list, p.startOffset, p.endOffset);
    for (const r of list) {
      const v = checkRecord(r);
      const where = `${topic}/${r.partition}@${r.offset}`;
      assert.equal(seqs.get(v.seq), undefined, `seq ${v.seq} stored twice: at ${seqs.get(v.seq)} and ${where}`);
      seqs.set(v.seq, where);
      let b = batches.get(v.batch);
      if (b === undefined) batches.set(v.batch, (b = { size: v.batchSize, first: v.seq - v.index, indices: new Set() }));
      assert.equal(v.batchSize, b.size, `${where}: batch ${v.batch} size disagrees between records`);
      assert.equal(v.seq - v.index, b.first, `${where}: batch ${v.batch} seq/index disagree`);
      b.indices.add(v.index);
    }
  }
  // No partial batch: each batch that is visible at all is visible whole.
  for (const [batch, b] of batches) {
    assert.equal(b.indices.size, b.size, `batch ${batch} is partly visible: ${b.indices.size} of ${b.size} records`);
  }
  // Every acknowledged record is there (exactly once: seqs are unique above).
  for (const [batch, [first, last]] of acked) {
    assert.ok(batches.has(batch), `acknowledged batch ${batch} (seq ${first}..${last}) is missing`);
    for (let s = first; s <= last; s++) assert.ok(seqs.has(s), `acknowledged seq ${s} (batch ${batch}) is missing`);
  }
  // Batches are the unacknowledged tail at most: every batch number up to the last one is there.
  const maxBatch = Math.max(...batches.keys());
  for (let b = 0; b <= maxBatch; b++) assert.ok(batches.has(b), `batch ${b} is missing while batch ${maxBatch} is stored`);

  // The log still takes writes, after the last stored offsets.
  const producer = log.producer({ acks: 'all' });
  const seq = Math.max(...seqs.keys()) + 1;
  const value = encodeValue({ seq, batch: maxBatch + 1, batchSize: 1, index: 0, flags: 0 }, 100);
  const [meta] = await producer.send([{ topic, partition: 2, value }]);
  const endBefore = partitions.find((p) => p.partition === 2)!.endOffset;
  assert.deepEqual(meta, { topic, partition: 2, offset: endBefore });
  const after = await readAll(log, topic);
  const last = after.records.get(2)!.at(-1)!;
  assert.equal(last.offset, endBefore);
  assert.equal(checkRecord(last).seq, seq);
});

test('transactions survive SIGKILL at random points: all of a committed one on both topics with its offsets, nothing of others', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir('sluice-crash-tx-');
  t.after(() => dir.remove());
  const topicA = randomTopic('tx-a');
  const topicB = randomTopic('tx-b');
  const input = randomTopic('tx-in');
  const groupId = randomGroup();
  const transactionalId = randomTransactionalId();
  const setup = await openIn(dir.path);
  await setup.admin.createTopic(topicA, { partitions: 3 });
  await setup.admin.createTopic(topicB, { partitions: 2 });
  await setup.admin.createTopic(input, { partitions: 1 });
  await setup.close();

  const committed = new Set<number>();
  let lastCommitted = -1;
  for (let round = 0; round < TX_ROUNDS; round++) {
    const child = spawnFixture('crash-tx.ts', [dir.path, topicA, topicB, input, groupId, transactionalId]);
    t.after(() => child.kill());
    await killAtRandom(child, round, 'commit ');
    for (const line of child.lines) {
      const [kind, n] = line.split(' ');
      if (kind === 'ready') {
        // The group offset, committed with the transactions, says where the last one ended.
        assert.ok(Number(n) > lastCommitted, `round ${round}: restarted at transaction ${n}, but ${lastCommitted} was committed`);
      } else if (kind === 'commit') {
        committed.add(Number(n));
        lastCommitted = Number(n);
      } else {
        assert.equal(kind, 'abort', `unexpected line from the child: ${line}`);
      }
    }
  }
  assert.ok(committed.size >= Math.ceil((TX_ROUNDS * 2) / 3), `too few committed transactions to mean anything (${committed.size})`);

  const log = await openIn(dir.path);
  t.after(() => log.close());
  /** Per topic: transaction → its size and the indices seen. */
  const perTopic: Array<Map<number, { size: number; indices: Set<number> }>> = [];
  for (const topic of [topicA, topicB]) {
    const txns = new Map<number, { size: number; indices: Set<number> }>();
    const { partitions, records } = await readAll(log, topic);
    for (const p of partitions) {
      const list = records.get(p.partition)!;
      assertContiguous(topic, p.partition, list, p.startOffset, p.endOffset);
      for (const r of list) {
        const v = checkRecord(r);
        const where = `${topic}/${r.partition}@${r.offset}`;
        assert.equal(v.flags & Flag.aborted, 0, `${where}: a record of aborted transaction ${v.batch} is visible`);
        let tx = txns.get(v.batch);
        if (tx === undefined) txns.set(v.batch, (tx = { size: v.batchSize, indices: new Set() }));
        assert.equal(v.batchSize, tx.size, `${where}: transaction ${v.batch} size disagrees between records`);
        assert.ok(!tx.indices.has(v.index), `${where}: record ${v.index} of transaction ${v.batch} stored twice`);
        tx.indices.add(v.index);
      }
    }
    for (const [n, tx] of txns) {
      assert.equal(tx.indices.size, tx.size, `transaction ${n} is partly visible on ${topic}: ${tx.indices.size} of ${tx.size} records`);
    }
    perTopic.push(txns);
  }
  const [txA, txB] = perTopic as [Map<number, unknown>, Map<number, unknown>];
  const stored = [...txA.keys()].sort((a, b) => a - b);
  assert.deepEqual(stored, [...txB.keys()].sort((a, b) => a - b), 'both topics must hold the same transactions');
  // Transactions are numbered by the committed group offset, so the stored ones are 0..n−1 …
  stored.forEach((n, i) => assert.equal(n, i, `transaction ${i} is missing`));
  for (const n of committed) assert.ok(txA.has(n), `committed transaction ${n} is missing`);
  // … and the group's offset, committed inside each transaction, is exactly n.
  const consumer = log.consumer({ groupId });
  const [offset] = await consumer.committed([{ topic: input, partition: 0 }]);
  assert.equal(offset?.offset ?? 0, stored.length, 'group offset committed with the last transaction');
  await consumer.close();

  // The transactional id still works after all the crashes.
  const producer = log.producer({ transactionalId });
  const tx = await producer.beginTransaction();
  await tx.send([{ topic: topicA, value: encodeValue({ seq: stored.length, batch: stored.length, batchSize: 1, index: 0, flags: 0 }, 10) }]);
  await tx.sendOffsets({ groupId, offsets: [{ topic: input, partition: 0, offset: stored.length + 1 }] });
  await tx.commit();
  const check = log.consumer({ groupId });
  assert.deepEqual(await check.committed([{ topic: input, partition: 0 }]), [{ topic: input, partition: 0, offset: stored.length + 1 }]);
  await check.close();
});
