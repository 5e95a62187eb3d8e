import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSluiceError, ErrorCode } from '../../../src/errors.ts';
import { DEFAULT_SCORE_MAPPING, mapScore, parseScoreMapping } from '../../../src/model/onnx/mapping.ts';

test('the default mapping turns an IsolationForest decision_function into the paper score, clamped', () => {
  assert.equal(mapScore(DEFAULT_SCORE_MAPPING, 0), 0.5);
  assert.equal(mapScore(DEFAULT_SCORE_MAPPING, -0.25), 0.75);
  assert.equal(mapScore(DEFAULT_SCORE_MAPPING, -3), 1);
  assert.equal(mapScore(DEFAULT_SCORE_MAPPING, 3), 0);
});

test('a non-finite raw output scores 0, never NaN', () => {
  for (const raw of [NaN, Infinity, -Infinity]) assert.equal(mapScore(DEFAULT_SCORE_MAPPING, raw), 0);
  const logistic = parseScoreMapping({ kind: 'logistic', scale: 2, center: 1 }, '/m');
  assert.equal(mapScore(logistic, NaN), 0);
});

test('the logistic mapping is monotone, centred, and flips with a negative scale', () => {
  const up = parseScoreMapping({ kind: 'logistic', scale: 2, center: 1 }, '/m');
  const down = parseScoreMapping({ kind: 'logistic', scale: -2, center: 1 }, '/m');
  assert.equal(mapScore(up, 1), 0.5);
  const xs = [-5, -1, 0, 0.5, 1, 2, 10];
  for (let i = 1; i < xs.length; i++) {
    assert.ok(mapScore(up, xs[i] as number) > mapScore(up, xs[i - 1] as number));
    assert.ok(mapScore(down, xs[i] as number) < mapScore(down, xs[i - 1] as number));
  }
});

test('a malformed mapping is MODEL_INVALID naming the field', () => {
  for (const bad of [{ kind: 'cubic' }, { kind: 'linear', scale: 1 }, { kind: 'logistic', scale: NaN, center: 0 }, 'linear']) {
    assert.throws(() => parseScoreMapping(bad, '/params/mapping'), (e) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.startsWith('/params/mapping'));
  }
});
