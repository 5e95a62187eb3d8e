/** State stores on the embedded log: changelogs, restore on restart and on rebalance, tables, global tables. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { Log, LogRecord } from '../../src/log/types.ts';
import { run, topology, type Topology } from '../../src/stream/index.ts';
import { bytes, eventually, expectCode, text } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const codecs = { key, value: num } as const;
const KEYS = Array.from({ length: 10 }, (_, i) => `dev-${i}`);
const once = () => KEYS.map((k) => ({ topic: 'in', key: bytes(k), value: bytes('1') }));
const fast = { pollTimeoutMs: 20, heartbeatIntervalMs: 50 } as const;

function counting(): Topology {
  const b = topology();
  b.stream('in', codecs).groupByKey().count({ name: 'counts' }).toStream().to('out', codecs);
  return b.build();
}

/** Per key, the counts emitted in order. */
function countsByKey(records: readonly LogRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const k = text(r.key!);
    out.set(k, [...(out.get(k) ?? []), Number(text(r.value))]);
  }
  return out;
}

async function setup(log: Log): Promise<void> {
  await createTopics(log, { in: 4, out: 4 });
}

test('counts continue after the application stops and a new one starts (restore from the changelog)', async (t) => {
  const log = await freshLog(t);
  await setup(log);
  const topo = counting();
  const options = { log, applicationId: 'counter', ...fast } as const;
  const first = await run(topo, options);
  t.after(() => first.close());
  await produce(log, [...once(), ...once(), ...once()]);
  await readTopic(log, 'out', 30);
  const entries = () => first.metrics().tasks.reduce((n, m) => n + (m.stateEntries.counts ?? 0), 0);
  await eventually(() => entries() === 10, { message: 'state size metric counts 10 keys' });
  await first.close();

  const { config } = await log.admin.describeTopic('counter-counts-changelog');
  assert.equal(config.cleanupPolicy, 'compact');
  assert.equal(config.partitions, 4);

  const second = await run(topo, options);
  t.after(() => second.close());
  await produce(log, once());
  const out = await readTopic(log, 'out', 40);
  for (const k of KEYS) assert.deepEqual(countsByKey(out).get(k), [1, 2, 3, 4], `counts of ${k}`);
  await second.close();
});

test('with two instances, tasks that move carry their counts', async (t) => {
  const log = await freshLog(t);
  await setup(log);
  const topo = counting();
  const options = { log, applicationId: 'counter2', ...fast } as const;
  const a = await run(topo, options);
  t.after(() => a.close());
  await eventually(() => a.taskIds().length === 4, { message: 'A owns all tasks' });
  await produce(log, [...once(), ...once()]);
  await readTopic(log, 'out', 20);

  const b = await run(topo, options);
  t.after(() => b.close());
  await eventually(() => a.taskIds().length === 2 && b.taskIds().length === 2, { message: 'tasks split 2/2' });
  await produce(log, once());
  await readTopic(log, 'out', 30);
  assert.ok(b.metrics().tasks.some((m) => (m.stateEntries.counts ?? 0) > 0), 'B restored state for its tasks');

  await b.close();
  await eventually(() => a.taskIds().length === 4, { message: 'tasks move back to A' });
  await produce(log, once());
  const out = await readTopic(log, 'out', 40);
  for (const k of KEYS) assert.deepEqual(countsByKey(out).get(k), [1, 2, 3, 4], `counts of ${k}`);
  await a.close();
});

test('stream–table join on the log: table restored at start and kept up to date; co-partitioning checked', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { names: 2, events: 2, joined: 1, wide: 3 });
  const b = topology();
  const names = b.table('names', { key, value: stringCodec });
  b.stream('events', codecs)
    .join(names, (v, name) => `${name}:${v}`)
    .to('joined', { key, value: stringCodec });
  const topo = b.build();
  await produce(log, [
    { topic: 'names', key: bytes('d1'), value: bytes('pump') },
    { topic: 'names', key: bytes('d2'), value: bytes('fan') },
  ]);
  const app = await run(topo, { log, applicationId: 'joiner', ...fast });
  t.after(() => app.close());
  await produce(log, [
    { topic: 'events', key: bytes('d1'), value: bytes('1') },
    { topic: 'events', key: bytes('d2'), value: bytes('2') },
    { topic: 'events', key: bytes('d3'), value: bytes('3') },
  ]);
  const first = await readTopic(log, 'joined', 2);
  assert.deepEqual(first.map((r) => text(r.value)).sort(), ['fan:2', 'pump:1']);
  await produce(log, [{ topic: 'names', key: bytes('d3'), value: bytes('valve') }]);
  await eventually(async () => {
    await produce(log, [{ topic: 'events', key: bytes('d3'), value: bytes('4') }]);
    const all = await readTopic(log, 'joined', 3);
    return all.some((r) => text(r.value) === 'valve:4');
  }, { message: 'a table update reaches the join' });
  await app.close();

  const bad = topology();
  bad.stream('wide', codecs).join(bad.table('names', { key, value: stringCodec }), (v) => v).to('joined', codecs);
  await expectCode(run(bad.build(), { log, applicationId: 'bad-join', ...fast }), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'co-partitioned', 'repartition');
});

test('global table on the log: all partitions on every instance, updates followed', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { models: 3, telemetry: 2, scored: 1 });
  await produce(log, ['m1', 'm2', 'm3', 'm4'].map((m, i) => ({ topic: 'models', key: bytes(m), value: bytes(String((i + 1) * 10)) })));
  const b = topology();
  const models = b.globalTable('models', { key, value: num });
  b.stream('telemetry', { key, value: jsonCodec<{ model: string; x: number }>() })
    .join(models, (v, threshold) => v.x > threshold, { key: (r) => r.value.model })
    .to('scored', { key, value: jsonCodec<boolean>() });
  const app = await run(b.build(), { log, applicationId: 'scorer', ...fast });
  t.after(() => app.close());
  const tel = (dev: string, model: string, x: number) => ({ topic: 'telemetry', key: bytes(dev), value: bytes(JSON.stringify({ model, x })) });
  await produce(log, [tel('a', 'm1', 15), tel('b', 'm4', 15), tel('c', 'm9', 15)]);
  const out = await readTopic(log, 'scored', 2);
  assert.deepEqual(out.map((r) => `${text(r.key!)}=${text(r.value)}`).sort(), ['a=true', 'b=false']);
  await produce(log, [{ topic: 'models', key: bytes('m4'), value: bytes('1') }]);
  await eventually(async () => {
    await produce(log, [tel('b', 'm4', 15)]);
    const all = await readTopic(log, 'scored', 3);
    return all.some((r) => text(r.key!) === 'b' && text(r.value) === 'true');
  }, { message: 'the model update reaches the join' });
  await app.close();
});
