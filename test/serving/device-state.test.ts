/**
 * Device state on its own: the changelog codec round trip (a restored series continues bit for
 * bit), and the carry-over outcomes when the model scoring a device changes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { createDecider, createDescriptor, robustZScore, type DeciderOptions, type ModelDescriptor } from '../../src/model/index.ts';
import { ModelStats, type LiveModel } from '../../src/serving/live-model.ts';
import { attach, DeviceSlot, deviceSlotCodec, LIVE_SERIES } from '../../src/serving/device-state.ts';
import { ServingCounters } from '../../src/serving/counters.ts';
import { expectCode } from '../helpers.ts';
import { counterDescriptor, counterFactory } from './helpers.ts';

function live(d: ModelDescriptor, decider: DeciderOptions = {}): LiveModel {
  const model = d.kind === 'robust-zscore' ? robustZScore.fromParams((d.payload as { params: unknown }).params, d.features.metrics) : counterFactory.fromParams((d.payload as { params: unknown }).params, d.features.metrics);
  return {
    name: d.name,
    version: d.version,
    role: 'live',
    descriptor: d,
    model,
    deciderOptions: decider,
    deciderKey: JSON.stringify(createDecider(decider).options),
    since: 0,
    source: 'topic',
    rollback: false,
    stats: new ModelStats(),
  };
}

const obs = (i: number) => ({ ts: 1_000 * i, values: { x: Math.sin(i) * 5 + (i === 40 ? 30 : 0) } });

test('a slot survives the changelog codec: the restored series continues exactly as the live one', () => {
  const m = live(createDescriptor({ name: 'default', version: 1, model: robustZScore.fit([], { features: ['x'] }), createdAt: 1 }), { warmup: 5, window: 30 });
  const counters = new ServingCounters();
  const slot = new DeviceSlot('d1');
  for (let i = 0; i < 25; i++) {
    const s = attach(slot, LIVE_SERIES, m, counters);
    s.decider!.decide(m.model.score(s.state, obs(i)), obs(i).ts);
  }
  const restored = deviceSlotCodec.decode(deviceSlotCodec.encode(slot));
  assert.equal(restored.deviceId, 'd1');
  for (let i = 25; i < 50; i++) {
    const a = attach(slot, LIVE_SERIES, m, counters);
    const b = attach(restored, LIVE_SERIES, m, counters);
    const sa = m.model.score(a.state, obs(i));
    const sb = m.model.score(b.state, obs(i));
    assert.equal(sb, sa);
    assert.deepEqual(b.decider!.decide(sb, obs(i).ts), a.decider!.decide(sa, obs(i).ts));
  }
  assert.deepEqual({ fresh: counters.carryOver.fresh, restored: counters.carryOver.restored }, { fresh: 1, restored: 1 });
});

test('carry-over outcomes: kept (decider too, when its options match), fresh, reset', () => {
  const counters = new ServingCounters();
  const slot = new DeviceSlot('d1');
  const v1 = live(counterDescriptor('default', 1));
  const s1 = attach(slot, LIVE_SERIES, v1, counters);
  for (let i = 0; i < 3; i++) s1.decider!.decide(v1.model.score(s1.state, obs(i)), i);
  const v2 = live(counterDescriptor('default', 2));
  const s2 = attach(slot, LIVE_SERIES, v2, counters);
  assert.deepEqual(s2.state, { n: 3 });
  assert.equal(s2.decider, s1.decider, 'same decider options: the decider is kept');
  const v3 = live(counterDescriptor('default', 3), { warmup: 7 });
  const s3 = attach(slot, LIVE_SERIES, v3, counters);
  assert.deepEqual(s3.state, { n: 3 });
  assert.notEqual(s3.decider, s2.decider, 'other decider options: a fresh decider');
  const v4 = live(counterDescriptor('default', 4, { features: ['y'] }));
  assert.deepEqual(attach(slot, LIVE_SERIES, v4, counters).state, { n: 0 });
  assert.deepEqual(counters.carryOver, { kept: 2, fresh: 2, restored: 0, adopted: 0, reset: 0 });

  const broken = deviceSlotCodec.decode(new TextEncoder().encode(JSON.stringify({ v: 1, deviceId: 'd2', series: { live: { model: { name: 'default', version: 4, kind: 'test-counter', features: ['y'] }, state: { n: -1 }, decider: {} } } })));
  assert.deepEqual(attach(broken, LIVE_SERIES, v4, counters).state, { n: 0 });
  assert.equal(counters.carryOver.reset, 1);
});

test('the codec refuses what is not a device slot', async () => {
  await expectCode(() => deviceSlotCodec.decode(new TextEncoder().encode('nope')), ErrorCode.CODEC_DECODE, 'device-state');
  await expectCode(() => deviceSlotCodec.decode(new TextEncoder().encode('{"v":2}')), ErrorCode.CODEC_DECODE, 'expected');
  await expectCode(() => deviceSlotCodec.decode(new TextEncoder().encode('{"v":1,"deviceId":"d","series":{"live":{"model":{}}}}')), ErrorCode.CODEC_DECODE, "series 'live'");
});
