import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, ErrorCode } from '../../../src/errors.ts';
import { halfSpaceTrees } from '../../../src/model/detectors/half-space-trees.ts';
import type { HalfSpaceTreesState } from '../../../src/model/detectors/half-space-trees.ts';
import { assertRoundTrip, assertSafeOnBrokenInput, METRICS, rankOf, stream } from './contract.ts';

const small = { trees: 10, height: 6, windowSize: 100 };

test('half-space-trees: serialised model and state continue with bit-identical scores (across window swaps)', () => {
  assertRoundTrip(halfSpaceTrees, stream(500), stream(130, { start: 500 }), stream(400, { start: 630, spikeAt: [700] }), { hyperparameters: small });
  // From an empty history: the round trip happens during the range-learning warm-up and continues through it.
  assertRoundTrip(halfSpaceTrees, [], stream(60), stream(400, { start: 60 }), { features: [...METRICS], hyperparameters: small });
});

test('half-space-trees: the same seed builds the same trees; another seed different ones', () => {
  const a = JSON.stringify(halfSpaceTrees.fit(stream(300), { seed: 5 }).toParams());
  const b = JSON.stringify(halfSpaceTrees.fit(stream(300), { seed: 5 }).toParams());
  const c = JSON.stringify(halfSpaceTrees.fit(stream(300), { seed: 6 }).toParams());
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('half-space-trees: a point far outside the joint distribution scores near the top', () => {
  const model = halfSpaceTrees.fit(stream(1000), { hyperparameters: { trees: 25, height: 8, windowSize: 250 } });
  const state = model.newState();
  const live = stream(1000, { start: 1000, spikeAt: [1500], spike: 3 });
  const scores = live.map((obs) => model.score(state, obs));
  assert.ok(rankOf(scores, 500) <= 5, `spike ranks ${rankOf(scores, 500)}`);
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
});

test('half-space-trees: without history it learns ranges, then a window, then scores', () => {
  const model = halfSpaceTrees.fit([], { features: [...METRICS], hyperparameters: small });
  const state = model.newState() as HalfSpaceTreesState;
  const scores = stream(400).map((obs) => model.score(state, obs));
  assert.ok(scores.slice(0, 200).every((s) => s === 0), 'warm-up scores 0');
  assert.ok(scores.slice(200).some((s) => s > 0), 'scores after two windows');
  assert.equal(state.meta[0], 2);
});

test('half-space-trees: broken input never throws or yields NaN and does not update the mass profiles', () => {
  const model = halfSpaceTrees.fit(stream(300), { hyperparameters: small });
  const state = model.newState() as HalfSpaceTreesState;
  for (const obs of stream(50, { start: 300 })) model.score(state, obs);
  const l = state.l.slice();
  const count = state.meta[1];
  assertSafeOnBrokenInput(model, state, 0);
  assert.deepEqual(state.l, l);
  assert.equal(state.meta[1], count);
});

test('half-space-trees: invalid parameters and states are MODEL_INVALID errors naming the field', () => {
  const model = halfSpaceTrees.fit(stream(200), { hyperparameters: small });
  const params = model.toParams() as Record<string, unknown>;
  const cases: [unknown, string][] = [
    [{ ...params, height: 40 }, '/params/height'],
    [{ ...params, windowSize: 70_000 }, '/params/windowSize'],
    [{ ...params, splitDim: 'AAAA' }, '/params/splitDim'],
    [{ ...params, ranges: { lo: [0, 0, 0, 0], span: [1, 0, 1, 1] } }, '/params/ranges/span/1'],
    [{ ...params, reference: 'not base64!' }, '/params/reference'],
  ];
  for (const [bad, path] of cases) {
    assert.throws(
      () => halfSpaceTrees.fromParams(bad, model.features),
      (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes(path),
      path,
    );
  }
  const json = model.stateToJSON(model.newState()) as Record<string, unknown>;
  assert.throws(() => model.stateFromJSON({ ...json, r: 'AAAA' }), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/state/r'));
  assert.throws(() => model.stateFromJSON({ ...json, meta: [9] }), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/state/meta'));
});

test('half-space-trees: state size is fixed by trees and height', () => {
  const model = halfSpaceTrees.fit(stream(200), { hyperparameters: small });
  const state = model.newState() as HalfSpaceTreesState;
  const size = JSON.stringify(model.stateToJSON(state)).length;
  for (const obs of stream(3000, { start: 200 })) model.score(state, obs);
  assert.equal(state.r.length, 10 * (2 ** 7 - 1));
  assert.ok(Math.abs(JSON.stringify(model.stateToJSON(state)).length - size) < 200);
});
