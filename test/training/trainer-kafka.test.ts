/**
 * A training run on the Kafka test broker (scripts/kafka start): telemetry read from Kafka, models
 * published to a compacted models topic on Kafka (store first), and the next run finds the live
 * model there and chains to it. Skipped without a broker, except under CI (CI=true).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelStore } from '../../src/model/store.ts';
import { ModelStatus, trainOnce } from '../../src/training/index.ts';
import { tempDir } from '../helpers.ts';
import { kafkaBackend, kafkaGate } from '../stream/backends.ts';
import { fleetTelemetry, produceTelemetry } from './fleet.ts';
import { START, STEP, readModelsTopic } from './setup.ts';

const gate = await kafkaGate();

test('kafka: train per class, publish to the models topic, and chain the next version to the live one', { skip: gate.skip }, async (t) => {
  gate.check();
  const log = await kafkaBackend.open(t);
  const dir = await tempDir('sluice-training-kafka-');
  t.after(() => dir.remove());
  const store = new ModelStore({ dir: dir.path });
  const topic = kafkaBackend.unique('telemetry');
  const modelsTopic = kafkaBackend.unique('models');
  await produceTelemetry(log, topic, fleetTelemetry({ classes: { pump: ['p1', 'p2'], fan: ['f1'] }, records: 300, start: START, stepMs: STEP }), 3);
  const options = { topic, modelsTopic, detector: 'robust-zscore', worker: false } as const;

  const first = await trainOnce({ log, store }, options);
  assert.deepEqual(first.models.map((m) => [m.name, m.status, m.version, m.parentVersion]), [
    ['class.fan', ModelStatus.PUBLISHED, 1, null],
    ['class.pump', ModelStatus.PUBLISHED, 1, null],
  ]);
  assert.equal((await log.admin.describeTopic(modelsTopic)).config.cleanupPolicy, 'compact');
  const second = await trainOnce({ log, store }, { ...options, range: { by: 'time', from: START + 100 * STEP } });
  assert.deepEqual(second.models.map((m) => [m.name, m.status, m.version, m.parentVersion]), [
    ['class.fan', ModelStatus.PUBLISHED, 2, 1],
    ['class.pump', ModelStatus.PUBLISHED, 2, 1],
  ]);
  const onTopic = await readModelsTopic(log, modelsTopic);
  assert.deepEqual(onTopic.map((r) => [r.key, r.descriptor.version, r.descriptor.trainedOn.from]), [
    ['class.fan', 1, START],
    ['class.pump', 1, START],
    ['class.fan', 2, START + 100 * STEP],
    ['class.pump', 2, START + 100 * STEP],
  ]);
  for (const r of onTopic) assert.deepEqual(r.descriptor, await store.get(r.descriptor.name, r.descriptor.version));
});
