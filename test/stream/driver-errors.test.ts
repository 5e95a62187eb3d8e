/** Error policies (fail, skip, dead-letter) and topology validation, through the test driver. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { DeadLetterHeader, topology, TopologyTestDriver, type ErrorPolicyOptions, type StreamRecord } from '../../src/stream/index.ts';
import { bytes, expectCode, text } from '../helpers.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

/** in → mapValues (throws on 13) → mapAsync (rejects on 7) → out. */
function app(errors: ErrorPolicyOptions) {
  const b = topology({ errors });
  b.stream('in', codecs)
    .mapValues((v) => {
      if (v === 13) throw new Error('unlucky');
      return v;
    })
    .mapAsync(async (r) => {
      if (r.value === 7) throw new Error('seven');
      return r.value;
    }, { concurrency: 4 })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  return { driver, input: driver.input('in'), out: driver.output('out', codecs) };
}

test("'fail' stops with a typed error naming node, topic, partition and offset", async () => {
  const { input } = app({ onError: 'fail' });
  await input.pipe('k', 1);
  const error = await expectCode(input.pipe('k', 13), ErrorCode.STREAM_PROCESSING, 'mapValues-1', 'in/0@1', 'unlucky');
  assert.deepEqual({ ...(error as unknown as { details: object }).details }, { kind: 'processing', node: 'mapValues-1', topic: 'in', partition: 0, offset: 1 });
  await expectCode(input.pipeBytes(bytes('k'), bytes('not json')), ErrorCode.STREAM_DESERIALIZATION, 'source-0', 'in/0@2');
});

test("'skip' counts bad records and carries on, with async failures blamed on their own record", async () => {
  const { driver, input, out } = app({ onError: 'skip' });
  await input.pipeAll([1, 7, 13, 2].map((value) => ({ key: 'k', value })));
  await input.pipeBytes(bytes('k'), bytes('{'));
  await input.pipe('k', 3);
  assert.deepEqual(out.readValues(), [1, 2, 3]);
  const [m] = driver.metrics();
  assert.equal(m!.errors, 3);
  assert.equal(m!.skipped, 3);
  assert.equal(m!.recordsIn, 6);
});

test("'dead-letter' sends the original bytes with the error in headers", async () => {
  const { driver, input, out } = app({ onError: 'dead-letter', deadLetterTopic: 'dlq' });
  const h = { trace: bytes('abc') };
  await input.pipeAll([1, 7, 2].map((value) => ({ key: 'k', value, headers: h, timestamp: 50 })));
  await input.pipeBytes(bytes('bad-key'), bytes('nope'), { timestamp: 60 });
  assert.deepEqual(out.readValues(), [1, 2]);
  const dead = driver.records('dlq');
  assert.equal(dead.length, 2);
  const [async7, undecodable] = dead;
  assert.equal(text(async7!.value), '7');
  assert.equal(text(async7!.headers.trace!), 'abc');
  assert.equal(text(async7!.headers[DeadLetterHeader.errorCode]!), ErrorCode.STREAM_PROCESSING);
  assert.equal(text(async7!.headers[DeadLetterHeader.errorNode]!), 'mapAsync-2');
  assert.equal(text(async7!.headers[DeadLetterHeader.sourceOffset]!), '1');
  assert.match(text(async7!.headers[DeadLetterHeader.errorMessage]!), /seven/);
  assert.equal(async7!.timestamp, 50);
  assert.equal(text(undecodable!.key), 'bad-key');
  assert.equal(text(undecodable!.value), 'nope');
  assert.equal(text(undecodable!.headers[DeadLetterHeader.errorKind]!), 'deserialization');
  assert.equal(text(undecodable!.headers[DeadLetterHeader.sourceTopic]!), 'in');
  assert.equal(driver.metrics()[0]!.deadLettered, 2);
});

test('separate actions for deserialization and processing errors; invalid timestamps are deserialization errors', async () => {
  const b = topology({ errors: { deserialization: 'skip', processing: 'fail' } });
  b.stream('in', { ...codecs, timestamp: (_raw, kv) => (kv.value < 0 ? Number.NaN : kv.value) })
    .mapValues((v) => {
      if (v === 13) throw new Error('unlucky');
      return v;
    })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  const input = driver.input<string, number>('in');
  await input.pipe('k', -1);
  await input.pipeBytes(null, bytes('x'));
  await input.pipe('k', 5);
  assert.deepEqual(driver.output('out', codecs).readValues(), [5]);
  assert.equal(driver.metrics()[0]!.skipped, 2);
  await expectCode(input.pipe('k', 13), ErrorCode.STREAM_PROCESSING, 'in/0@3');
});

test('output encoding failures and punctuator failures follow the processing policy', async () => {
  const b = topology({ errors: { onError: 'skip' } });
  b.stream('in', codecs)
    .process<string, number>(() => {
      let forward: ((r: StreamRecord<string, number>) => void | Promise<void>) | undefined;
      return {
        init(ctx) {
          forward = (r) => ctx.forward(r);
          ctx.schedule({ intervalMs: 10, type: 'wall-clock', punctuator: () => { throw new Error('tick failed'); } });
        },
        process: (r) => forward?.(r),
      };
    })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  await driver.advanceWallClock(1);
  await driver.input('in').pipe('k', 1);
  await driver.advanceWallClock(20);
  assert.equal(driver.metrics()[0]!.skipped, 1);
  assert.deepEqual(driver.output('out', codecs).readValues(), [1]);

  const b2 = topology({ errors: { onError: 'skip' } });
  b2.stream('in', codecs).mapValues((v) => (v > 1 ? Number.NaN : v)).to('out', { value: jsonCodec<number>() });
  const d2 = new TopologyTestDriver(b2.build());
  await d2.input('in').pipeAll([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
  assert.deepEqual(d2.output('out', codecs).readValues(), [1]);
  assert.equal(d2.metrics()[0]!.skipped, 1);
});

test('topology validation names what is wrong', async () => {
  await expectCode(() => topology().build(), ErrorCode.STREAM_INVALID_TOPOLOGY, 'at least one source');
  await expectCode(() => topology({ errors: { onError: 'dead-letter' } }), ErrorCode.STREAM_INVALID_TOPOLOGY, '/errors/deadLetterTopic');
  await expectCode(() => topology({ errors: { onError: 'explode' as never } }), ErrorCode.STREAM_INVALID_TOPOLOGY, '/errors/onError');
  const b = topology();
  const s = b.stream('in', codecs);
  await expectCode(() => b.stream('in', codecs), ErrorCode.STREAM_INVALID_TOPOLOGY, "'in' is read by two sources");
  await expectCode(() => s.map((r) => ({ key: 1, value: r.value })).to('out'), ErrorCode.STREAM_INVALID_TOPOLOGY, "to('out')", 'key');
  await expectCode(() => s.filter(() => true, { name: 'x' }).filter(() => true, { name: 'x' }), ErrorCode.STREAM_INVALID_TOPOLOGY, "'x' is used twice");
  await expectCode(() => s.mapAsync(async (r) => r, { concurrency: 0 }), ErrorCode.STREAM_INVALID_TOPOLOGY, 'concurrency');
  await expectCode(() => s.filter('nope' as never), ErrorCode.STREAM_INVALID_TOPOLOGY, 'filter()', 'function');
  s.to('out');
  const t = b.build();
  await expectCode(() => s.to('again'), ErrorCode.STREAM_INVALID_TOPOLOGY, 'already built');
  assert.ok(Object.isFrozen(t) && Object.isFrozen(t.nodes) && Object.isFrozen(t.nodes[0]));
  assert.match(t.describe(), /^Topology \(errors: deserialization=fail, processing=fail\)\n {2}Sub-topology 0\n/);
});

test("a throwing timestamp extractor fails as a deserialization error, an invalid timestamp as one of its own, each naming the record ('fail')", async () => {
  const b = topology({ errors: { deserialization: 'fail', processing: 'skip' } });
  b.stream('in', {
    ...codecs,
    timestamp: (_raw, kv) => {
      if (kv.value === 1) throw new Error('no time in this one');
      return kv.value === 2 ? -5 : kv.value;
    },
  }).to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  const input = driver.input<string, number>('in');
  await input.pipe('k', 10);
  const thrown = await expectCode(input.pipe('k', 1), ErrorCode.STREAM_DESERIALIZATION, 'in/0@1');
  assert.match(thrown.message, /no time in this one/);
  await expectCode(input.pipe('k', 2), ErrorCode.STREAM_INVALID_TIMESTAMP, 'in/0@2');
  assert.deepEqual(driver.output('out', codecs).readValues(), [10]);
});
