/**
 * Cross-process wake-ups of the embedded log: a writer thread touches the append signal file after
 * each commit of appends, and a waiting consumer in another process is woken by the watch on that
 * file instead of finding the records at its next poll interval.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openLog } from '../../../src/log/index.ts';
import { APPEND_SIGNAL_FILE, AppendSignal } from '../../../src/log/embedded/context.ts';
import type { Log } from '../../../src/log/types.ts';
import { eventually, randomTopic, tempDir } from '../../helpers.ts';
import { spawnFixture } from './child.ts';

/** A fresh log directory with one topic (closed and removed after the test). */
async function logWithTopic(t: TestContext): Promise<{ dir: string; log: Log; topic: string }> {
  const dir = await tempDir('append-signal');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  const topic = randomTopic('signal');
  await log.admin.createTopic(topic, { partitions: 1 });
  return { dir: dir.path, log, topic };
}

/** Appends one record to `topic` from another process; resolves once that process has. */
async function appendFromAnotherProcess(t: TestContext, dir: string, topic: string): Promise<void> {
  const producer = spawnFixture('mp-producer.ts', [dir, topic, '0', '1', '1', '0']);
  t.after(() => producer.kill());
  await producer.waitForLine((l) => l === 'done 1', { timeoutMs: 60_000, what: 'the other process appending' });
}

test("another process's append wakes a waiting signal (not its timeout)", async (t) => {
  const { dir, log, topic } = await logWithTopic(t);
  const signal = new AppendSignal(dir);
  signal.acquire();
  t.after(() => signal.release());
  const woken = signal.wait(60_000);
  await appendFromAnotherProcess(t, dir, topic);
  assert.equal(await woken, true, 'woken by the append, not by the timeout');
  const { partitions } = await log.admin.describeTopic(topic);
  assert.equal(partitions[0]!.endOffset, 1, 'the append is visible once the signal fires');
});

test('a signal times out when nothing is appended, and keeps watching while one of its users remains', async (t) => {
  const { dir, topic } = await logWithTopic(t);
  const signal = new AppendSignal(dir);
  assert.equal(await signal.wait(20), false, 'nothing appended: the timeout');
  signal.acquire();
  signal.acquire();
  signal.release();
  t.after(() => signal.release());
  const woken = signal.wait(60_000);
  await appendFromAnotherProcess(t, dir, topic);
  assert.equal(await woken, true, 'still watched after one of two users released it');
});

test('a signal file removed while watched: waiters poll often until it is back and watched again', async (t) => {
  const { dir, topic } = await logWithTopic(t);
  const signal = new AppendSignal(dir);
  signal.acquire();
  t.after(() => signal.release());
  assert.equal(signal.pollIntervalMs(), 50, 'watched: the slow poll');
  const removal = signal.wait(60_000);
  rmSync(join(dir, APPEND_SIGNAL_FILE));
  assert.equal(await removal, true, 'the removal wakes waiters (they look at the database)');
  await eventually(() => assert.equal(signal.pollIntervalMs(), 5), { timeoutMs: 10_000, message: 'unwatched: the quick poll' });
  // A writer that starts makes the file again; within a second it is watched again.
  await appendFromAnotherProcess(t, dir, topic);
  await eventually(() => assert.equal(signal.pollIntervalMs(), 50), { timeoutMs: 10_000, message: 'watched again' });
  const woken = signal.wait(60_000);
  await appendFromAnotherProcess(t, dir, topic);
  assert.equal(await woken, true, 'woken by the append through the new file');
});
