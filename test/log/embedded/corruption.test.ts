/**
 * The embedded backend rejects corrupted storage: bytes changed inside a stored batch (in its
 * segment file, or in its row for a compacted topic, through a direct node:sqlite connection, as a
 * disk or a stray tool would) make reads fail with LOG_STORAGE_CORRUPT instead of returning garbage
 * or silently fewer records.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/errors.ts';
import { DATABASE_FILE } from '../../../src/log/embedded/database.ts';
import { segmentPath } from '../../../src/log/embedded/segments.ts';
import { openLog } from '../../../src/log/index.ts';
import type { CleanupPolicy, Consumer, Log, LogRecord } from '../../../src/log/types.ts';
import { bytes, expectCode, randomTopic, tempDir, text } from '../../helpers.ts';

interface StoredBatch {
  readonly rowid: number;
  readonly base_offset: number;
  readonly last_offset: number;
  /** The batch's bytes as stored (segment file or row). */
  readonly data: Uint8Array;
  readonly segment: number | null;
}

/** Where the batches of each cleanup policy keep their bytes. */
const STORAGE: ReadonlyArray<[CleanupPolicy, string]> = [
  ['delete', 'segment file'],
  ['compact', 'database row'],
];

/** The stored batches of the log, with their bytes wherever they are kept. */
function storedBatches(db: DatabaseSync, dir: string): StoredBatch[] {
  const rows = db
    .prepare('SELECT rowid, base_offset, last_offset, data, segment, position, bytes FROM batches ORDER BY last_offset')
    .all() as unknown as Array<StoredBatch & { position: number | null; bytes: number }>;
  return rows.map(({ position, bytes, ...row }) =>
    row.segment === null ? row : { ...row, data: readFileSync(segmentPath(dir, row.segment)).subarray(position!, position! + bytes) },
  );
}

/** A log with one 1-partition topic holding three sends (three batches) of five records each. */
async function setup(
  t: { after(fn: () => unknown): void },
  cleanupPolicy: CleanupPolicy,
): Promise<{ log: Log; topic: string; db: DatabaseSync; dir: string; batches: StoredBatch[] }> {
  const dir = await tempDir('sluice-corrupt-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  const topic = randomTopic('corrupt');
  await log.admin.createTopic(topic, { partitions: 1, cleanupPolicy });
  const producer = log.producer();
  for (let b = 0; b < 3; b++) {
    await producer.send(
      Array.from({ length: 5 }, (_, i) => ({
        topic,
        key: i % 2 === 0 ? bytes(`key-${b}-${i}`) : null,
        value: bytes(`value-${b}-${i}-${'x'.repeat(i * 7)}`),
        headers: i % 3 === 0 ? { h: bytes(`header-${b}-${i}`) } : {},
        timestamp: 1_700_000_000_000 + b * 10 + i,
      })),
    );
  }
  // The log's own threads may hold the lock for a moment: wait for it as they do.
  const db = new DatabaseSync(join(dir.path, DATABASE_FILE), { timeout: 10_000 });
  t.after(() => db.close());
  t.after(() => dir.remove());
  const batches = storedBatches(db, dir.path);
  assert.equal(batches.every((b) => b.segment !== null), cleanupPolicy === 'delete');
  assert.deepEqual(
    batches.map((b) => [b.base_offset, b.last_offset]),
    [
      [0, 4],
      [5, 9],
      [10, 14],
    ],
  );
  return { log, topic, db, dir: dir.path, batches };
}

/**
 * Replaces a batch's stored bytes: in its row, or (segment files) written at the end of its
 * segment, with the row pointing there, so that no other batch's bytes change.
 */
function setBlob(db: DatabaseSync, dir: string, batch: StoredBatch, data: Uint8Array): void {
  if (batch.segment === null) {
    db.prepare('UPDATE batches SET data = ? WHERE rowid = ?').run(data, batch.rowid);
    return;
  }
  const file = segmentPath(dir, batch.segment);
  const position = statSync(file).size;
  appendFileSync(file, data);
  db.prepare('UPDATE batches SET position = ?, bytes = ? WHERE rowid = ?').run(position, data.byteLength, batch.rowid);
}

/** A consumer of partition 0 positioned at `offset`. */
async function readerAt(log: Log, topic: string, offset: number): Promise<Consumer> {
  const consumer = log.consumer();
  await consumer.assign([{ topic, partition: 0 }]);
  await consumer.seek({ topic, partition: 0 }, { offset });
  return consumer;
}

/** Everything from `offset` to the end (15), or the error the read raised. */
async function readFrom(log: Log, topic: string, offset: number): Promise<LogRecord[]> {
  const consumer = await readerAt(log, topic, offset);
  try {
    const out: LogRecord[] = [];
    const deadline = Date.now() + 5_000;
    while ((await consumer.position({ topic, partition: 0 })) < 15) {
      assert.ok(Date.now() < deadline, 'reading to the end took too long');
      out.push(...(await consumer.poll({ timeoutMs: 100 })));
    }
    return out;
  } finally {
    await consumer.close();
  }
}

for (const [policy, storage] of STORAGE) {
  test(`a byte flipped inside a stored batch (${storage}) fails the read with LOG_STORAGE_CORRUPT; other batches stay readable`, async (t) => {
    const { log, topic, db, dir, batches } = await setup(t, policy);
    const middle = batches[1]!;
    const data = Buffer.from(middle.data);
    data[Math.floor(data.length / 2)]! ^= 0x10;
    setBlob(db, dir, middle, data);

    const error = await expectCode(readFrom(log, topic, 0), ErrorCode.LOG_STORAGE_CORRUPT, `${topic}/0@5`);
    assert.equal(error.name, 'SluiceError');
    assert.match(error.message, /CRC mismatch: the stored batch is damaged, or was written by an incompatible earlier build/);
    await expectCode(readFrom(log, topic, 7), ErrorCode.LOG_STORAGE_CORRUPT);
    // A seek by timestamp that lands in the damaged batch reads it, too.
    const consumer = await readerAt(log, topic, 0);
    t.after(() => consumer.close());
    await expectCode(consumer.seek({ topic, partition: 0 }, { timestamp: 1_700_000_000_012 }), ErrorCode.LOG_STORAGE_CORRUPT);
    // The batches around it are intact.
    const tail = await readFrom(log, topic, 10);
    assert.deepEqual(
      tail.map((r) => text(r.value)),
      Array.from({ length: 5 }, (_, i) => `value-2-${i}-${'x'.repeat(i * 7)}`),
    );
    const first = await readerAt(log, topic, 0);
    t.after(() => first.close());
    const head = await first.poll({ maxRecords: 5, timeoutMs: 1_000 });
    assert.deepEqual(
      head.map((r) => r.offset),
      [0, 1, 2, 3, 4],
    );
  });

  test(`every single-byte change anywhere in a stored batch (${storage}) is detected (header, CRC, records)`, async (t) => {
    const { log, topic, db, dir, batches } = await setup(t, policy);
    const target = batches[2]!;
    const original = Buffer.from(target.data);
    const intact = (await readFrom(log, topic, 10)).map((r) => `${r.offset}:${text(r.key)}:${text(r.value)}`);
    assert.equal(intact.length, 5);
    const undetected: string[] = [];
    for (let at = 0; at < original.length; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const data = Buffer.from(original);
        data[at]! ^= mask;
        setBlob(db, dir, target, data);
        let outcome: string;
        try {
          const got = (await readFrom(log, topic, 10)).map((r) => `${r.offset}:${text(r.key)}:${text(r.value)}`);
          outcome = `read ${got.length} records${JSON.stringify(got) === JSON.stringify(intact) ? ' (all intact)' : ''}`;
        } catch (error) {
          if ((error as { code?: unknown }).code === ErrorCode.LOG_STORAGE_CORRUPT) continue;
          outcome = `${(error as Error).name}: ${(error as Error).message}`;
        }
        undetected.push(`byte ${at} ^ 0x${mask.toString(16)}: ${outcome}`);
      }
    }
    setBlob(db, dir, target, original);
    assert.deepEqual(undetected, [], `changes that were not reported as LOG_STORAGE_CORRUPT (blob of ${original.length} bytes)`);
  });

  test(`a truncated, extended or emptied batch (${storage}) fails the read with LOG_STORAGE_CORRUPT`, async (t) => {
    const { log, topic, db, dir, batches } = await setup(t, policy);
    const target = batches[0]!;
    const original = Buffer.from(target.data);
    const variants: Array<[string, Uint8Array]> = [
      ['cut by one byte', original.subarray(0, original.length - 1)],
      ['cut in half', original.subarray(0, original.length >> 1)],
      ['cut inside the header', original.subarray(0, 6)],
      ['one byte longer', Buffer.concat([original, Buffer.from([0])])],
      ['emptied', new Uint8Array(0)],
      ['zeroed', Buffer.alloc(original.length)],
    ];
    for (const [what, data] of variants) {
      setBlob(db, dir, target, data);
      await t.test(what, async () => {
        await expectCode(readFrom(log, topic, 0), ErrorCode.LOG_STORAGE_CORRUPT, `${topic}/0@0`);
      });
    }
  });
}
