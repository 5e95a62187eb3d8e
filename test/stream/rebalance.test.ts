/** Two instances of one application on the embedded log: tasks spread, move on leave, nothing is lost. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { run, topology } from '../../src/stream/index.ts';
import { bytes, eventually, text } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;
const batch = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ topic: 'in', key: bytes(`dev-${from + i}`), value: bytes(String(from + i)) }));

test('tasks spread over two instances and move back when one leaves', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 4, out: 4 });
  const b = topology();
  b.stream('in', codecs).mapValues((v) => v + 1000).to('out', codecs);
  const topo = b.build();
  const options = { log, applicationId: 'rb', pollTimeoutMs: 20, heartbeatIntervalMs: 50 } as const;

  const a = await run(topo, options);
  t.after(() => a.close());
  await eventually(() => a.taskIds().length === 4, { message: 'instance A owns all 4 tasks' });
  await produce(log, batch(0, 40));

  const second = await run(topo, options);
  t.after(() => second.close());
  await eventually(
    () => {
      const ids = [...a.taskIds(), ...second.taskIds()].sort();
      assert.equal(a.taskIds().length, 2);
      assert.equal(second.taskIds().length, 2);
      assert.deepEqual(ids, ['in-0', 'in-1', 'in-2', 'in-3']);
      return true;
    },
    { message: 'tasks split 2/2' },
  );
  await produce(log, batch(40, 80));
  await readTopic(log, 'out', 80);
  assert.ok(second.metrics().tasks.reduce((n, m) => n + m.recordsIn, 0) > 0, 'the second instance processed records');

  await second.close();
  await eventually(() => a.taskIds().length === 4, { message: 'tasks move back to A' });
  await produce(log, batch(80, 120));
  const out = await readTopic(log, 'out', 120);
  const values = new Set(out.map((r) => JSON.parse(text(r.value)) as number));
  assert.equal(values.size, 120, 'no record lost');
  assert.ok(a.metrics().tasksClosed >= 2, 'A closed the tasks it gave away');
  assert.ok(a.metrics().tasksCreated >= 6, 'A created tasks again when they came back');
  await a.close();
});
