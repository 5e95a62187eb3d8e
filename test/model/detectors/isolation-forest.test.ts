import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, ErrorCode } from '../../../src/errors.ts';
import { averagePathLength, isolationForest } from '../../../src/model/detectors/isolation-forest.ts';
import { assertRoundTrip, assertSafeOnBrokenInput, rankOf, stream } from './contract.ts';

test('isolation-forest: c(n) matches the paper (c(2) = 1, c(256) ≈ 10.24)', () => {
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  assert.ok(Math.abs(averagePathLength(256) - 10.244770920116851) < 1e-9);
});

test('isolation-forest: serialised model and state continue with bit-identical scores', () => {
  assertRoundTrip(isolationForest, stream(2000), stream(50, { start: 2000 }), stream(300, { start: 2050, spikeAt: [2100] }), { hyperparameters: { trees: 30 } });
});

test('isolation-forest: fits are reproducible by seed', () => {
  const a = JSON.stringify(isolationForest.fit(stream(1000), { seed: 2, hyperparameters: { trees: 10 } }).toParams());
  const b = JSON.stringify(isolationForest.fit(stream(1000), { seed: 2, hyperparameters: { trees: 10 } }).toParams());
  const c = JSON.stringify(isolationForest.fit(stream(1000), { seed: 3, hyperparameters: { trees: 10 } }).toParams());
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('isolation-forest: trained offline, a spike in the stream is isolated (top score) and explained', () => {
  const model = isolationForest.fit(stream(3000));
  const state = model.newState();
  const live = stream(1500, { start: 3000, spikeAt: [3700], spike: 2 });
  const scores = live.map((obs) => model.score(state, obs));
  // Skip the first window (features of a fresh series are partial).
  const steady = scores.slice(20);
  // A value beyond the training range lands with the most extreme training rows (iForest cannot
  // extrapolate), so it ranks near, not always at, the top among 1,480 ordinary rows.
  assert.ok(rankOf(steady, 680) <= 2, `spike ranks ${rankOf(steady, 680)}`);
  const sorted = [...steady].sort((x, y) => x - y);
  assert.ok(scores[700]! > sorted[Math.floor(sorted.length * 0.99)]!, 'spike above the 99th percentile');
  const again = model.newState();
  for (const obs of live.slice(0, 701)) model.score(again, obs);
  const why = model.explain(again, live[700]!);
  assert.equal(Object.entries(why).sort((x, y) => y[1] - x[1])[0]![0], 'vibration');
});

test('isolation-forest: broken input never throws or yields NaN', () => {
  const model = isolationForest.fit(stream(500), { hyperparameters: { trees: 20 } });
  const state = model.newState();
  assertSafeOnBrokenInput(model, state, 0); // before any value: training medians
  for (const obs of stream(30, { start: 500 })) model.score(state, obs);
  assertSafeOnBrokenInput(model, state, 0);
});

test('isolation-forest: needs history; invalid parameters are MODEL_INVALID errors naming the field', () => {
  assert.throws(() => isolationForest.fit([], { features: ['a'] }), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/history'));
  assert.throws(
    () => isolationForest.fit(stream(10), { hyperparameters: { trees: 0 } }),
    (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/hyperparameters/trees'),
  );
  const model = isolationForest.fit(stream(300), { hyperparameters: { trees: 5 } });
  const params = model.toParams() as Record<string, string | number>;
  const right = Buffer.from(params.right as string, 'base64');
  right.writeInt32LE(0, 0); // root's right child pointing backwards: a cycle
  const cases: [unknown, string][] = [
    [{ ...params, right: right.toString('base64') }, '/params/right[0]'],
    [{ ...params, nodes: 3 }, '/params/nodes'],
    [{ ...params, feature: 'AAAA' }, '/params/feature'],
    [{ ...params, center: [1] }, '/params/center'],
    [{ ...params, window: 1 }, '/params/window'],
  ];
  for (const [bad, path] of cases) {
    assert.throws(
      () => isolationForest.fromParams(bad, model.features),
      (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes(path),
      path,
    );
  }
  assert.throws(() => model.stateFromJSON([1]), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/state'));
});
