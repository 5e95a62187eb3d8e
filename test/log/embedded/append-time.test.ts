/**
 * The embedded log keeps when each batch was appended (`LogRecord.appendedAt`): the writer's wall
 * clock right before the commit, whatever event time the producer gave. Databases made before the
 * column existed get it on open; their old records read without one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { DATABASE_FILE } from '../../../src/log/embedded/database.ts';
import { openLog } from '../../../src/log/index.ts';
import type { Log, LogRecord } from '../../../src/log/types.ts';
import { bytes, randomTopic, tempDir } from '../../helpers.ts';
import { readAll } from './read-all.ts';

const wallClock = (): number => performance.timeOrigin + performance.now();

async function sendTimed(log: Log, topic: string, values: string[]): Promise<{ before: number; after: number }> {
  const producer = log.producer({ acks: 'all' });
  const before = wallClock();
  await producer.send(values.map((v) => ({ topic, partition: 0, timestamp: 1_000, value: bytes(v) })));
  const after = wallClock();
  await producer.close();
  return { before, after };
}

async function records(log: Log, topic: string): Promise<LogRecord[]> {
  return [...(await readAll(log, topic)).records.values()].flat();
}

test('every record carries the time its batch was appended, separate from its event time', async (t) => {
  const dir = await tempDir('sluice-append-time-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  t.after(() => dir.remove());
  const topic = randomTopic('append-time');
  await log.admin.createTopic(topic, { partitions: 1 });

  const sends = [];
  for (let i = 0; i < 3; i++) {
    sends.push(await sendTimed(log, topic, [`a${i}`, `b${i}`]));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const read = await records(log, topic);
  assert.equal(read.length, 6);
  for (const [i, r] of read.entries()) {
    const { before, after } = sends[Math.floor(i / 2)]!;
    assert.equal(r.timestamp, 1_000, 'the event time stays what the producer gave');
    assert.ok(r.appendedAt !== undefined && r.appendedAt >= before && r.appendedAt <= after, `record ${i}: appended at ${r.appendedAt}, sent between ${before} and ${after}`);
  }
  assert.equal(read[0]!.appendedAt, read[1]!.appendedAt, 'one batch, one append time');
  assert.ok(read[2]!.appendedAt! > read[1]!.appendedAt! && read[4]!.appendedAt! > read[3]!.appendedAt!, 'later sends, later append times');
});

test('a log made before append times existed gets the column on open; its old records have none', async (t) => {
  const dir = await tempDir('sluice-append-time-old-');
  const topic = randomTopic('append-time-old');
  const first = await openLog({ backend: 'embedded', dir: dir.path });
  await first.admin.createTopic(topic, { partitions: 1 });
  await sendTimed(first, topic, ['old']);
  await first.close();
  // What an earlier version of the log left behind: the same tables without the column.
  const db = new DatabaseSync(join(dir.path, DATABASE_FILE));
  db.exec('ALTER TABLE batches DROP COLUMN appended_at');
  db.close();

  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  t.after(() => dir.remove());
  const { before, after } = await sendTimed(log, topic, ['new']);
  const [old, fresh] = await records(log, topic);
  assert.equal(old!.appendedAt, undefined, 'no append time was kept for the old batch');
  assert.ok(fresh!.appendedAt! >= before && fresh!.appendedAt! <= after, 'the new batch has one');
});
