/**
 * The model manager on its own: loading, version rules, rollbacks, shadows, rejections (each with
 * its reason, a log line and a counter, the served model unchanged), loads off the hot path, and
 * taking each models-topic record once however many tasks hand it over.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ModelDescriptor, ModelStore } from '../../src/model/index.ts';
import { ManualClock } from '../../src/stream/index.ts';
import { memoryLogger, ModelManager, type LogLine } from '../../src/serving/index.ts';
import { ServingCounters } from '../../src/serving/counters.ts';
import { eventually } from '../helpers.ts';
import { counterDescriptor, gatedOnnxFactory, modelRecord, NAN_KIND, onnxDescriptor, tempStore, testRegistry, THROW_KIND } from './helpers.ts';

async function setup(t: TestContext, registry = testRegistry(), loadTimeoutMs = 60_000) {
  const store = await tempStore(t, registry);
  const logger = memoryLogger();
  const counters = new ServingCounters();
  const manager = new ModelManager({ store, registry, maxPayloadBytes: 1 << 20, decider: {}, probeRecords: 16, loadTimeoutMs, clock: new ManualClock(1_000), logger, counters });
  const versions = (): Record<string, number> => Object.fromEntries([...manager.table.live.values()].map((m) => [m.name, m.version]));
  const logged = (msg: string): LogLine[] => logger.lines.filter((l) => l.msg === msg);
  return { store, logger, counters, manager, versions, logged };
}

async function offerAll(manager: ModelManager, records: Parameters<ModelManager['offer']>[0][]): Promise<void> {
  for (const r of records) manager.offer(r);
  await manager.settled();
}

test('a descriptor is loaded, probed and swapped in; the table changes whole, with a log line', async (t) => {
  const { manager, counters, versions, logged } = await setup(t);
  const before = manager.table;
  await offerAll(manager, [modelRecord(counterDescriptor('default', 1), 0)]);
  assert.deepEqual(versions(), { default: 1 });
  assert.notEqual(manager.table, before);
  assert.ok(manager.table.generation > before.generation);
  assert.equal(counters.swaps.get('default'), 1);
  const [line] = logged('model swapped');
  assert.equal(line?.fields.name, 'default');
  assert.equal(line?.fields.version, 1);
  assert.equal(line?.fields.offset, 0);
  assert.equal(manager.table.live.get('default')?.since, 1_000);
});

test('only newer versions are taken; an older one is ignored and counted; the same one again is a no-op', async (t) => {
  const { manager, counters, versions, logged } = await setup(t);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 2), 0), modelRecord(counterDescriptor('default', 1), 1), modelRecord(counterDescriptor('default', 2), 2)]);
  assert.deepEqual(versions(), { default: 2 });
  assert.equal(counters.ignored['not-newer'], 1);
  assert.equal(counters.swaps.get('default'), 1);
  assert.equal(logged('model ignored')[0]?.fields.version, 1);
});

test('a rollback is taken although its version is lower', async (t) => {
  const { manager, versions } = await setup(t);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 1), 0), modelRecord(counterDescriptor('default', 2), 1), modelRecord(counterDescriptor('default', 1), 2, { rollback: true })]);
  assert.deepEqual(versions(), { default: 1 });
  const live = manager.table.live.get('default')!;
  assert.equal(live.rollback, true);
  assert.deepEqual(manager.retired.map((m) => m.version), [1, 2]);
  // After the rollback, a newer version (e.g. a retrained one) takes over as usual.
  await offerAll(manager, [modelRecord(counterDescriptor('default', 3), 3)]);
  assert.deepEqual(versions(), { default: 3 });
});

test('each models-topic record is taken once, however many tasks hand it over (and replays of older ones)', async (t) => {
  const { manager, counters } = await setup(t);
  const r1 = modelRecord(counterDescriptor('default', 1), 0);
  const r2 = modelRecord(counterDescriptor('default', 2), 1);
  await offerAll(manager, [r1, r1, r2, r1, r2, r2]);
  assert.equal(counters.swaps.get('default'), 2);
  assert.equal(counters.ignored['not-newer'], 0);
});

test('shadows: taken only above the live version, retired when the live model reaches them (promoted)', async (t) => {
  const { manager, counters, logged } = await setup(t);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 2), 0), modelRecord(counterDescriptor('default', 2), 1, { shadow: true })]);
  assert.equal(manager.table.shadows.size, 0);
  assert.equal(counters.ignored['shadow-not-newer'], 1);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 3), 2, { shadow: true })]);
  assert.equal(manager.table.shadows.get('default')?.version, 3);
  assert.equal(manager.table.shadows.get('default')?.role, 'shadow');
  assert.equal(manager.table.live.get('default')?.version, 2);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 3), 3)]);
  assert.equal(manager.table.shadows.size, 0);
  assert.equal(manager.table.live.get('default')?.version, 3);
  assert.equal(logged('shadow retired')[0]?.fields.reason, 'promoted');
});

test('bad descriptors are rejected with a reason, a log line and a counter; the served model stays', async (t) => {
  const { manager, counters, versions, logged } = await setup(t);
  await offerAll(manager, [modelRecord(counterDescriptor('default', 1), 0)]);
  const good = counterDescriptor('default', 2);
  const tampered: ModelDescriptor = { ...good, payload: { type: 'json', params: { scale: 5 } } };
  const missing: ModelDescriptor = { ...good, version: 7, payload: { type: 'ref', uri: 'file:default/nowhere.payload', size: 12 } };
  const cases: [string, Parameters<ModelManager['offer']>[0]][] = [
    ['invalid', modelRecord('{"name": "default", "version": ', 1, { key: 'default' })],
    ['invalid', modelRecord({ ...good, version: 0 }, 2)],
    ['checksum', modelRecord(tampered, 3)],
    ['unknown-kind', modelRecord(counterDescriptor('default', 4, { kind: 'no-such-detector' }), 4)],
    ['probe', modelRecord(counterDescriptor('default', 5, { kind: NAN_KIND }), 5)],
    ['probe', modelRecord(counterDescriptor('default', 6, { kind: THROW_KIND }), 6)],
    ['payload-missing', modelRecord(missing, 7)],
    ['key-mismatch', modelRecord(counterDescriptor('default', 8), 8, { key: 'class.pump' })],
  ];
  for (const [reason, record] of cases) {
    const before = counters.rejections[reason as keyof typeof counters.rejections];
    await offerAll(manager, [record]);
    assert.equal(counters.rejections[reason as keyof typeof counters.rejections], before + 1, `a ${reason} rejection is counted`);
    assert.deepEqual(versions(), { default: 1 }, `after a ${reason} rejection the served model stays`);
    const line = logged('model rejected').at(-1)!;
    assert.equal(line.level, 'warn');
    assert.equal(line.fields.reason, reason);
    assert.equal(line.fields.offset, record.origin.offset);
    assert.equal(typeof line.fields.error, 'string');
  }
  assert.match(String(logged('model rejected')[4]?.fields.error), /probe failed in score\(\) of probe record 0: returned NaN/);
  await offerAll(manager, [modelRecord(good, 9)]);
  assert.deepEqual(versions(), { default: 2 });
});

test('a slow load does not hold up the table: other names swap meanwhile, the old version serves until the new one is ready', async (t) => {
  const onnx = gatedOnnxFactory();
  const { manager, versions } = await setup(t, testRegistry([onnx]));
  await offerAll(manager, [modelRecord(counterDescriptor('default', 1), 0)]);
  manager.offer(modelRecord(onnxDescriptor('default', 2), 1));
  manager.offer(modelRecord(counterDescriptor('default', 3), 2));
  manager.offer(modelRecord(counterDescriptor('class.pump', 1), 3));
  await eventually(() => manager.table.live.has('class.pump'), { intervalMs: 1, message: 'class.pump loads' });
  assert.equal(onnx.started, 1, 'the onnx load began');
  assert.deepEqual(versions(), { default: 1, 'class.pump': 1 }, 'default still serves v1 while v2 loads; v3 waits behind it');
  onnx.release();
  await manager.settled();
  assert.deepEqual(versions(), { default: 3, 'class.pump': 1 });
  assert.deepEqual(manager.retired.filter((m) => m.name === 'default').map((m) => m.version), [1, 2], 'v2 served before v3: one name, arrival order');
});

test('while no default model serves, a model of a new name holds data back until it is handled; otherwise nothing waits', async (t) => {
  const onnx = gatedOnnxFactory();
  const { manager, versions } = await setup(t, testRegistry([onnx]));
  const first = modelRecord(onnxDescriptor('class.pump', 1), 0);
  const hold = manager.offer(first);
  assert.ok(hold instanceof Promise, 'a first model: data waits for it');
  assert.equal(manager.offer(first), hold, 'a second task handing over the same record waits for the same load');
  assert.equal(manager.offer(modelRecord(counterDescriptor('class.pump', 2), 1, { shadow: true })), undefined, 'shadows never hold data');
  onnx.release();
  await hold;
  assert.deepEqual(versions(), { 'class.pump': 1 });
  assert.equal(manager.offer(first), undefined, 'handled: nothing to wait for');
  assert.ok(manager.offer(modelRecord(counterDescriptor('default', 1), 2)) instanceof Promise, 'default is new too');
  await manager.settled();
  assert.equal(manager.offer(modelRecord(counterDescriptor('device.d1', 1), 3)), undefined, 'with a default serving, every record has a model: no wait');
  assert.equal(manager.offer(modelRecord(counterDescriptor('default', 2), 4)), undefined, 'an upgrade never holds data: the old version serves');
  await manager.settled();
  assert.deepEqual(versions(), { 'class.pump': 1, default: 2, 'device.d1': 1 });
});

test('a load that never finishes is rejected after loadTimeoutMs; the next descriptor of the name goes on', async (t) => {
  const stuck = gatedOnnxFactory();
  const { manager, counters, versions, logged } = await setup(t, testRegistry([stuck]), 50);
  const hold = manager.offer(modelRecord(onnxDescriptor('default', 1), 0));
  manager.offer(modelRecord(counterDescriptor('default', 2), 1));
  await hold;
  assert.equal(counters.rejections.load, 1);
  assert.match(String(logged('model rejected')[0]?.fields.error), /did not load within 50 ms/);
  await manager.settled();
  assert.deepEqual(versions(), { default: 2 });
});

test('fromStore serves the latest stored version, or a given one', async (t) => {
  const { manager, store, versions } = await setup(t);
  await saveAll(store, [counterDescriptor('default', 1), counterDescriptor('default', 2)]);
  assert.equal(await manager.fromStore('default', undefined, 'live'), true);
  assert.deepEqual(versions(), { default: 2 });
  assert.equal(await manager.fromStore('nothing', undefined, 'live'), false);
  await store.save(counterDescriptor('default', 3));
  assert.equal(await manager.fromStore('default', 3, 'shadow'), true);
  assert.equal(manager.table.shadows.get('default')?.source, 'config');
  assert.equal(manager.table.live.get('default')?.source, 'store');
});

async function saveAll(store: ModelStore, descriptors: readonly ModelDescriptor[]): Promise<void> {
  for (const d of descriptors) await store.save(d);
}

