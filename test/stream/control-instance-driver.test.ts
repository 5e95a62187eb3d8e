/**
 * The instance-level control listener (`builder.control(topic, { perInstance })`) in the test
 * driver: one listener per instance that hears every control record, with or without tasks and
 * before the tasks do; an async listener holds data back; its failures follow the processing
 * policy; a control stream with only a listener needs no connect().
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { DeadLetterHeader, topology, TopologyTestDriver, type ConnectedProcessor, type ErrorPolicyOptions, type ProcessorContext } from '../../src/stream/index.ts';
import { bytes, expectCode, text } from '../helpers.ts';

type Model = { readonly version: number };
const key = stringCodec;
const num = jsonCodec<number>();
const model = jsonCodec<Model>();

/**
 * Data `in` (2 partitions) connected to control `models`; the instance listener keeps the latest
 * version per key in `registry` (a version < 0 makes it throw; with `slow`, it resolves on the next
 * turn) and every event goes to `events`. Each data record is tagged with the registry's version.
 */
function app(options: { errors?: ErrorPolicyOptions; slow?: boolean } = {}) {
  const events: string[] = [];
  const registry = new Map<string, number>();
  let listeners = 0;
  const b = topology(options.errors === undefined ? {} : { errors: options.errors });
  const models = b.control('models', {
    key,
    value: model,
    perInstance: () => {
      listeners++;
      return (r) => {
        if (r.value.version < 0) throw new Error(`bad version ${r.value.version}`);
        const apply = (): void => {
          registry.set(r.key, r.value.version);
          events.push(`instance:${r.key}${r.value.version}`);
        };
        if (options.slow !== true) return apply();
        return new Promise<void>((resolve) => setImmediate(resolve)).then(apply);
      };
    },
  });
  b.stream('in', { key, value: num })
    .connect(models, (): ConnectedProcessor<string, number, string, Model, string, number> => {
      let ctx: ProcessorContext<string, number>;
      return {
        init: (context) => void (ctx = context),
        control: (r) => void events.push(`${ctx.taskId}:${r.key}${r.value.version}`),
        process: (r) => ctx.forward({ ...r, value: registry.get(r.key) ?? -1 }),
      };
    })
    .to('out', { key, value: num });
  const driver = new TopologyTestDriver(b.build(), { partitions: { in: 2 } });
  return { driver, events, registry, listeners: () => listeners, control: driver.input<string, Model>('models'), data: driver.input<string, number>('in'), out: driver.output('out', { key, value: num }) };
}

test('the listener hears every control record while no task exists, then before the tasks; one listener per instance', async () => {
  const { events, registry, listeners, control, data, out } = app();
  await control.pipe('m', { version: 1 });
  await control.pipe('m', { version: 2 });
  assert.deepEqual(events, ['instance:m1', 'instance:m2'], 'no task yet: only the instance hears them');
  assert.equal(registry.get('m'), 2);
  await data.pipe('m', 0, { partition: 0 });
  await data.pipe('m', 0, { partition: 1 });
  assert.deepEqual(out.readValues(), [2, 2]);
  events.length = 0;
  await control.pipe('m', { version: 3 });
  assert.deepEqual(events, ['instance:m3', 'in-0:m3', 'in-1:m3'], 'the instance first, then each task');
  assert.equal(listeners(), 1);
});

test('an async listener holds back the data records after its control record until it settles', async () => {
  const { control, data, out } = app({ slow: true });
  await data.pipe('m', 0);
  await control.pipe('m', { version: 1 });
  await data.pipe('m', 0);
  assert.deepEqual(out.readValues(), [-1, 1]);
});

test("a failing listener follows the processing policy: 'fail' names the record, 'skip' counts, 'dead-letter' sends the control record once", async () => {
  {
    const { control } = app();
    await control.pipe('m', { version: 1 });
    await expectCode(control.pipe('m', { version: -1 }), ErrorCode.STREAM_PROCESSING, 'models/0@1', 'bad version -1');
  }
  {
    const { driver, events, control, data } = app({ errors: { onError: 'skip' } });
    await data.pipe('m', 0);
    await control.pipe('m', { version: -1 });
    await control.pipe('m', { version: 4 });
    assert.deepEqual(events, ['in-0:m-1', 'instance:m4', 'in-0:m4'], 'the tasks still get a record the listener failed on');
    assert.deepEqual(driver.controlMetrics(), [{ topic: 'models', recordsIn: 2, errors: 1, skipped: 1, deadLettered: 0, keys: 1 }]);
  }
  {
    const { driver, control } = app({ errors: { onError: 'dead-letter', deadLetterTopic: 'dlq' } });
    await control.pipe('m', { version: -2 });
    const dead = driver.records('dlq');
    assert.equal(dead.length, 1);
    assert.deepEqual(JSON.parse(text(dead[0]!.value)), { version: -2 });
    assert.equal(text(dead[0]!.headers[DeadLetterHeader.errorCode]!), ErrorCode.STREAM_PROCESSING);
    assert.equal(text(dead[0]!.headers[DeadLetterHeader.sourceTopic]!), 'models');
    assert.equal(driver.controlMetrics()[0]!.deadLettered, 1);
  }
});

test('a control stream with only a listener needs no connect(); one with neither is refused', async () => {
  const seen: number[] = [];
  const b = topology();
  b.control('settings', { value: num, perInstance: () => (r) => void seen.push(r.value) });
  b.stream('in', { key, value: num }).to('out');
  const driver = new TopologyTestDriver(b.build());
  await driver.input<Uint8Array, number>('settings').pipe(bytes('k'), 7);
  assert.deepEqual(seen, [7]);

  const unused = topology();
  unused.control('settings');
  unused.stream('in', { key, value: num }).to('out');
  await expectCode(() => unused.build(), ErrorCode.STREAM_INVALID_TOPOLOGY, "'settings'", 'perInstance');
  await expectCode(() => topology().control('x', { perInstance: 'no' as never }), ErrorCode.STREAM_INVALID_TOPOLOGY, 'perInstance');
});
