/**
 * The serving/training contract end to end on the embedded log: `trainOnce` fits one model per
 * device class from the telemetry history and publishes it (store, then `models`); a serving
 * instance loads what the topic publishes and scores each device with its class model; a retrained
 * (forced) version takes over while running, and the devices keep their learnt state.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Telemetry } from '../../src/log/index.ts';
import { memoryLogger, startServing } from '../../src/serving/index.ts';
import { trainOnce } from '../../src/training/index.ts';
import { eventually } from '../helpers.ts';
import { embeddedBackend } from '../stream/backends.ts';
import { produce } from '../stream/runtime-helpers.ts';
import { RAW_SCORES, readScored, telemetry, tempStore } from './helpers.ts';

const DEVICES = [
  { id: 'pump-1', cls: 'pump' },
  { id: 'pump-2', cls: 'pump' },
  { id: 'fan-1', cls: 'fan' },
];
const T0 = Date.now() - 3_600_000;

function reading(d: (typeof DEVICES)[number], i: number): Telemetry {
  const base = d.cls === 'pump' ? 60 : 20;
  return { deviceId: d.id, ts: T0 + i * 1_000, seq: i, metrics: { temp: base + Math.sin(i / 9) * 2, vibration: 1 + ((i * 7) % 5) / 10 }, tags: { class: d.cls } };
}

const batch = (from: number, n: number) => DEVICES.flatMap((d) => Array.from({ length: n }, (_, k) => telemetry('telemetry', reading(d, from + k))));

test('class models trained and published by the trainer are served, per class; a retrained version takes over', async (t) => {
  const log = await embeddedBackend.open(t);
  const store = await tempStore(t);
  await log.admin.createTopic('telemetry', { partitions: 2 });
  await produce(log, batch(0, 400));
  const first = await trainOnce({ log, store }, { detector: 'robust-zscore', per: 'class', worker: false });
  assert.deepEqual(first.models.map((m) => [m.name, m.status, m.version]).sort(), [
    ['class.fan', 'published', 1],
    ['class.pump', 'published', 1],
  ]);

  const handle = await startServing({ log, modelsDir: store.dir, applicationId: 'serving-trained', http: null, logger: memoryLogger(), decider: RAW_SCORES, topics: { scores: 'scores' }, stream: embeddedBackend.fast });
  t.after(() => handle.close());
  assert.deepEqual(handle.models().models.map((m) => `${m.name}@${m.version}`), ['class.fan@1', 'class.pump@1']);
  const scored = await readScored(log, 'scores', 1_200);
  for (const s of scored) assert.equal(s.model.name, `class.${DEVICES.find((d) => d.id === s.deviceId)!.cls}`);

  const second = await trainOnce({ log, store }, { detector: 'robust-zscore', per: 'class', force: true, worker: false });
  assert.ok(second.models.every((m) => m.status === 'published' && m.version === 2));
  await eventually(() => handle.models().models.every((m) => m.version === 2), { message: 'v2 of both classes serves' });
  await produce(log, batch(400, 10));
  // The new readings (seq ≥ 400), wherever they land among the partitions' records.
  const after = (await readScored(log, 'scores', 1_230)).filter((s) => s.seq! >= 400);
  assert.equal(after.length, 30);
  assert.ok(after.every((s) => s.model.version === 2), `versions of the new readings: ${after.map((s) => s.model.version).join(',')}`);
  assert.equal(handle.metrics().carryOver.kept, 3, 'each device carried its state over to v2 (same kind and features)');
  assert.equal(handle.metrics().unrouted, 0);
});
