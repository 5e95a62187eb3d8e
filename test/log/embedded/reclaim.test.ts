/**
 * Retention (by time, by size) and compaction of the embedded backend give disk space back: after
 * writing tens of megabytes, the maintenance pass (every second, in each process with the log open)
 * removes what the policy allows and the directory's files (database, WAL, segment files) really
 * shrink.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLog } from '../../../src/log/index.ts';
import type { Log, ProducerRecord, RecordMetadata } from '../../../src/log/types.ts';
import { eventually, randomTopic, tempDir, text } from '../../helpers.ts';
import { spawnFixture } from './child.ts';
import { readAll } from './read-all.ts';

const MB = 1024 * 1024;
/** Every test writes 1,200 values of 20 kB. */
const WRITTEN_BYTES = 1_200 * 20_000;

/** Sum of the sizes of the files in `path` (the database, its WAL and shared-memory index, the segment files). */
async function dirBytes(path: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Sends `count` records made by `make`, `perSend` at a time; returns where each landed. */
async function sendAll(log: Log, count: number, perSend: number, make: (i: number) => ProducerRecord): Promise<RecordMetadata[]> {
  const producer = log.producer({ acks: 'leader' });
  const out: RecordMetadata[] = [];
  for (let i = 0; i < count; i += perSend) {
    const records: ProducerRecord[] = [];
    for (let j = i; j < Math.min(count, i + perSend); j++) records.push(make(j));
    out.push(...(await producer.send(records)));
  }
  await producer.close();
  return out;
}

/** A value of `size` random bytes starting with `tag` and a zero byte. */
function filler(tag: string, size: number): Uint8Array {
  const value = randomBytes(size);
  value[value.write(tag, 0)] = 0;
  return value;
}

/**
 * The log in `path`, with segment files of 512 KiB: a segment goes only once none of its batches
 * is kept, so with the default 64 MiB the 24 MB written here would never leave the current one.
 */
async function openIn(path: string): Promise<Log> {
  return openLog({ backend: 'embedded', dir: path, segmentBytes: 512 * 1024 });
}

test('retention by time deletes old batches, moves the start offset and shrinks the directory', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-reclaim-time-');
  const topic = randomTopic('ret-time');
  const log = await openIn(dir.path);
  t.after(() => log.close());
  t.after(() => dir.remove());
  await log.admin.createTopic(topic, { partitions: 2, retentionMs: 60_000 });
  // Another process tails the topic the whole time (its reads must not keep the space).
  const reader = spawnFixture('mp-tail.ts', [dir.path, topic]);
  t.after(() => reader.kill());
  await reader.waitForLine((l) => l.startsWith('ready '), { what: 'ready' });

  // 24 MB an hour old, then a few fresh records per partition.
  const old = Date.now() - 3_600_000;
  await sendAll(log, 1_200, 50, (i) => ({ topic, partition: i % 2, timestamp: old + i, value: filler(`old-${i}`, 20_000) }));
  const fresh = await sendAll(log, 4, 4, (i) => ({ topic, partition: i % 2, value: filler(`fresh-${i}`, 1_000) }));
  // The bytes written, not the directory's size now: maintenance may already be reclaiming.
  const before = WRITTEN_BYTES;

  const after = await eventually(
    async () => {
      const { partitions } = await log.admin.describeTopic(topic);
      assert.deepEqual(
        partitions.map((p) => p.startOffset),
        [600, 600],
        'start offsets past the old records',
      );
      const bytes = await dirBytes(dir.path);
      assert.ok(bytes < before / 4, `directory at ${bytes} bytes, was ${before}`);
      return bytes;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'time retention reclaiming space' },
  );
  t.diagnostic(`directory: ${before} → ${after} bytes`);
  assert.ok(after < 4 * MB, `directory still holds ${after} bytes`);
  // The tailing process saw the fresh records (it started at the end, before the old ones).
  await reader.waitForLine((l) => l.startsWith('rec 1 601 '), { what: 'the last fresh record' });
  // The fresh records are still readable, and the log still takes writes.
  const { records } = await readAll(log, topic);
  assert.deepEqual(
    [...records.values()].flat().map((r) => `${r.partition}@${r.offset}`).sort(),
    fresh.map((m) => `${m.partition}@${m.offset}`).sort(),
  );
  const [m] = await log.producer().send([{ topic, partition: 0, value: filler('later', 10) }]);
  assert.equal(m?.offset, 602);
});

test('retention by size keeps about retentionBytes per partition and shrinks the directory', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-reclaim-size-');
  const topic = randomTopic('ret-size');
  const log = await openIn(dir.path);
  t.after(() => log.close());
  t.after(() => dir.remove());
  await log.admin.createTopic(topic, { partitions: 2, retentionBytes: 2 * MB });

  // 24 MB in 20-record batches (one per send) of 20 kB records, 12 MB per partition.
  await sendAll(log, 1_200, 20, (i) => ({ topic, partition: Math.floor(i / 20) % 2, value: filler(`v-${i}`, 20_000) }));
  // The bytes written, not the directory's size now: maintenance may already be reclaiming.
  const before = WRITTEN_BYTES;

  await eventually(
    async () => {
      const { partitions } = await log.admin.describeTopic(topic);
      for (const p of partitions) {
        assert.equal(p.endOffset, 600);
        assert.ok(p.startOffset > 0, `partition ${p.partition} start offset ${p.startOffset}`);
      }
      const bytes = await dirBytes(dir.path);
      assert.ok(bytes < before / 3, `directory at ${bytes} bytes, was ${before}`);
      t.diagnostic(`directory: ${before} → ${bytes} bytes`);
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'size retention reclaiming space' },
  );
  // What is left per partition is at least retentionBytes and less than one batch more.
  const { partitions, records } = await readAll(log, topic);
  for (const p of partitions) {
    const list = records.get(p.partition)!;
    assert.equal(list[0]?.offset, p.startOffset);
    assert.equal(p.startOffset % 20, 0, 'whole batches go');
    const kept = list.reduce((s, r) => s + r.value.byteLength, 0);
    const batch = 20 * 20_000;
    assert.ok(kept >= 2 * MB - batch && kept < 2 * MB + batch, `partition ${p.partition} keeps ${kept} bytes of values`);
  }
});

test('compaction keeps the latest value per key at its offset and shrinks the directory', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-reclaim-compact-');
  const topic = randomTopic('compact');
  const log = await openIn(dir.path);
  t.after(() => log.close());
  t.after(() => dir.remove());
  await log.admin.createTopic(topic, { partitions: 2, cleanupPolicy: 'compact' });

  // 24 MB: 40 keys, each written 30 times, plus a few unkeyed records (compaction keeps those).
  const keys = 40;
  const sentFrom = performance.timeOrigin + performance.now();
  const meta = await sendAll(log, 1_200, 40, (i) =>
    i % 300 === 7 ? { topic, partition: 0, key: null, value: filler(`unkeyed-${i}`, 20_000) } : { topic, key: Buffer.from(`key-${i % keys}`), value: filler(`v-${i}`, 20_000) },
  );
  const expected = new Map<string, string>(); // "partition@offset" → value tag, of what must survive
  const latest = new Map<number, string>(); // key index → "partition@offset"
  meta.forEach((m, i) => {
    if (i % 300 === 7) expected.set(`${m.partition}@${m.offset}`, `unkeyed-${i}`);
    else latest.set(i % keys, `${m.partition}@${m.offset}|v-${i}`);
  });
  for (const entry of latest.values()) {
    const [where, tag] = entry.split('|') as [string, string];
    expected.set(where, tag);
  }
  const { partitions: endsBefore } = await log.admin.describeTopic(topic);
  const sentBy = performance.timeOrigin + performance.now();
  // The bytes written, not the directory's size now: maintenance may already be reclaiming.
  const before = WRITTEN_BYTES;

  await eventually(
    async () => {
      const bytes = await dirBytes(dir.path);
      assert.ok(bytes < before / 4, `directory at ${bytes} bytes, was ${before}`);
      t.diagnostic(`directory: ${before} → ${bytes} bytes`);
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'compaction reclaiming space' },
  );
  const { partitions, records } = await readAll(log, topic);
  assert.deepEqual(partitions, endsBefore, 'compaction leaves start and end offsets alone');
  const got = new Map<string, string>();
  for (const r of [...records.values()].flat()) got.set(`${r.partition}@${r.offset}`, text(r.value.subarray(0, r.value.indexOf(0))));
  assert.deepEqual(new Map([...got].sort()), new Map([...expected].sort()), 'the latest record of each key (and every unkeyed one) survives, at its offset');
  for (const r of [...records.values()].flat()) {
    if (r.key !== null) assert.ok(text(r.key).startsWith('key-'));
    // A compacted batch keeps an append time: that of the newest batch its records came from.
    assert.ok(r.appendedAt !== undefined && r.appendedAt >= sentFrom && r.appendedAt <= sentBy, `append time of ${r.partition}@${r.offset}`);
  }
});

test('two processes compacting the same partitions at once keep the latest record of every key, in offset order', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir('sluice-reclaim-compact-2-');
  const topic = randomTopic('compact-2');
  const log = await openIn(dir.path);
  t.after(() => log.close());
  t.after(() => dir.remove());
  await log.admin.createTopic(topic, { partitions: 2, cleanupPolicy: 'compact' });

  // Each writer's housekeeping thread compacts both partitions while both keep writing (2 × 30 MB
  // over a few seconds); this process writes nothing, so it never compacts.
  const keys = 30;
  const count = 3_000;
  const writers = ['a', 'b'].map((prefix) => spawnFixture('compact-writer.ts', [dir.path, topic, prefix, String(keys), String(count), '10000']));
  t.after(() => Promise.all(writers.map((w) => w.kill())));
  for (const w of writers) await w.waitForLine((l) => l === `done ${count}`, { timeoutMs: 60_000, what: 'done' });

  const { records } = await readAll(log, topic);
  const kept = [...records.values()].reduce((n, list) => n + list.length, 0);
  assert.ok(kept < count, `compaction ran while they wrote: ${kept} of ${2 * count} records left`);
  t.diagnostic(`${kept} of ${2 * count} records left`);
  const latest = new Map<string, number>();
  for (const list of records.values()) {
    for (let i = 1; i < list.length; i++) assert.ok(list[i]!.offset > list[i - 1]!.offset, `offsets in order in partition ${list[i]!.partition}`);
    for (const r of list) {
      const [key, seq] = text(r.value.subarray(0, r.value.indexOf(0))).split('=') as [string, string];
      assert.equal(text(r.key!), key);
      latest.set(key, Math.max(latest.get(key) ?? -1, Number(seq)));
    }
  }
  const expected = new Map<string, number>();
  for (const prefix of ['a', 'b']) for (let k = 0; k < keys; k++) expected.set(`${prefix}-${k}`, count - keys + k);
  assert.deepEqual(new Map([...latest].sort()), new Map([...expected].sort()), 'the last value written of every key is there');
});
