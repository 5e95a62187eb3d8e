/**
 * Control streams through the test driver: ordering relative to data records, every task seeing
 * every control record, replay of the current control state to tasks created later, error
 * policies on bad control records and failing control(), async control(), describe() and
 * validation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import {
  DeadLetterHeader,
  topology,
  TopologyTestDriver,
  type ConnectedProcessor,
  type ErrorPolicyOptions,
  type ProcessorContext,
  type StreamRecord,
} from '../../src/stream/index.ts';
import { bytes, expectCode, text } from '../helpers.ts';

type Model = { readonly version: number };
type Scored = { readonly value: number; readonly model: string; readonly version: number | null; readonly task: string };
const key = stringCodec;
const num = jsonCodec<number>();
const model = jsonCodec<Model>();
const scored = jsonCodec<Scored>();

/** One control record as a task saw it. */
interface Applied {
  readonly task: string;
  readonly key: string;
  readonly version: number;
}

/**
 * data `in` (value: a number, key: which model scores it) connected to control `models`: each task
 * keeps the latest version per model and tags every data record with the version that scored it.
 * Every control() call is logged to `applied`; a version < 0 makes control() throw.
 */
function scorer(options: { errors?: ErrorPolicyOptions; partitions?: number; async?: boolean } = {}) {
  const applied: Applied[] = [];
  const b = topology(options.errors === undefined ? {} : { errors: options.errors });
  const models = b.control('models', { key, value: model });
  b.stream('in', { key, value: num })
    .connect(
      models,
      (): ConnectedProcessor<string, number, string, Model, string, Scored> => {
        const versions = new Map<string, number>();
        let ctx: ProcessorContext<string, Scored>;
        const apply = (r: StreamRecord<string, Model>): void => {
          if (r.value.version < 0) throw new Error(`bad version ${r.value.version}`);
          applied.push({ task: ctx.taskId, key: r.key, version: r.value.version });
          versions.set(r.key, r.value.version);
        };
        return {
          init(context) {
            ctx = context;
          },
          control(r) {
            if (options.async === true) return new Promise<void>((resolve) => setImmediate(resolve)).then(() => apply(r));
            apply(r);
            return undefined;
          },
          process(r) {
            return ctx.forward({ ...r, value: { value: r.value, model: r.key, version: versions.get(r.key) ?? null, task: ctx.taskId } });
          },
        };
      },
      { name: 'score' },
    )
    .to('out', { key, value: scored });
  const app = b.build();
  const driver = new TopologyTestDriver(app, { partitions: { in: options.partitions ?? 1 } });
  return { app, driver, applied, data: driver.input<string, number>('in'), control: driver.input<string, Model>('models'), out: driver.output('out', { key, value: scored }) };
}

test('a control record applies to data records piped after it, never to those before it', async () => {
  const { driver, data, control, out } = scorer();
  await data.pipe('m', 1);
  await control.pipe('m', { version: 1 });
  await data.pipe('m', 2);
  await control.pipe('m', { version: 2 });
  await data.pipeAll([3, 4].map((value) => ({ key: 'm', value })));
  assert.deepEqual(out.readValues().map((s) => [s.value, s.version]), [[1, null], [2, 1], [3, 2], [4, 2]]);
  // One pipeRaw call with data, control, data: the control record splits it in pipe order.
  await driver.pipeRaw([
    { topic: 'in', key: bytes('m'), value: bytes('5') },
    { topic: 'models', key: bytes('m'), value: bytes('{"version":3}') },
    { topic: 'in', key: bytes('m'), value: bytes('6') },
  ]);
  assert.deepEqual(out.readValues().map((s) => [s.value, s.version]), [[5, 2], [6, 3]]);
});

test('every task applies every control record, in control-topic order', async () => {
  const { driver, applied, data, control, out } = scorer({ partitions: 3 });
  // Keys that land on each of the 3 partitions, so that three tasks exist.
  const keys = Array.from({ length: 30 }, (_, i) => `m${i}`);
  await data.pipeAll(keys.map((k) => ({ key: k, value: 0 })));
  const tasks = new Set(out.readValues().map((s) => s.task));
  assert.equal(tasks.size, 3);
  for (let v = 1; v <= 4; v++) await control.pipe(v % 2 === 0 ? 'a' : 'b', { version: v });
  for (const task of tasks) {
    assert.deepEqual(applied.filter((a) => a.task === task).map((a) => `${a.key}${a.version}`), ['b1', 'a2', 'b3', 'a4'], `task ${task}`);
  }
  for (const m of driver.metrics()) assert.equal(m.controlRecords, 4);
  assert.deepEqual(driver.controlMetrics(), [{ topic: 'models', recordsIn: 4, errors: 0, skipped: 0, deadLettered: 0, keys: 2 }]);
});

test('a task created later is replayed the latest record per key, in the order they were read, before its first data record', async () => {
  const { driver, applied, data, control, out } = scorer({ partitions: 2 });
  await control.pipe('a', { version: 1 });
  await control.pipe('b', { version: 1 });
  await control.pipe('a', { version: 2 });
  assert.equal(applied.length, 0, 'no task yet');
  await data.pipe('a', 10, { partition: 1 });
  assert.deepEqual(applied.map((a) => `${a.task}:${a.key}${a.version}`), ['in-1:b1', 'in-1:a2']);
  assert.deepEqual(out.readValues().map((s) => s.version), [2]);
  // A restart (crash, move, restore) replays the current state again to the new task.
  await control.pipe('b', { version: 3 });
  await driver.restartTasks();
  applied.length = 0;
  await data.pipe('b', 11, { partition: 1 });
  await data.pipe('a', 12, { partition: 0 });
  assert.deepEqual(applied.map((a) => `${a.task}:${a.key}${a.version}`), ['in-1:a2', 'in-1:b3', 'in-0:a2', 'in-0:b3']);
  assert.deepEqual(out.readValues().map((s) => [s.value, s.version]), [[11, 3], [12, 2]]);
  assert.equal(driver.controlMetrics()[0]!.keys, 2);
});

test('an async control() holds back the data records after it until it settles', async () => {
  const { data, control, out } = scorer({ async: true });
  await control.pipe('m', { version: 1 });
  await data.pipeAll([1, 2].map((value) => ({ key: 'm', value })));
  await control.pipe('m', { version: 2 });
  await data.pipe('m', 3);
  assert.deepEqual(out.readValues().map((s) => [s.value, s.version]), [[1, 1], [2, 1], [3, 2]]);
});

test("undecodable control records: 'fail' names topic, partition and offset; 'skip' counts; 'dead-letter' sends the original once", async () => {
  {
    const { control } = scorer();
    await control.pipe('m', { version: 1 });
    await expectCode(control.pipeBytes(bytes('m'), bytes('{oops')), ErrorCode.STREAM_DESERIALIZATION, 'models/0@1');
  }
  {
    const { driver, data, control, out } = scorer({ errors: { onError: 'skip' } });
    await data.pipe('m', 1);
    await control.pipe('m', { version: 1 });
    await control.pipeBytes(bytes('m'), bytes('{oops'));
    await data.pipe('m', 2);
    assert.deepEqual(out.readValues().map((s) => s.version), [null, 1]);
    assert.deepEqual(driver.controlMetrics(), [{ topic: 'models', recordsIn: 2, errors: 1, skipped: 1, deadLettered: 0, keys: 1 }]);
  }
  {
    const { driver, data, control } = scorer({ errors: { onError: 'dead-letter', deadLetterTopic: 'dlq' }, partitions: 2 });
    await data.pipe('x', 1, { partition: 0 });
    await data.pipe('y', 1, { partition: 1 });
    await control.pipeBytes(bytes('m'), bytes('{oops'), { headers: { trace: bytes('t1') } });
    const dead = driver.records('dlq');
    assert.equal(dead.length, 1, 'decoded once per instance, so dead-lettered once');
    assert.equal(text(dead[0]!.value), '{oops');
    assert.equal(text(dead[0]!.headers.trace!), 't1');
    assert.equal(text(dead[0]!.headers[DeadLetterHeader.sourceTopic]!), 'models');
    assert.equal(text(dead[0]!.headers[DeadLetterHeader.errorCode]!), ErrorCode.STREAM_DESERIALIZATION);
    assert.equal(driver.controlMetrics()[0]!.deadLettered, 1);
  }
});

test("a throwing control() follows the policy per task: 'fail' stops, 'skip' counts, 'dead-letter' sends the control record", async () => {
  {
    const { data, control } = scorer();
    await data.pipe('m', 1);
    await expectCode(control.pipe('m', { version: -1 }), ErrorCode.STREAM_PROCESSING, "'score'", 'models/0@0', 'bad version -1');
  }
  {
    const { driver, data, control, out } = scorer({ errors: { onError: 'skip' } });
    await data.pipe('m', 1);
    await control.pipe('m', { version: -1 });
    await control.pipe('m', { version: 5 });
    await data.pipe('m', 2);
    assert.deepEqual(out.readValues().map((s) => s.version), [null, 5]);
    const [m] = driver.metrics();
    assert.equal(m!.errors, 1);
    assert.equal(m!.skipped, 1);
    assert.equal(m!.controlRecords, 2);
  }
  {
    const { driver, data, control } = scorer({ errors: { onError: 'dead-letter', deadLetterTopic: 'dlq' }, partitions: 2 });
    await data.pipe('x', 1, { partition: 0 });
    await data.pipe('y', 1, { partition: 1 });
    await control.pipe('m', { version: -7 });
    const dead = driver.records('dlq');
    assert.equal(dead.length, 2, 'each task that failed dead-letters it');
    for (const d of dead) {
      assert.deepEqual(JSON.parse(text(d.value)), { version: -7 });
      assert.equal(text(d.headers[DeadLetterHeader.errorNode]!), 'score');
      assert.equal(text(d.headers[DeadLetterHeader.sourceTopic]!), 'models');
      assert.equal(text(d.headers[DeadLetterHeader.sourceOffset]!), '0');
    }
    assert.deepEqual(driver.metrics().map((m) => m.deadLettered), [1, 1]);
  }
});

test('control() may forward records (they derive from the control record); raw-bytes codecs by default', async () => {
  const b = topology();
  const swaps = b.control({ name: 'swaps', internal: false });
  b.stream('in', { key, value: num })
    .connect(swaps, () => {
      let ctx: ProcessorContext<string, string>;
      return {
        init(context: ProcessorContext<string, string>) {
          ctx = context;
        },
        control(r: StreamRecord<Uint8Array, Uint8Array>) {
          return ctx.forward({ key: text(r.key), value: `swapped to ${text(r.value)} from ${r.origin.topic}@${r.origin.offset}`, timestamp: r.timestamp });
        },
        process() {},
      };
    })
    .to('events', { key, value: stringCodec });
  const driver = new TopologyTestDriver(b.build());
  await driver.input('in').pipe('k', 1);
  await driver.input<Uint8Array, Uint8Array>('swaps').pipe(bytes('m'), bytes('v2'), { timestamp: 500 });
  const events = driver.output('events', { key, value: stringCodec }).readRecords();
  assert.deepEqual(events.map((e) => [e.key, e.value, e.timestamp]), [['m', 'swapped to v2 from swaps@0', 500]]);
});

test('a topic can be both a control stream and a global table: a piped record updates both', async () => {
  const b = topology();
  const models = b.control('models', { key, value: model });
  const table = b.globalTable('models', { key, value: model, store: 'models-table' });
  b.stream('in', { key, value: num })
    .connect(models, () => {
      let ctx: ProcessorContext<string, string>;
      let applied = 0;
      return {
        init(context: ProcessorContext<string, string>) {
          ctx = context;
        },
        control() {
          applied++;
        },
        process(r: StreamRecord<string, number>) {
          return ctx.forward({ ...r, value: `applied ${applied}` });
        },
      };
    })
    .join(table, (v, m) => `${v}, table v${m.version}`)
    .to('out', { key, value: stringCodec });
  const driver = new TopologyTestDriver(b.build());
  await driver.input<string, Model>('models').pipe('m', { version: 9 });
  await driver.input('in').pipe('m', 1);
  assert.deepEqual(driver.output('out', { key, value: stringCodec }).readValues(), ['applied 1, table v9']);
});

test('describe() shows control sources and connected nodes; invalid control wiring is refused', async () => {
  const { app } = scorer();
  const described = app.describe();
  assert.match(described, /control\s+control-0\s+\[models\]\s+--> score/);
  assert.match(described, /connect\s+score\s+control: control-0\s+--> sink-2/);

  const unconnected = topology();
  unconnected.control('models');
  unconnected.stream('in', { key, value: num }).to('out');
  await expectCode(() => unconnected.build(), ErrorCode.STREAM_INVALID_TOPOLOGY, "control stream 'control-0'", 'not connected');

  const twice = topology();
  twice.control('models');
  await expectCode(() => twice.stream('models', { key, value: num }), ErrorCode.STREAM_INVALID_TOPOLOGY, "'models' is a control topic");
  twice.stream('in', { key, value: num });
  await expectCode(() => twice.control('in'), ErrorCode.STREAM_INVALID_TOPOLOGY, "'in' is read by a stream");
  await expectCode(() => twice.control('models'), ErrorCode.STREAM_INVALID_TOPOLOGY, "'models'", 'two control streams');
  await expectCode(() => twice.control({ name: 'x', internal: true }), ErrorCode.STREAM_INVALID_TOPOLOGY, 'internal');

  const other = topology().control('models');
  const b = topology();
  const s = b.stream('in', { key, value: num });
  await expectCode(() => s.connect(other, () => ({ control() {}, process() {} })), ErrorCode.STREAM_INVALID_TOPOLOGY, 'same topology builder');

  const noControl = topology();
  const c = noControl.control('models');
  noControl.stream('in', { key, value: num }).connect(c, () => ({ process() {} }) as unknown as ConnectedProcessor<string, number, Uint8Array, Uint8Array, never, never>);
  const driver = new TopologyTestDriver(noControl.build());
  await expectCode(driver.input('in').pipe('k', 1), ErrorCode.STREAM_INVALID_TOPOLOGY, 'control(record)');
});
