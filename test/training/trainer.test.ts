/**
 * Training runs end to end on the real embedded log and model store: one model per class (or
 * device, or fleet) with the contract's names and its training range; the evaluation rejects a
 * candidate that cannot detect anything and publishes a good one; versions chain through
 * parentVersion (rollbacks included); every descriptor on the models topic is in the store before
 * it is appended; an empty range publishes nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, SluiceError } from '../../src/errors.ts';
import type { Log, Producer } from '../../src/log/index.ts';
import { loadModelAsync } from '../../src/model/descriptor-load.ts';
import { ModelHeader } from '../../src/model/models-topic.ts';
import { detectorFactories } from '../../src/model/registry.ts';
import type { ModelStore } from '../../src/model/store.ts';
import { ModelStatus, trainOnce, type TrainingOptionsInput } from '../../src/training/index.ts';
import { bytes, expectCode } from '../helpers.ts';
import { START, STEP, readModelsTopic, world } from './setup.ts';

const FAST: TrainingOptionsInput = { detector: 'robust-zscore', worker: false };
const BLIND: TrainingOptionsInput = { ...FAST, hyperparameters: { minObservations: 1_000_000 } };

/** Records per device in the training part, given the defaults' holdout fraction of 0.2. */
const trainPart = (n: number): number => n - Math.ceil(n * 0.2);

test('per class: one model per class named class.<class>, trained on the older part of its devices', async (t) => {
  const w = await world(t, { classes: { pump: ['p1', 'p2', 'p3'], fan: ['f1', 'f2'], '': ['loner'] }, records: 600 });
  const report = await trainOnce({ log: w.log, store: w.store }, FAST);

  assert.deepEqual(report.models.map((m) => [m.name, m.status, m.version]), [
    ['class.fan', ModelStatus.PUBLISHED, 1],
    ['class.pump', ModelStatus.PUBLISHED, 1],
  ]);
  assert.deepEqual(report.skipped.map((s) => [s.name, s.devices, s.records]), [['(no class tag)', 1, 600]]);
  assert.equal(report.read.records, w.telemetry.length);
  assert.equal(report.published, 2);
  for (const [name, devices] of [['class.fan', 2], ['class.pump', 3]] as const) {
    const d = await w.store.get(name, 1);
    const n = trainPart(600);
    assert.deepEqual(d.trainedOn, { from: START, to: START + (n - 1) * STEP, records: devices * n, parentVersion: null });
    assert.deepEqual(d.features.metrics, ['temp', 'vib']);
    assert.equal(d.kind, 'robust-zscore');
    const outcome = report.models.find((m) => m.name === name)!;
    assert.equal(d.metrics.f1, outcome.candidate!.f1);
    assert.equal(d.metrics.heldOutRecords, devices * (600 - n));
    assert.equal(d.metrics.injectedAnomalies, outcome.injectedAnomalies);
    assert.ok(outcome.injectedAnomalies > 0);
  }
  assert.deepEqual((await readModelsTopic(w.log)).map((r) => [r.key, r.descriptor.name, r.descriptor.version]), [
    ['class.fan', 'class.fan', 1],
    ['class.pump', 'class.pump', 1],
  ]);
});

test('per device and for the fleet: device.<id> per device, one default model over every device', async (t) => {
  const w = await world(t, { classes: { pump: ['p1', 'p2'], '': ['loner'] }, records: 300 });
  const perDevice = await trainOnce({ log: w.log, store: w.store }, { ...FAST, per: 'device', dryRun: true });
  assert.deepEqual(perDevice.models.map((m) => [m.name, m.status, m.devices]), [
    ['device.loner', ModelStatus.WOULD_PUBLISH, 1],
    ['device.p1', ModelStatus.WOULD_PUBLISH, 1],
    ['device.p2', ModelStatus.WOULD_PUBLISH, 1],
  ]);
  assert.deepEqual(await w.store.list(), [], 'a dry run stores nothing');
  assert.deepEqual(await readModelsTopic(w.log), [], 'a dry run appends nothing');

  const fleet = await trainOnce({ log: w.log, store: w.store }, { ...FAST, per: 'fleet' });
  assert.deepEqual(fleet.models.map((m) => [m.name, m.status, m.devices, m.trainedOn?.records]), [['default', ModelStatus.PUBLISHED, 3, 3 * trainPart(300)]]);
});

test('a candidate that cannot detect the injected anomalies is rejected; a good one is published; versions chain', async (t) => {
  const w = await world(t, { records: 800 });
  const ctx = { log: w.log, store: w.store };
  const fleet = { ...FAST, per: 'fleet' } as const;

  const first = await trainOnce(ctx, { ...fleet, force: true });
  assert.deepEqual(first.models.map((m) => [m.status, m.version, m.parentVersion]), [[ModelStatus.PUBLISHED, 1, null]]);
  const liveF1 = first.models[0]!.candidate!.f1;
  assert.ok(liveF1 > 0.3, `the default robust-zscore finds injected anomalies (F1 ${liveF1})`);

  const blind = await trainOnce(ctx, { ...BLIND, per: 'fleet' });
  const rejected = blind.models[0]!;
  assert.equal(rejected.status, ModelStatus.REJECTED);
  assert.equal(rejected.candidate!.recall, 0);
  assert.equal(rejected.live!.f1, liveF1, 'the live model is evaluated on the same held-back data');
  assert.match(rejected.reason, /F1 0\.000 is below the live model's \d\.\d{3} − tolerance 0\.02/);
  assert.deepEqual(await w.store.versions('default'), [1], 'nothing stored');
  assert.equal((await readModelsTopic(w.log)).length, 1, 'nothing appended');

  const good = await trainOnce(ctx, fleet);
  assert.deepEqual(good.models.map((m) => [m.status, m.version, m.parentVersion]), [[ModelStatus.PUBLISHED, 2, 1]]);
  const third = await trainOnce(ctx, fleet);
  assert.deepEqual(third.models.map((m) => [m.status, m.version, m.parentVersion]), [[ModelStatus.PUBLISHED, 3, 2]]);
  const onTopic = await readModelsTopic(w.log);
  assert.deepEqual(onTopic.map((r) => [r.descriptor.version, r.descriptor.trainedOn.parentVersion]), [[1, null], [2, 1], [3, 2]]);
  assert.equal(onTopic[1]!.descriptor.metrics.liveF1, liveF1);

  const forced = await trainOnce(ctx, { ...BLIND, per: 'fleet', force: true });
  assert.deepEqual(forced.models.map((m) => [m.status, m.version, m.parentVersion]), [[ModelStatus.PUBLISHED, 4, 3]], '--force publishes even a bad candidate');
});

test('after a rollback on the models topic the next candidate is compared with, and chained to, the rolled-back version', async (t) => {
  const w = await world(t, { records: 500 });
  const ctx = { log: w.log, store: w.store };
  const fleet = { ...FAST, per: 'fleet' } as const;
  await trainOnce(ctx, { ...fleet, force: true });
  await trainOnce(ctx, { ...fleet, force: true });
  const v1 = await w.store.get('default', 1);
  const producer = w.log.producer();
  await producer.send([{ topic: 'models', key: bytes('default'), value: bytes(JSON.stringify(v1)), headers: { [ModelHeader.rollback]: bytes('1') } }]);
  await producer.close();

  const next = await trainOnce(ctx, fleet);
  assert.deepEqual(next.models.map((m) => [m.status, m.version, m.parentVersion]), [[ModelStatus.PUBLISHED, 3, 1]]);
});

/** A log whose producers check, at every send to `models`, that the store already holds each descriptor sent. */
function checkingLog(log: Log, store: ModelStore, checked: string[]): Log {
  return {
    backend: log.backend,
    admin: log.admin,
    consumer: (o) => log.consumer(o),
    close: () => log.close(),
    producer(o) {
      const inner = log.producer(o);
      const producer: Producer = {
        async send(records) {
          for (const r of records) {
            if (r.topic !== 'models') continue;
            const d = JSON.parse(new TextDecoder().decode(r.value)) as { name: string; version: number };
            assert.deepEqual((await store.get(d.name, d.version)).version, d.version, `${d.name} v${d.version} is stored before it is sent`);
            checked.push(`${d.name} v${d.version}`);
          }
          return inner.send(records);
        },
        beginTransaction: () => inner.beginTransaction(),
        close: () => inner.close(),
      };
      return producer;
    },
  };
}

test('store first, then topic: every descriptor on models is stored before it is appended, and loads from the store', async (t) => {
  const w = await world(t, { records: 400 }, { inlineLimitBytes: 0 });
  const checked: string[] = [];
  const report = await trainOnce({ log: checkingLog(w.log, w.store, checked), store: w.store }, { ...FAST, force: true });
  assert.equal(report.published, 2);
  assert.deepEqual(checked, ['class.fan v1', 'class.pump v1']);

  for (const { descriptor } of await readModelsTopic(w.log)) {
    assert.equal(descriptor.payload.type, 'ref', 'payloads over the inline limit travel as references into the store');
    assert.deepEqual(descriptor, await w.store.get(descriptor.name, descriptor.version));
    const model = await loadModelAsync(descriptor, { registry: detectorFactories, baseDir: w.store.dir });
    assert.deepEqual(model.features, ['temp', 'vib']);
  }
});

test('an empty range says so and publishes nothing', async (t) => {
  const w = await world(t, { records: 300 });
  const later = START + 10_000 * STEP;
  await expectCode(
    trainOnce({ log: w.log, store: w.store }, { ...FAST, range: { by: 'time', from: later, to: later + STEP } }),
    ErrorCode.TRAINING_EMPTY_RANGE,
    "no telemetry in topic 'telemetry'",
    new Date(later).toISOString(),
    'nothing published',
  );
  await expectCode(trainOnce({ log: w.log, store: w.store }, { ...FAST, range: { by: 'offset', from: 5, to: 5 } }), ErrorCode.TRAINING_EMPTY_RANGE, 'offsets 5 → 5');
  assert.deepEqual(await w.store.list(), []);
  assert.deepEqual(await readModelsTopic(w.log), []);
});

test('a group with too few records is skipped with the reason; the others train', async (t) => {
  const w = await world(t, { records: 300 });
  const report = await trainOnce({ log: w.log, store: w.store }, { ...FAST, minRecords: 700, dryRun: true });
  assert.deepEqual(report.models.map((m) => m.name), ['class.pump']);
  assert.deepEqual(report.skipped.map((s) => [s.name, s.reason]), [['class.fan', '600 records, fewer than the 700 needed to fit and evaluate']]);
});

test('options are checked before anything is read, with the path of the bad option', async (t) => {
  const w = await world(t, { records: 50 });
  const ctx = { log: w.log, store: w.store };
  await expectCode(trainOnce(ctx, { ...FAST, evaluation: { holdoutFraction: 2 } }), ErrorCode.CONFIG_INVALID, '/training/evaluation/holdoutFraction must be in (0, 0.9], got 2');
  await expectCode(trainOnce(ctx, { ...FAST, detector: 'nope' }), ErrorCode.CONFIG_INVALID, '/training/detector', "unknown detector 'nope'");
  await expectCode(trainOnce(ctx, { ...FAST, detector: 'onnx' }), ErrorCode.CONFIG_INVALID, '/training/detector', 'onnx');
  await expectCode(trainOnce(ctx, { ...FAST, hyperparameters: { halfLife: -3 } }), ErrorCode.CONFIG_INVALID, '/training/hyperparameters', 'halfLife');
  await expectCode(trainOnce(ctx, { ...FAST, per: 'site' as never }), ErrorCode.CONFIG_INVALID, '/training/per must be one of class, device, fleet');
  await expectCode(trainOnce(ctx, { ...FAST, sampling: { maxSeries: 10, maxRecords: 5 } }), ErrorCode.CONFIG_INVALID, '/training/sampling/maxSeries');
  await expectCode(trainOnce(ctx, { ...FAST, evaluation: { anomalyEvery: 10 } }), ErrorCode.CONFIG_INVALID, '/training/evaluation/anomalyEvery must be an integer ≥ 71');
  await expectCode(trainOnce(ctx, { ...FAST, range: { by: 'time', from: 10, to: 5 } }), ErrorCode.TRAINING_INVALID_RANGE, '/training/range');
  await expectCode(trainOnce(ctx, { ...FAST, colour: 'blue' } as never), ErrorCode.CONFIG_INVALID, '/training/colour is not a training option');
  await expectCode(trainOnce(ctx, { ...FAST, topic: 'nope' }), ErrorCode.LOG_UNKNOWN_TOPIC, 'nope');
});

test('a run stopped by its signal ends with TRAINING_ABORTED and publishes nothing', async (t) => {
  const w = await world(t, { records: 300 });
  const controller = new AbortController();
  controller.abort();
  await expectCode(trainOnce({ log: w.log, store: w.store, signal: controller.signal }, FAST), ErrorCode.TRAINING_ABORTED);
  assert.deepEqual(await w.store.list(), []);
});

test('a model whose live version cannot be read fails with the reason; the other models of the run go on', async (t) => {
  const w = await world(t, { records: 300 });
  await mkdir(join(w.store.dir, 'class.fan'), { recursive: true });
  await writeFile(join(w.store.dir, 'class.fan', 'v1.json'), '{"name": "class.fan", "version": 1');
  const report = await trainOnce({ log: w.log, store: w.store }, FAST);
  assert.deepEqual(report.models.map((m) => [m.name, m.status]), [['class.fan', ModelStatus.FAILED], ['class.pump', ModelStatus.PUBLISHED]]);
  assert.match(report.models[0]!.reason, /^cannot read the live model: model descriptor: not valid JSON/);
  assert.deepEqual(await w.store.versions('class.fan'), [1], 'nothing stored over it');
});

test('when the append to models fails after the store write, the model is failed and the reason says where it stands', async (t) => {
  const w = await world(t, { records: 300 });
  const failing: Log = {
    backend: w.log.backend,
    admin: w.log.admin,
    consumer: (o) => w.log.consumer(o),
    close: () => w.log.close(),
    producer(o) {
      const inner = w.log.producer(o);
      return {
        send: async () => {
          throw new SluiceError(ErrorCode.LOG_TIMEOUT, 'the broker did not answer', { retriable: true });
        },
        beginTransaction: () => inner.beginTransaction(),
        close: () => inner.close(),
      };
    },
  };
  const report = await trainOnce({ log: failing, store: w.store }, { ...FAST, per: 'fleet' });
  assert.equal(report.models[0]!.status, ModelStatus.FAILED);
  assert.equal(report.models[0]!.reason, "publishing failed: 'default' v1 is in the model store but appending it to topic 'models' failed: the broker did not answer");
});
