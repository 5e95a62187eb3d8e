/**
 * Segment files of the embedded log: the batches of `delete`-policy topics are kept in
 * `segments/<id>.seg` (compacted topics keep theirs in the database); a partition starts a new
 * segment at `segmentBytes`; deleting a topic removes its files, and so does a housekeeping pass for
 * files no row names; after a power loss (simulated: a batch's bytes that never reached the file),
 * the next writer cuts the partition back before the damaged batch.
 */
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test, type TestContext } from 'node:test';
import { ErrorCode } from '../../../src/errors.ts';
import { DATABASE_FILE } from '../../../src/log/embedded/database.ts';
import { SEGMENTS_DIR, segmentPath } from '../../../src/log/embedded/segments.ts';
import { openLog } from '../../../src/log/index.ts';
import type { Log } from '../../../src/log/types.ts';
import { bytes, eventually, expectCode, randomTopic, tempDir, text } from '../../helpers.ts';
import { readAll } from './read-all.ts';

interface BatchRow {
  base_offset: number;
  segment: number | null;
  position: number | null;
  bytes: number;
  data: Uint8Array;
}

function segmentFiles(dir: string): string[] {
  return readdirSync(join(dir, SEGMENTS_DIR)).sort();
}

/** Opens a second connection to the log's database (waiting for the log's own threads' locks). */
function database(t: { after(fn: () => unknown): void }, dir: string): DatabaseSync {
  const db = new DatabaseSync(join(dir, DATABASE_FILE), { timeout: 10_000 });
  t.after(() => db.close());
  return db;
}

async function openIn(t: { after(fn: () => unknown): void }, dir: string, segmentBytes?: number): Promise<Log> {
  const log = await openLog(segmentBytes === undefined ? { backend: 'embedded', dir } : { backend: 'embedded', dir, segmentBytes });
  t.after(() => log.close());
  return log;
}

/** A fresh log directory (removed after the test) with one 1-partition topic named after `name`. */
async function logWithTopic(t: TestContext, name: string): Promise<{ dir: string; log: Log; topic: string }> {
  const dir = await tempDir(`sluice-segments-${name}-`);
  t.after(() => dir.remove());
  const log = await openIn(t, dir.path);
  const topic = randomTopic(name);
  await log.admin.createTopic(topic, { partitions: 1 });
  return { dir: dir.path, log, topic };
}

/** `count` sends of one 1 kB record each to partition 0 of `topic`; returns their offsets. */
async function sendEach(log: Log, topic: string, count: number, tag: string): Promise<number[]> {
  const producer = log.producer();
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const [m] = await producer.send([{ topic, partition: 0, key: bytes(`k${i % 3}`), value: bytes(`${tag}-${i}-${'x'.repeat(1_000)}`) }]);
    offsets.push(m!.offset);
  }
  await producer.close();
  return offsets;
}

test('delete-policy topics keep their batches in segment files that roll at segmentBytes; compacted topics keep theirs in the database', async (t) => {
  const dir = await tempDir('sluice-segments-');
  t.after(() => dir.remove());
  const log = await openIn(t, dir.path, 4_096);
  const plain = randomTopic('seg');
  const compacted = randomTopic('seg-compact');
  await log.admin.createTopic(plain, { partitions: 1 });
  await log.admin.createTopic(compacted, { partitions: 1, cleanupPolicy: 'compact' });
  assert.deepEqual(await sendEach(log, plain, 12, 'p'), Array.from({ length: 12 }, (_, i) => i));
  await sendEach(log, compacted, 3, 'c');

  const db = database(t, dir.path);
  const rows = db.prepare('SELECT b.base_offset, b.segment, b.position, b.bytes, b.data FROM batches b JOIN topics t ON t.id = b.topic_id WHERE t.name = ? ORDER BY b.last_offset');
  const stored = rows.all(plain) as unknown as BatchRow[];
  assert.ok(stored.every((b) => b.segment !== null && b.data.byteLength === 0), 'every batch of the delete topic is in a segment');
  // ~1 kB batches in 4 KiB segments: three or four per segment, so at least three segments.
  const segments = [...new Set(stored.map((b) => b.segment))];
  assert.ok(segments.length >= 3, `${segments.length} segments`);
  for (const id of segments) assert.ok(existsSync(segmentPath(dir.path, id!)));
  assert.ok((rows.all(compacted) as unknown as BatchRow[]).every((b) => b.segment === null && b.data.byteLength === b.bytes));

  // Reads run across the segments, in order, from any offset.
  const { records } = await readAll(log, plain);
  assert.deepEqual(
    records.get(0)!.map((r) => text(r.value).split('-').slice(0, 2).join('-')),
    Array.from({ length: 12 }, (_, i) => `p-${i}`),
  );
  const consumer = log.consumer();
  t.after(() => consumer.close());
  await consumer.assign([{ topic: plain, partition: 0 }]);
  await consumer.seek({ topic: plain, partition: 0 }, { offset: 7 });
  assert.deepEqual(
    (await consumer.poll({ maxRecords: 3, timeoutMs: 1_000 })).map((r) => r.offset),
    [7, 8, 9],
  );
});

test('deleting a topic removes its segment files; a housekeeping pass removes files that no segment row names', async (t) => {
  const dir = await tempDir('sluice-segments-gone-');
  t.after(() => dir.remove());
  const log = await openIn(t, dir.path, 4_096);
  const doomed = randomTopic('doomed');
  const kept = randomTopic('kept');
  await log.admin.createTopic(doomed, { partitions: 1 });
  await log.admin.createTopic(kept, { partitions: 1 });
  await sendEach(log, doomed, 6, 'd');
  await sendEach(log, kept, 2, 'k');
  const db = database(t, dir.path);
  const ofTopic = db.prepare('SELECT s.id FROM segments s JOIN topics t ON t.id = s.topic_id WHERE t.name = ?');
  const doomedFiles = (ofTopic.all(doomed) as Array<{ id: number }>).map((s) => `${s.id}.seg`);
  const keptFiles = (ofTopic.all(kept) as Array<{ id: number }>).map((s) => `${s.id}.seg`);
  assert.ok(doomedFiles.length >= 2);
  assert.deepEqual(segmentFiles(dir.path), [...doomedFiles, ...keptFiles].sort());

  await log.admin.deleteTopic(doomed);
  assert.deepEqual(segmentFiles(dir.path), keptFiles.sort());

  // A process that stopped between dropping segment rows and removing their files leaves them
  // behind: the next process that writes removes them at its first housekeeping pass.
  await log.close();
  const stray = doomedFiles[0]!;
  writeFileSync(join(dir.path, SEGMENTS_DIR, stray), 'left behind');
  const again = await openIn(t, dir.path);
  await sendEach(again, kept, 1, 'k2');
  await eventually(() => assert.deepEqual(segmentFiles(dir.path), keptFiles.sort()), { timeoutMs: 10_000, message: 'the stray segment file removed' });
});

test('after a simulated power loss, the next writer cuts a partition back before the first batch that did not reach its segment', async (t) => {
  const { dir, log, topic } = await logWithTopic(t, 'recover');
  await sendEach(log, topic, 5, 'a');
  await log.close();

  // The last two batches' bytes never reached the disk (zeros in their place), and the flushed
  // size recorded for the segment says so.
  const db = database(t, dir);
  const stored = db.prepare('SELECT base_offset, segment, position, bytes FROM batches ORDER BY last_offset').all() as unknown as BatchRow[];
  assert.equal(stored.length, 5);
  const lost = stored[3]!;
  const file = segmentPath(dir, lost.segment!);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(stored[4]!.position! + stored[4]!.bytes - lost.position!), 0, undefined, lost.position!);
  closeSync(fd);
  db.prepare('UPDATE segments SET flushed = ? WHERE id = ?').run(lost.position, lost.segment);

  // Reading alone changes nothing: the damaged batch fails the read as corrupt.
  const reader = await openIn(t, dir);
  const consumer = reader.consumer();
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.seek({ topic, partition: 0 }, { offset: 3 });
  await expectCode(consumer.poll({ timeoutMs: 1_000 }), ErrorCode.LOG_STORAGE_CORRUPT, `${topic}/0@3`);
  await consumer.close();
  await reader.close();

  // The next process to write checks what was never flushed and ends the partition at offset 3.
  const writer = await openIn(t, dir);
  assert.deepEqual(await sendEach(writer, topic, 2, 'b'), [3, 4]);
  const { records } = await readAll(writer, topic);
  assert.deepEqual(
    records.get(0)!.map((r) => text(r.value).split('-').slice(0, 2).join('-')),
    ['a-0', 'a-1', 'a-2', 'b-0', 'b-1'],
  );
});

test('segmentBytes must be a positive integer', async () => {
  const dir = await tempDir('sluice-segments-config-');
  try {
    for (const segmentBytes of [0, -1, 1.5, Number.NaN]) {
      await expectCode(openLog({ backend: 'embedded', dir: dir.path, segmentBytes }), ErrorCode.CONFIG_INVALID, 'segmentBytes');
    }
  } finally {
    await dir.remove();
  }
});

test('an offset commit is applied only after the segments appended before it are flushed', async (t) => {
  const { dir, log, topic } = await logWithTopic(t, 'commit');
  // acks 'leader': acknowledged without any flush.
  const producer = log.producer({ acks: 'leader' });
  t.after(() => producer.close());
  await producer.send([{ topic, partition: 0, value: bytes('not yet on disk') }]);
  const db = database(t, dir);
  const sizes = db.prepare('SELECT size, flushed FROM segments');
  const [before] = sizes.all() as Array<{ size: number; flushed: number }>;
  assert.ok(before!.size > before!.flushed, 'the segment starts unflushed');

  const consumer = log.consumer({ groupId: randomTopic('group') });
  t.after(() => consumer.close());
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.commit([{ topic, partition: 0, offset: 1 }]);
  // The flush that released the commit is recorded in the transaction that applied it.
  const [after] = sizes.all() as Array<{ size: number; flushed: number }>;
  assert.equal(after!.flushed, after!.size);
});

test('offset commits held for a flush are applied in the order they were made', async (t) => {
  const { log, topic } = await logWithTopic(t, 'order');
  // Durable sends: a flush is in progress when many of the commits arrive.
  const producer = log.producer({ acks: 'all' });
  t.after(() => producer.close());
  const consumer = log.consumer({ groupId: randomTopic('group') });
  t.after(() => consumer.close());
  await consumer.assign([{ topic, partition: 0 }]);
  // Appends (leaving segments unflushed) and commits of growing offsets, none awaited before the next.
  const pending: Promise<unknown>[] = [];
  for (let i = 1; i <= 60; i++) {
    pending.push(producer.send([{ topic, partition: 0, value: bytes(`v${i}`) }]));
    pending.push(consumer.commit([{ topic, partition: 0, offset: i }]));
  }
  await Promise.all(pending);
  const [committed] = await consumer.committed([{ topic, partition: 0 }]);
  assert.equal(committed?.offset, 60);
});

/** The segment files this process holds open (Linux: /proc/self/fd); null where that can't be read. */
function openSegmentFiles(dir: string): string[] | null {
  let fds: string[];
  try {
    fds = readdirSync('/proc/self/fd');
  } catch {
    return null;
  }
  const held: string[] = [];
  for (const fd of fds) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(join(dir, SEGMENTS_DIR))) held.push(target);
    } catch {
      // Closed meanwhile.
    }
  }
  return held;
}

test('a consumer that stops reading a partition lets go of its segment file', async (t) => {
  const { dir, log, topic } = await logWithTopic(t, 'release');
  await sendEach(log, topic, 3, 'r');
  if (openSegmentFiles(dir) === null) return t.skip('no /proc/self/fd here');
  const consumer = log.consumer();
  t.after(() => consumer.close());
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.seek({ topic, partition: 0 }, { offset: 0 });
  assert.equal((await consumer.poll({ timeoutMs: 1_000 })).length, 3);
  assert.equal(openSegmentFiles(dir)!.length, 1, 'the reader holds the segment it reads');
  await consumer.assign([]);
  assert.deepEqual(openSegmentFiles(dir), [], 'no longer assigned: the file is closed');
});
