import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, isSluiceError } from '../../../src/errors.ts';
import { onnxFactory, OnnxDetectorModel, OnnxScorer, parseOnnxParams } from '../../../src/model/onnx/index.ts';
import { expected, modelBytes } from './helpers.ts';

const TOLERANCE = 1e-5;

function close(actual: ArrayLike<number>, reference: readonly number[], what: string): void {
  assert.equal(actual.length, reference.length, what);
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs((actual[i] as number) - (reference[i] as number));
    assert.ok(diff <= TOLERANCE, `${what}[${i}]: ${actual[i]} vs ${reference[i]} (|diff| ${diff})`);
  }
}

function observation(row: readonly number[], ts = 0): { ts: number; values: Record<string, number> } {
  return { ts, values: Object.fromEntries(expected.features.map((f, i) => [f, row[i] as number])) };
}

test('batch raw outputs match scikit-learn and onnxruntime-python to 1e-5', async (t) => {
  const scorer = await OnnxScorer.open(parseOnnxParams(modelBytes, expected.features), expected.features);
  t.after(() => scorer.close());
  const raw = await scorer.rawBatch(expected.inputs);
  close(raw, expected.sklearn.decision_function, 'vs sklearn decision_function');
  close(raw, expected.onnxruntime_python.scores, 'vs onnxruntime-python scores');
  // The default mapping gives the IsolationForest paper score, −score_samples (contamination 'auto').
  const scores = await scorer.scoreBatch(expected.inputs);
  close(scores, expected.sklearn.score_samples.map((s) => -s), 'score vs -score_samples');
  // The hand-made anomalies at the end outscore every inlier.
  const inliers = Array.from(scores.subarray(0, 24));
  const worstAnomaly = Math.min(...Array.from(scores.subarray(24)).filter((_, i) => expected.sklearn.predict[24 + i] === -1));
  assert.ok(worstAnomaly > Math.min(...inliers));
});

test('the synchronous DetectorModel path matches scikit-learn to 1e-5, and round-trips its params', async (t) => {
  const model = onnxFactory.fromParams(modelBytes, expected.features) as OnnxDetectorModel;
  t.after(() => model.close());
  assert.equal(model.kind, 'onnx');
  assert.deepEqual(model.features, expected.features);
  const state = model.newState();
  const scores = expected.inputs.map((row, i) => model.score(state, observation(row, i)));
  close(scores, expected.sklearn.score_samples.map((s) => -s), 'score vs -score_samples');
  const again = onnxFactory.fromParams(model.toParams(), expected.features) as OnnxDetectorModel;
  t.after(() => again.close());
  const state2 = again.stateFromJSON(JSON.parse(JSON.stringify(model.stateToJSON(state))));
  assert.deepEqual(again.stateToJSON(state2), model.stateToJSON(state));
  const probe = observation([61, 0.7, 12]);
  assert.equal(again.score(state2, probe), model.score(state, probe));
});

test('missing and non-finite metrics carry the last value forward, then the fallback; never NaN', async (t) => {
  const params = parseOnnxParams({ model: modelBytes, fallback: [60, 0.5, 10] }, expected.features);
  const model = OnnxDetectorModel.load(params, expected.features);
  t.after(() => model.close());
  const first = model.newState();
  // Nothing seen: the fallback fills in.
  const fromFallback = model.score(first, { ts: 0, values: { temperature: NaN } });
  const reference = model.score(model.newState(), observation([60, 0.5, 10]));
  assert.equal(fromFallback, reference);
  // Seen once: the last finite value fills in.
  const state = model.newState();
  model.score(state, observation([75, 0.5, 10]));
  const carried = model.score(state, { ts: 1, values: { temperature: Infinity, vibration: 0.5, current: 10 } });
  assert.equal(carried, model.score(model.newState(), observation([75, 0.5, 10])));
  for (const s of [fromFallback, carried]) assert.ok(s >= 0 && s <= 1);
});

test('explain names the metric that makes an observation anomalous', async (t) => {
  const model = onnxFactory.fromParams(modelBytes, expected.features) as OnnxDetectorModel;
  t.after(() => model.close());
  const state = model.newState();
  for (const row of expected.inputs.slice(0, 24)) model.score(state, observation(row));
  const odd = observation([60, 0.5, 16]);
  model.score(state, odd);
  const weights = model.explain(state, odd);
  assert.deepEqual(Object.keys(weights), expected.features);
  for (const w of Object.values(weights)) assert.ok(w >= 0);
  assert.ok((weights['current'] as number) > (weights['temperature'] as number));
  assert.ok((weights['current'] as number) > (weights['vibration'] as number));
});

test('bytes that are not an ONNX model are MODEL_ONNX, sync and async', async () => {
  const garbage = new Uint8Array(256).map((_, i) => (i * 37) & 0xff);
  assert.throws(() => onnxFactory.fromParams(garbage, expected.features), (e) => isSluiceError(e, ErrorCode.MODEL_ONNX));
  const truncated = modelBytes.subarray(0, 1000);
  await assert.rejects(OnnxScorer.open(parseOnnxParams(truncated, expected.features), expected.features), (e) => isSluiceError(e, ErrorCode.MODEL_ONNX));
  assert.throws(() => onnxFactory.fit([]), (e) => isSluiceError(e, ErrorCode.MODEL_ONNX));
});

test('a feature count unlike the model input is MODEL_FEATURE_MISMATCH', async (t) => {
  assert.throws(() => onnxFactory.fromParams(modelBytes, ['temperature', 'vibration']), (e) => isSluiceError(e, ErrorCode.MODEL_FEATURE_MISMATCH));
  assert.throws(() => onnxFactory.fromParams(modelBytes, [...expected.features, 'pressure']), (e) => isSluiceError(e, ErrorCode.MODEL_FEATURE_MISMATCH));
  const scorer = await OnnxScorer.open(parseOnnxParams(modelBytes, expected.features), expected.features);
  t.after(() => scorer.close());
  await assert.rejects(scorer.scoreBatch([[60, 0.5]]), (e) => isSluiceError(e, ErrorCode.MODEL_FEATURE_MISMATCH));
  await assert.rejects(scorer.scoreBatch(new Float32Array(7)), (e) => isSluiceError(e, ErrorCode.MODEL_FEATURE_MISMATCH));
  assert.throws(() => scorer.scoreSync([1, 2, 3, 4]), (e) => isSluiceError(e, ErrorCode.MODEL_FEATURE_MISMATCH));
});

test('malformed params are MODEL_INVALID naming the field', () => {
  assert.throws(() => parseOnnxParams({ model: 'not base64!' }, expected.features), (e) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/params/model'));
  assert.throws(() => parseOnnxParams({ model: modelBytes, fallback: [1] }, expected.features), (e) => isSluiceError(e, ErrorCode.MODEL_INVALID) && e.message.includes('/params/fallback'));
});

test('an output the model lacks is MODEL_ONNX naming it', () => {
  assert.throws(() => onnxFactory.fromParams({ model: modelBytes, output: 'nope' }, expected.features), (e) => isSluiceError(e, ErrorCode.MODEL_ONNX) && e.message.includes('nope'));
});

test('the event loop keeps ticking while a large batch is scored', async (t) => {
  const scorer = await OnnxScorer.open(parseOnnxParams(modelBytes, expected.features), expected.features);
  t.after(() => scorer.close());
  const rows = 300_000;
  const width = expected.features.length;
  const batch = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) batch.set(expected.inputs[r % expected.inputs.length] as number[], r * width);
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 2);
  const start = performance.now();
  const scores = await scorer.scoreBatch(batch);
  const elapsed = performance.now() - start;
  clearInterval(timer);
  assert.equal(scores.length, rows);
  assert.equal(scores[rows - 1], scores[(rows - 1) % expected.inputs.length]);
  // Inference on this thread would stall it for the whole batch (a single gap ≈ elapsed). Generous:
  // the longest gap must stay under half the batch's time, with ticks all along.
  t.diagnostic(`${rows} rows in ${elapsed.toFixed(0)} ms; ${ticks} ticks; longest gap ${maxGap.toFixed(1)} ms`);
  assert.ok(ticks >= 3, `only ${ticks} ticks in ${elapsed.toFixed(0)} ms`);
  assert.ok(maxGap < elapsed / 2, `longest gap ${maxGap.toFixed(1)} ms of ${elapsed.toFixed(0)} ms`);
});
