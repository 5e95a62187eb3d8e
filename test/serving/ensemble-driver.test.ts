/**
 * Ensemble mode: several models score each record and a combiner decides (max / mean of the
 * likelihoods against a threshold, or a majority vote); a member over its latency budget is left
 * out for the rest of the batch and counted. Time is a fake timer that the test's slow detector
 * moves forward, so the budget is exercised without measuring real speed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DetectorFactory } from '../../src/model/index.ts';
import { combine } from '../../src/serving/processor.ts';
import { readings, servingDriver } from './driver-harness.ts';
import { counterDescriptor, counterFactory } from './helpers.ts';

test('combine: max and mean of the likelihoods against the threshold, vote by majority', () => {
  const m = (likelihood: number, anomaly: boolean, score = likelihood) => ({ name: 'm', version: 1, score, likelihood, anomaly });
  const results = [m(0.9, true, 0.8), m(0.2, false, 0.1), m(0.4, true, 0.3)];
  assert.deepEqual(combine(results, 'max', 0.5), { score: 0.8, decision: { likelihood: 0.9, anomaly: true } });
  const mean = combine(results, 'mean', 0.5);
  assert.ok(Math.abs(mean.decision.likelihood - 0.5) < 1e-12 && Math.abs(mean.score - 0.4) < 1e-12);
  assert.equal(combine(results, 'mean', 0.6).decision.anomaly, false);
  assert.deepEqual(combine(results, 'vote', 0.5).decision, { likelihood: 2 / 3, anomaly: true });
  assert.equal(combine([m(0.9, true), m(0.1, false)], 'vote', 0.5).decision.anomaly, false, 'a tie is no majority');
});

test('every applicable model scores the record; the most likely one is named; members are listed', async (t) => {
  const h = await servingDriver(t, { ensemble: { combine: 'max', threshold: 0.5 } });
  await h.publish(counterDescriptor('default', 1, { scale: 1_000_000 }));
  await h.publish(counterDescriptor('class.pump', 2, { scale: 4 }));
  await h.send([...readings('p1', 3, { tags: { class: 'pump' } }), ...readings('f1', 1, { tags: { class: 'fan' } })]);
  const out = h.scores.readValues();
  const pump = out.filter((s) => s.deviceId === 'p1');
  assert.deepEqual(pump.map((s) => s.ensemble?.members.map((r) => `${r.name}@${r.version}`)), [['class.pump@2', 'default@1'], ['class.pump@2', 'default@1'], ['class.pump@2', 'default@1']]);
  assert.deepEqual(pump.map((s) => [s.model.name, s.decision.likelihood, s.decision.anomaly]), [
    ['class.pump', 0.25, false],
    ['class.pump', 0.5, true],
    ['class.pump', 0.75, true],
  ]);
  const fan = out.find((s) => s.deviceId === 'f1')!;
  assert.deepEqual(fan.ensemble?.members.map((r) => r.name), ['default']);
  assert.equal(h.anomalies.readValues().length, 2);
});

test('a member over its time budget is left out for the rest of the batch and counted; the first member always scores', async (t) => {
  let now = 0;
  const slow: DetectorFactory = {
    ...counterFactory,
    kind: 'test-slow',
    fromParams(params, features) {
      const inner = counterFactory.fromParams(params, features);
      return {
        ...inner,
        kind: 'test-slow',
        score(state, obs) {
          now += 10;
          return inner.score(state, obs);
        },
      };
    },
  };
  const h = await servingDriver(t, {
    detectors: [slow],
    timer: () => now,
    ensemble: { models: ['fast', 'slow'], combine: 'vote', budgetMs: 25 },
  });
  await h.publish(counterDescriptor('fast', 1));
  await h.publish(counterDescriptor('slow', 1, { kind: 'test-slow' }));
  await h.send(readings('d1', 5));
  const batch1 = h.scores.readValues().map((s) => s.ensemble!.members.map((r) => r.name).join('+'));
  assert.deepEqual(batch1, ['fast+slow', 'fast+slow', 'fast', 'fast', 'fast'], 'slow spends 10 per record: the third takes it over 25');
  const slowModel = h.manager.table.live.get('slow')!;
  assert.equal(slowModel.stats.dropped, 3);
  assert.equal(slowModel.stats.scored, 3, 'the record that broke the budget was scored, not combined');
  await h.send(readings('d1', 1, { from: 5 }));
  assert.deepEqual(h.scores.readValues().map((s) => s.ensemble!.members.map((r) => r.name).join('+')), ['fast+slow'], 'a new batch, a new budget');

  // The first member is never dropped, however slow.
  const g = await servingDriver(t, { detectors: [slow], timer: () => now, ensemble: { models: ['slow', 'fast'], combine: 'max', budgetMs: 5 } });
  await g.publish(counterDescriptor('slow', 1, { kind: 'test-slow' }));
  await g.publish(counterDescriptor('fast', 1));
  await g.send(readings('d1', 4));
  assert.deepEqual(g.scores.readValues().map((s) => s.ensemble!.members.map((r) => r.name).join('+')), ['slow+fast', 'slow+fast', 'slow+fast', 'slow+fast']);
});
