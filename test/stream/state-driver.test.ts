/** State stores, aggregations and tables in the test driver. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { topology, TopologyTestDriver, type KeyValueStore, type ProcessorContext } from '../../src/stream/index.ts';
import { expectCode } from '../helpers.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const codecs = { key, value: num } as const;

test('process() with a declared store: reads and writes, changelog records, state-size metric', async () => {
  const b = topology();
  b.addStore({ name: 'sums', key, value: num });
  b.stream('in', codecs)
    .process<string, number>(
      () => {
        let ctx: ProcessorContext<string, number>;
        let sums: KeyValueStore<string, number>;
        return {
          init(c) {
            ctx = c;
            sums = c.getStore<string, number>('sums');
          },
          process(r) {
            const total = (sums.get(r.key) ?? 0) + r.value;
            if (total > 100) sums.delete(r.key);
            else sums.put(r.key, total);
            return ctx.forward({ ...r, value: total });
          },
        };
      },
      { stores: ['sums'] },
    )
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build(), { partitions: { in: 2 } });
  const input = driver.input<string, number>('in');
  await input.pipe('a', 1);
  await input.pipe('b', 10);
  await input.pipe('a', 2);
  assert.deepEqual(driver.output('out', codecs).readValues(), [1, 10, 3]);
  assert.equal(driver.store('sums').get('a'), 3);
  assert.equal(driver.store('sums').get('b'), 10);
  assert.equal(driver.store('sums').size, 2);
  await input.pipe('a', 200);
  assert.equal(driver.store('sums').get('a'), undefined);
  const changelog = driver.records('test-app-sums-changelog');
  assert.equal(changelog.length, 4, 'one changelog record per write (3 puts, 1 delete)');
  assert.equal(changelog.at(-1)!.value.length, 0, 'a delete is a tombstone');
  assert.ok(changelog.at(-1)!.headers['sluice.tombstone'] !== undefined);
  for (const r of changelog) assert.equal(r.partition, changelog.find((c) => c.key !== null && Buffer.from(c.key).equals(Buffer.from(r.key!)))!.partition);
  const sizes = driver.metrics().map((m) => m.stateEntries.sums ?? 0);
  assert.equal(sizes.reduce((a, n) => a + n, 0), 1);
});

test('a processor cannot use a store it did not declare; undeclared store names fail at build', async () => {
  const b = topology();
  b.addStore({ name: 's', key, value: num });
  b.stream('in', codecs).process(() => ({
    process() {},
    init(c) {
      c.getStore('s');
    },
  }));
  await expectCode(async () => {
    const driver = new TopologyTestDriver(b.build());
    await driver.input('in').pipe('a', 1);
  }, 'SLUICE_STREAM_PROCESSING');
  const c = topology();
  c.stream('in', codecs).process(() => ({ process() {} }), { stores: ['missing'] });
  await expectCode(() => c.build(), 'SLUICE_STREAM_INVALID_TOPOLOGY');
  const d = topology();
  d.addStore({ name: 'shared', key, value: num });
  d.stream('x', codecs).process(() => ({ process() {} }), { stores: ['shared'] });
  d.stream('y', codecs).process(() => ({ process() {} }), { stores: ['shared'] });
  await expectCode(() => d.build(), 'SLUICE_STREAM_INVALID_TOPOLOGY');
});

test('maxEntries bounds a store: a new key beyond it is a processing error handled by the policy', async () => {
  const b = topology({ errors: { onError: 'skip' } });
  b.stream('in', codecs).groupByKey().count({ name: 'c', maxEntries: 2 }).toStream().to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  for (const k of ['a', 'b', 'c', 'a']) await driver.input('in').pipe(k, 0);
  assert.deepEqual(driver.output('out', codecs).readKeyValues(), [
    { key: 'a', value: 1 },
    { key: 'b', value: 1 },
    { key: 'a', value: 2 },
  ]);
  assert.equal(driver.metrics()[0]!.skipped, 1);
});

test("encodeChangelog: 'commit' logs the value the store holds at the commit, encoded once per key; 'put' (default) encodes at put()", async () => {
  interface Counter {
    n: number;
  }
  const counting = [
    { key: 'a', value: 1 },
    { key: 'a', value: 2 },
    { key: 'b', value: 5 },
  ];
  const run = async (encodeChangelog: 'put' | 'commit' | undefined, records = counting) => {
    let encodes = 0;
    const counterCodec = {
      name: 'counter',
      encode(c: Counter) {
        encodes++;
        if (c.n < 0) throw new Error(`negative count ${c.n}`);
        return num.encode(c.n);
      },
      decode: (bytes: Uint8Array): Counter => ({ n: num.decode(bytes) }),
    };
    const b = topology({ errors: { onError: 'skip' } });
    b.addStore({ name: 'counters', key, value: counterCodec, ...(encodeChangelog === undefined ? {} : { encodeChangelog }) });
    b.stream('in', codecs).process<string, number>(
      () => {
        let counters: KeyValueStore<string, Counter>;
        return {
          init(c) {
            counters = c.getStore<string, Counter>('counters');
          },
          process(r) {
            const c = counters.get(r.key) ?? { n: 0 };
            c.n += r.value;
            counters.put(r.key, c); // put, then changed in place before the commit
            c.n += 1000;
          },
        };
      },
      { stores: ['counters'] },
    );
    const driver = new TopologyTestDriver(b.build());
    await driver.input<string, number>('in').pipeAll(records);
    const logged = driver.records('test-app-counters-changelog').map((r) => [stringCodec.decode(r.key!), num.decode(r.value)]);
    return { driver, logged, encodes };
  };
  const atPut = await run(undefined);
  assert.deepEqual(atPut.logged, [['a', 1003], ['b', 5]], 'put: the value as it was at its last put() in the batch');
  assert.equal(atPut.encodes, 3, 'put: one encode per put()');
  const atCommit = await run('commit');
  assert.deepEqual(atCommit.logged, [['a', 2003], ['b', 1005]], 'commit: the value the store holds at the commit');
  assert.equal(atCommit.encodes, 2, 'commit: one encode per key and commit');
  await atCommit.driver.restartTasks();
  await atCommit.driver.input<string, number>('in').pipe('a', 0);
  assert.deepEqual(
    atCommit.driver.records('test-app-counters-changelog').map((r) => num.decode(r.value)).at(-1),
    3003,
    'restored from the changelog: 2003, then + 0 + 1000',
  );
  // A value the codec rejects (a negative count): at put() the record fails (handled by the error
  // policy, here skip); at the commit it stops processing with the codec's error.
  const negative = [{ key: 'a', value: -5000 }];
  assert.equal((await run('put', negative)).driver.metrics()[0]!.skipped, 1);
  await assert.rejects(() => run('commit', negative), /negative count -4000/);
  assert.throws(() => topology().addStore({ name: 'x', key, value: num, encodeChangelog: 'later' as never }), /encodeChangelog must be 'put' or 'commit'/);
});

test('groupByKey().count(), reduce() and aggregate() emit one update per record', async () => {
  const b = topology();
  const grouped = b.stream('in', codecs).groupByKey();
  grouped.count({ name: 'counts' }).toStream().to('counts', codecs);
  grouped.reduce((a, v) => Math.max(a, v), { name: 'max' }).toStream().to('max', codecs);
  const stats = jsonCodec<{ n: number; sum: number }>();
  grouped
    .aggregate(() => ({ n: 0, sum: 0 }), (agg, v) => ({ n: agg.n + 1, sum: agg.sum + v }), { value: stats, name: 'stats' })
    .toStream()
    .mapValues((s) => s.sum / s.n)
    .to('avg', codecs);
  const driver = new TopologyTestDriver(b.build(), { partitions: { in: 3 } });
  for (const [k, v] of [['a', 5], ['b', 1], ['a', 9], ['a', 1], ['b', 3]] as const) await driver.input('in').pipe(k, v);
  assert.deepEqual(driver.output('counts', codecs).readKeyValues().map((r) => `${r.key}=${r.value}`), ['a=1', 'b=1', 'a=2', 'a=3', 'b=2']);
  assert.deepEqual(driver.output('max', codecs).readValues(), [5, 1, 9, 9, 3]);
  assert.deepEqual(driver.output('avg', codecs).readValues(), [5, 1, 7, 5, 2]);
  assert.equal(driver.store('counts').get('a'), 3);
  assert.deepEqual(driver.store('stats').get('b'), { n: 2, sum: 4 });
});

test('groupBy(keyFn) repartitions through an internal topic before counting', async () => {
  const b = topology();
  const words = b.stream('lines', { key, value: stringCodec }).flatMap((r) => r.value.split(' ').map((w) => ({ key: w, value: w })));
  words.groupBy((r) => r.value.toUpperCase(), { key, value: stringCodec }).count({ name: 'words' }).toStream().to('out', codecs);
  const topo = b.build();
  assert.ok(topo.describe().includes('repartition'));
  const driver = new TopologyTestDriver(topo, { partitions: { lines: 2, 'test-app-repartition-2-repartition': 4 } });
  await driver.input('lines').pipe('l1', 'a b a');
  await driver.input('lines').pipe('l2', 'b c');
  const last = new Map(driver.output('out', codecs).readKeyValues().map((r) => [r.key, r.value]));
  assert.deepEqual(Object.fromEntries(last), { A: 2, B: 2, C: 1 });
  assert.equal(driver.store('words').get('B'), 2);
});

test('groupByKey after a key change without codecs names the missing codec', async () => {
  const b = topology();
  await expectCode(() => b.stream('in', codecs).map((r) => ({ key: r.value, value: r.key })).groupByKey(), 'SLUICE_STREAM_INVALID_TOPOLOGY');
});

test('stream–table join and leftJoin: the table is the latest value per key, updates apply to later records', async () => {
  const b = topology();
  const names = b.table('names', { key, value: stringCodec });
  const events = b.stream('events', codecs);
  events.join(names, (v, name) => `${name}:${v}`).to('joined', { key, value: stringCodec });
  events.leftJoin(names, (v, name) => `${name ?? '?'}:${v}`).to('left', { key, value: stringCodec });
  const driver = new TopologyTestDriver(b.build(), { partitions: { names: 2, events: 2 } });
  const table = driver.input<string, string>('names');
  await table.pipe('d1', 'pump');
  await driver.input('events').pipe('d1', 1);
  await driver.input('events').pipe('d2', 2);
  await table.pipe('d2', 'fan');
  await table.pipe('d1', 'PUMP');
  await driver.input('events').pipe('d2', 3);
  await driver.input('events').pipe('d1', 4);
  assert.deepEqual(driver.output('joined', { key, value: stringCodec }).readValues(), ['pump:1', 'fan:3', 'PUMP:4']);
  assert.deepEqual(driver.output('left', { key, value: stringCodec }).readValues(), ['pump:1', '?:2', 'fan:3', 'PUMP:4']);
  assert.equal(driver.store('names-table').get('d1'), 'PUMP');
  await expectCode(() => driver.store<string, string>('names-table').put('x', 'y'), 'SLUICE_INVALID_ARGUMENT');
});

test('a join after a key change repartitions the stream; options.key is for global tables only', async () => {
  const b = topology();
  const names = b.table('names', { key, value: stringCodec });
  b.stream('events', codecs)
    .selectKey((r) => r.key.toLowerCase())
    .join(names, (v, name) => `${name}:${v}`)
    .to('out', { key, value: stringCodec });
  await expectCode(() => b.stream('other', codecs).join(names, (v) => v, { key: (r) => r.key }), 'SLUICE_STREAM_INVALID_TOPOLOGY');
  const topo = b.build();
  assert.ok(topo.sources().some((s) => s.topic.internal));
  const driver = new TopologyTestDriver(topo);
  await driver.input<string, string>('names').pipe('d1', 'pump');
  await driver.input('events').pipe('D1', 7);
  assert.deepEqual(driver.output('out', { key, value: stringCodec }).readKeyValues(), [{ key: 'd1', value: 'pump:7' }]);
});

test('global table: every partition is visible to every task; looked up by a key from the record', async () => {
  const b = topology();
  const models = b.globalTable('models', { key, value: jsonCodec<{ threshold: number }>() });
  b.stream('telemetry', { key, value: jsonCodec<{ model: string; x: number }>() })
    .join(models, (v, m) => v.x > m.threshold, { key: (r) => r.value.model })
    .to('anomalies', { key, value: jsonCodec<boolean>() });
  const driver = new TopologyTestDriver(b.build(), { partitions: { models: 3, telemetry: 4 } });
  const m = driver.input<string, { threshold: number }>('models');
  await m.pipe('m1', { threshold: 10 });
  await m.pipe('m2', { threshold: 100 });
  assert.deepEqual(driver.store('models-global').get('m2'), { threshold: 100 });
  const t = driver.input<string, { model: string; x: number }>('telemetry');
  for (const [dev, model, x] of [['d1', 'm1', 50], ['d2', 'm2', 50], ['d3', 'm3', 50], ['d4', 'm1', 5]] as const) await t.pipe(dev, { model, x });
  await m.pipe('m2', { threshold: 1 });
  await t.pipe('d2', { model: 'm2', x: 50 });
  assert.deepEqual(driver.output('anomalies', { key, value: jsonCodec<boolean>() }).readKeyValues(), [
    { key: 'd1', value: true },
    { key: 'd2', value: false },
    { key: 'd4', value: false },
    { key: 'd2', value: true },
  ]);
});

test('toStream() of a table read from a topic is refused with a pointer to stream()', async () => {
  const b = topology();
  await expectCode(() => b.table('t', codecs).toStream(), 'SLUICE_STREAM_INVALID_TOPOLOGY');
  await expectCode(() => b.addStore({ name: 'bad name', key, value: num }), 'SLUICE_STREAM_INVALID_TOPOLOGY');
});
