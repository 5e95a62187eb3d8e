/**
 * Cross-process wake-ups of the embedded log: a writer thread touches the append signal file after
 * each commit of appends, and a waiting consumer in another process is woken by the watch on the
 * log directory instead of finding the records at its next poll interval.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openLog } from '../../../src/log/index.ts';
import { AppendSignal } from '../../../src/log/embedded/context.ts';
import { randomTopic, tempDir } from '../../helpers.ts';
import { spawnFixture } from './child.ts';

test("another process's append wakes a waiting signal (not its timeout)", async (t) => {
  const dir = await tempDir('append-signal');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  const topic = randomTopic('signal');
  await log.admin.createTopic(topic, { partitions: 1 });
  const signal = new AppendSignal(dir.path);
  signal.acquire();
  t.after(() => signal.release());

  const woken = signal.wait(60_000);
  const producer = spawnFixture('mp-producer.ts', [dir.path, topic, '0', '1', '1', '0']);
  t.after(() => producer.kill());
  await producer.waitForLine((l) => l === 'done 1', { timeoutMs: 60_000, what: 'the other process appending' });
  assert.equal(await woken, true, 'woken by the append, not by the timeout');
  const { partitions } = await log.admin.describeTopic(topic);
  assert.equal(partitions[0]!.endOffset, 1, 'the append is visible once the signal fires');
});

test('a signal that is not watching any more times out; a released directory can be watched again', async (t) => {
  const dir = await tempDir('append-signal');
  const signal = new AppendSignal(dir.path);
  assert.equal(await signal.wait(20), false, 'nothing appended: the timeout');
  signal.acquire();
  signal.acquire();
  signal.release();
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  const topic = randomTopic('signal');
  await log.admin.createTopic(topic, { partitions: 1 });
  const woken = signal.wait(60_000);
  const producer = spawnFixture('mp-producer.ts', [dir.path, topic, '0', '1', '1', '0']);
  t.after(() => producer.kill());
  await producer.waitForLine((l) => l === 'done 1', { timeoutMs: 60_000, what: 'the other process appending' });
  assert.equal(await woken, true, 'still watched after one of two users released it');
  signal.release();
});
