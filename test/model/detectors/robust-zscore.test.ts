import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError, ErrorCode } from '../../../src/errors.ts';
import { robustZScore } from '../../../src/model/detectors/robust-zscore.ts';
import { assertRoundTrip, assertSafeOnBrokenInput, METRICS, rankOf, stream } from './contract.ts';

test('robust-zscore: serialised model and state continue with bit-identical scores', () => {
  assertRoundTrip(robustZScore, stream(500), stream(300, { start: 500 }), stream(300, { start: 800, spikeAt: [900] }));
  // Also from an empty history (pure online learning).
  assertRoundTrip(robustZScore, [], stream(50), stream(100, { start: 50 }), { features: [...METRICS] });
});

test('robust-zscore: a spike on one metric gets the highest score, and explain names that metric', () => {
  const model = robustZScore.fit(stream(1000));
  const state = model.newState();
  const live = stream(1000, { start: 1000, spikeAt: [1600], spike: 1 });
  const scores = live.map((obs) => model.score(state, obs));
  assert.equal(rankOf(scores, 600), 0);
  for (const s of scores) assert.ok(s >= 0 && s <= 1);
  const after = robustZScore.fit(stream(1000));
  const st = after.newState();
  for (const obs of live.slice(0, 601)) after.score(st, obs);
  const why = after.explain(st, live[600]!);
  const top = Object.entries(why).sort((a, b) => b[1] - a[1])[0]![0];
  assert.equal(top, 'vibration');
});

test('robust-zscore: a single outlier barely moves the estimate (winsorised update)', () => {
  const model = robustZScore.fit(stream(1000));
  const state = model.newState();
  for (const obs of stream(200, { start: 1000 })) model.score(state, obs);
  const before = JSON.stringify(model.stateToJSON(state));
  model.score(state, { ts: 0, values: { temp: 40, vibration: 1e9, current: 12, pressure: 3 } });
  const loc = (s: string): number => (JSON.parse(s) as number[])[METRICS.length + 3]!; // location of "vibration" (sorted: current, pressure, temp, vibration)
  const shift = Math.abs(loc(JSON.stringify(model.stateToJSON(state))) - loc(before));
  assert.ok(shift < 0.1, `location moved by ${shift}`);
});

test('robust-zscore: NaN, ±Infinity and missing metrics never throw or yield NaN; an empty observation changes nothing', () => {
  const model = robustZScore.fit(stream(300));
  const state = model.newState();
  for (const obs of stream(100, { start: 300 })) model.score(state, obs);
  assertSafeOnBrokenInput(model, state, 0);
  const before = JSON.stringify(model.stateToJSON(state));
  const s = model.score(state, { ts: 0, values: { temp: NaN, vibration: Infinity } });
  assert.equal(s, 0);
  const after = JSON.parse(JSON.stringify(model.stateToJSON(state))) as number[];
  // Counts, locations and scales are unchanged (the last-z block is reset to 0).
  assert.deepEqual(after.slice(0, 12), (JSON.parse(before) as number[]).slice(0, 12));
});

test('robust-zscore: invalid parameters and states are MODEL_INVALID errors naming the field', () => {
  const model = robustZScore.fit(stream(100));
  const params = model.toParams() as Record<string, unknown>;
  const cases: [unknown, string][] = [
    [{ ...params, halfLife: 0 }, '/params/halfLife'],
    [{ ...params, clip: 'x' }, '/params/clip'],
    [{ ...params, initial: { count: [1], location: [0], scale: [1] } }, '/params/initial/count'],
    [{ ...params, bogus: 1 }, '/params/bogus'],
    [null, '/params'],
  ];
  for (const [bad, path] of cases) {
    assert.throws(
      () => robustZScore.fromParams(bad, model.features),
      (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes(path),
      path,
    );
  }
  assert.throws(() => robustZScore.fromParams(params, []), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/features'));
  assert.throws(() => model.stateFromJSON([1, 2]), (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/state'));
  assert.throws(
    () => robustZScore.fit([], { features: ['a'], hyperparameters: { halfLife: -1 } }),
    (e: unknown) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/hyperparameters/halfLife'),
  );
});

test('robust-zscore: state size is bounded (does not grow with the stream)', () => {
  const model = robustZScore.fit(stream(100));
  const state = model.newState();
  for (const obs of stream(100, { start: 100 })) model.score(state, obs);
  const small = JSON.stringify(model.stateToJSON(state)).length;
  for (const obs of stream(5000, { start: 200 })) model.score(state, obs);
  assert.equal((model.stateToJSON(state) as number[]).length, 4 * METRICS.length);
  assert.ok(JSON.stringify(model.stateToJSON(state)).length <= small + 8 * METRICS.length);
});
