/**
 * An embedded producer encodes a send into batch bytes before it waits (for buffer space, for the
 * writer thread), so a send in flight does not keep the caller's record objects alive: a stream
 * app's outputs would otherwise outlive a young-generation collection or two under load, and be
 * copied and promoted for nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DATABASE_FILE } from '../../../src/log/embedded/database.ts';
import { openLog } from '../../../src/log/index.ts';
import type { Producer, ProducerRecord, RecordMetadata } from '../../../src/log/types.ts';
import { bytes, randomTopic, tempDir } from '../../helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Sends three records made here (this test's own frame never holds them); a weak reference to one value. */
function sendThree(producer: Producer, topic: string): { sent: Promise<RecordMetadata[]>; value: WeakRef<Uint8Array> } {
  const records: ProducerRecord[] = [1, 2, 3].map((i) => ({ topic, key: bytes(`k${i}`), value: bytes(`value ${i}`) }));
  return { sent: producer.send(records), value: new WeakRef(records[1]!.value) };
}

test('a send waiting for the writer does not hold on to the records it was given', async (t) => {
  const dir = await tempDir('sluice-producer-memory-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  t.after(() => dir.remove());
  const topic = randomTopic('producer-memory');
  await log.admin.createTopic(topic, { partitions: 1 });
  const producer = log.producer({ acks: 'all' });
  await producer.send([{ topic, value: bytes('first') }]);

  // Another connection holds the write lock, so the writer thread cannot commit the next send
  // (it waits for the lock as the log's own threads do: the housekeeping thread may be starting).
  const blocker = new DatabaseSync(join(dir.path, DATABASE_FILE), { timeout: 10_000 });
  blocker.exec('BEGIN IMMEDIATE');
  let settled = false;
  const { sent, value } = sendThree(producer, topic);
  void sent.finally(() => (settled = true));
  // A later turn (a WeakRef's target is kept until the turn that made it ends), then a full collection.
  await delay(20);
  gc();
  const collected = value.deref() === undefined;
  const pending = !settled;
  blocker.exec('COMMIT');
  blocker.close();

  assert.ok(pending, 'the send was still waiting for the write lock during the collection');
  assert.ok(collected, "the send kept the caller's record value alive while it waited");
  const metadata = await sent;
  assert.deepEqual(
    metadata.map((m) => m.offset),
    [1, 2, 3],
  );
  await producer.close();
});
