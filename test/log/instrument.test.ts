import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { LOG_CHANNELS, openLog } from '../../src/log/index.ts';
import { randomTopic, tempDir } from '../helpers.ts';

test('sends, polls and commits are published on the log diagnostics channels', async (t) => {
  const dir = await tempDir('sluice-instrument-');
  const log = await openLog({ backend: 'embedded', dir: dir.path });
  t.after(() => log.close());
  t.after(() => dir.remove());
  const seen: Record<string, Array<Record<string, unknown>>> = { send: [], poll: [], commit: [] };
  for (const [name, channelName] of Object.entries(LOG_CHANNELS)) {
    const listener = (message: unknown): void => void seen[name]!.push(message as Record<string, unknown>);
    subscribe(channelName, listener);
    t.after(() => unsubscribe(channelName, listener));
  }
  const topic = randomTopic('instrument');
  await log.admin.createTopic(topic, { partitions: 2 });
  await log.producer().send([0, 1, 2].map((i) => ({ topic, partition: i % 2, value: Buffer.from(`v${i}`) })));
  const consumer = log.consumer({ groupId: `g-${topic}` });
  await consumer.assign([{ topic, partition: 0 }, { topic, partition: 1 }]);
  let read = 0;
  const deadline = Date.now() + 10_000;
  while (read < 3 && Date.now() < deadline) read += (await consumer.poll({ timeoutMs: 200 })).length;
  await consumer.commit();
  await assert.rejects(log.producer().send([{ topic: 'no-such-topic', value: Buffer.from('x') }]));

  assert.equal(read, 3);
  assert.deepEqual(seen.send![0], { backend: 'embedded', records: 3, partitions: 2, durationMs: seen.send![0]!['durationMs'] });
  assert.ok((seen.send![0]!['durationMs'] as number) >= 0);
  assert.equal(seen.send![1]!['records'], 1);
  assert.equal((seen.send![1]!['error'] as { code?: string }).code, 'SLUICE_LOG_UNKNOWN_TOPIC');
  assert.equal(seen.poll!.reduce((n, m) => n + (m['records'] as number), 0), 3);
  assert.deepEqual(seen.commit!.map((m) => m['partitions']), [null]);
});
