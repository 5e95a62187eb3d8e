/**
 * The runtime on the real embedded log: outputs, error policies (dead letters, fail), and restart
 * from committed offsets with nothing lost.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { DeadLetterHeader, run, topology, type ErrorPolicyOptions } from '../../src/stream/index.ts';
import { bytes, eventually, expectCode, text } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

/** in → (fail on 13) → ×10 → out. */
function app(errors: ErrorPolicyOptions) {
  const b = topology({ errors });
  b.stream('in', codecs)
    .mapValues((v) => {
      if (v === 13) throw new Error('unlucky');
      return v * 10;
    })
    .to('out', codecs);
  return b.build();
}

const numbers = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ topic: 'in', key: bytes(`k${(from + i) % 5}`), value: bytes(String(from + i)) }));

test('processes input to output, dead-letters bad records, and resumes from committed offsets after a restart', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 3, out: 3 });
  await produce(log, [...numbers(0, 40), { topic: 'in', key: bytes('k1'), value: bytes('garbage') }]);
  const topo = app({ onError: 'dead-letter', deadLetterTopic: 'in.dlq' });

  const first = await run(topo, { log, applicationId: 'rt1', maxBatchRecords: 7 });
  const out = await readTopic(log, 'out', 39);
  const dlq = await readTopic(log, 'in.dlq', 2);
  assert.deepEqual(dlq.map((r) => text(r.value)).sort(), ['13', 'garbage']);
  assert.deepEqual(dlq.map((r) => text(r.headers[DeadLetterHeader.errorKind]!)).sort(), ['deserialization', 'processing']);
  await eventually(() => {
    const m = first.metrics();
    const sum = (f: (x: (typeof m.tasks)[number]) => number) => m.tasks.reduce((a, x) => a + f(x), 0);
    assert.equal(sum((x) => x.recordsIn), 41);
    assert.equal(sum((x) => x.deadLettered), 2);
    assert.equal(m.tasks.length, 3);
    assert.ok(m.tasks.every((x) => x.committedOffset !== null));
    return true;
  });
  await first.close();
  assert.equal(first.state, 'closed');

  await produce(log, numbers(40, 60));
  const second = await run(topo, { log, applicationId: 'rt1' });
  const all = await readTopic(log, 'out', 59);
  await second.close();
  const values = all.map((r) => JSON.parse(text(r.value)) as number).sort((a, b) => a - b);
  const expected = Array.from({ length: 60 }, (_, i) => i * 10).filter((v) => v !== 130);
  assert.deepEqual(values, expected, 'every record exactly once across the restart (clean close commits everything)');
  assert.deepEqual(out.length, 39);
  // Records of one key stay in order on their partition.
  const k1 = all.filter((r) => text(r.key!) === 'k1').map((r) => JSON.parse(text(r.value)) as number);
  assert.deepEqual(k1, [...k1].sort((a, b) => a - b));
});

test("'fail' stops the application with an error naming the record, leaving it uncommitted for a fixed restart", async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, numbers(10, 20));
  let reported: Error | undefined;
  const failing = await run(app({ onError: 'fail' }), { log, applicationId: 'rt2', maxBatchRecords: 2, onError: (e) => (reported = e) });
  await expectCode(failing.stopped(), ErrorCode.STREAM_PROCESSING, 'in/0@3', 'unlucky');
  assert.equal(failing.state, 'failed');
  assert.equal(reported, failing.error);

  // Batches of 2: offsets 0-1 were committed, the batch holding offset 3 was not.
  const consumer = log.consumer({ groupId: 'rt2' });
  const [committed] = await consumer.committed([{ topic: 'in', partition: 0 }]);
  await consumer.close();
  assert.equal(committed!.offset, 2);

  const fixed = await run(app({ onError: 'skip' }), { log, applicationId: 'rt2' });
  const out = await readTopic(log, 'out', 9);
  await fixed.close();
  const values = new Set(out.map((r) => JSON.parse(text(r.value)) as number));
  assert.deepEqual([...values].sort((a, b) => a - b), [100, 110, 120, 140, 150, 160, 170, 180, 190]);
});

test('run() checks its options and topics', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1 });
  await expectCode(run(app({}), { log, applicationId: 'bad id!' }), ErrorCode.INVALID_ARGUMENT, '/applicationId');
  await expectCode(run(app({}), { log, applicationId: 'a', maxBatchRecords: 0 }), ErrorCode.INVALID_ARGUMENT, '/maxBatchRecords');
  await expectCode(run(app({}), { log, applicationId: 'a', maxOutputDelayMs: -1 }), ErrorCode.INVALID_ARGUMENT, '/maxOutputDelayMs');
  await expectCode(run(app({}), { log, applicationId: 'a' }), ErrorCode.LOG_UNKNOWN_TOPIC, "output topic 'out'");
});
