/** Serving options: one defaults object, and CONFIG_INVALID errors that name the path and the reason. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import { resolveServingOptions, SERVING_DEFAULTS, type ServingOptions } from '../../src/serving/index.ts';
import { expectCode } from '../helpers.ts';
import { embeddedBackend } from '../stream/backends.ts';

test('defaults fill every option that is not given', async (t) => {
  const log = await embeddedBackend.open(t);
  const o = resolveServingOptions({ log });
  assert.equal(o.applicationId, SERVING_DEFAULTS.applicationId);
  assert.deepEqual(o.topics, SERVING_DEFAULTS.topics);
  assert.equal(o.maxSkewMs, SERVING_DEFAULTS.maxSkewMs);
  assert.equal(o.stateCheckpointMs, SERVING_DEFAULTS.stateCheckpointMs);
  assert.equal(o.latencySampleEvery, SERVING_DEFAULTS.latencySampleEvery);
  assert.deepEqual(o.http, SERVING_DEFAULTS.http);
  assert.deepEqual(o.stream, SERVING_DEFAULTS.stream);
  assert.equal(o.ensemble, null);
  assert.deepEqual(resolveServingOptions({ log, ensemble: {} }).ensemble, SERVING_DEFAULTS.ensemble);
  assert.equal(resolveServingOptions({ log, maxSkewMs: null, http: null }).maxSkewMs, null);
});

test('a bad option is a CONFIG_INVALID error naming its path and the reason', async (t) => {
  const log = await embeddedBackend.open(t);
  const cases: [Record<string, unknown>, string][] = [
    [{ maxSkewMs: -1 }, '/serving/maxSkewMs must be a number ≥ 0, got -1'],
    [{ partitions: 0 }, '/serving/partitions must be an integer in 1..10000, got 0'],
    [{ topics: { models: '' } }, '/serving/topics/models must be a string of 1-128 characters, got ""'],
    [{ topics: { anomalies: 'telemetry' } }, "/serving/topics must name different topics; 'telemetry' is used twice"],
    [{ topics: { modles: 'x' } }, '/serving/topics/modles is not an option'],
    [{ colour: 'blue' }, '/serving/colour is not an option'],
    [{ delivery: 'twice' }, "/serving/delivery must be 'at-least-once' or 'exactly-once', got \"twice\""],
    [{ ensemble: { combine: 'median' } }, "/serving/ensemble/combine must be 'max', 'mean' or 'vote', got \"median\""],
    [{ ensemble: { models: [] } }, '/serving/ensemble/models must be a non-empty array of model names'],
    [{ ensemble: { budgetMs: -5 } }, '/serving/ensemble/budgetMs must be a number ≥ 0, got -5'],
    [{ http: { port: 70_000 } }, '/serving/http/port must be an integer in 0..65535, got 70000'],
    [{ shadows: [{ name: 'default', version: 0 }] }, '/serving/shadows/0/version must be an integer ≥ 1, got 0'],
    [{ shadows: [{ name: 'bad name' }] }, '/serving/shadows/0/name must be a name of 1-128 characters'],
    [{ decider: { warmup: -1 } }, '/serving/decider is not valid: decider options: warmup must be a non-negative integer'],
    [{ latencySampleEvery: 0 }, '/serving/latencySampleEvery must be an integer in 1..1000000, got 0'],
    [{ stream: { maxBatchRecords: 0 } }, '/serving/stream/maxBatchRecords must be an integer ≥ 1, got 0'],
    [{ stream: { maxOutputDelayMs: -1 } }, '/serving/stream/maxOutputDelayMs must be a number ≥ 0, got -1'],
    [{ applicationId: 'has space' }, '/serving/applicationId must be a name of 1-100 characters'],
    [{ log: {} }, '/serving/log must be a Log (from openLog)'],
  ];
  for (const [bad, message] of cases) {
    const error = await expectCode(() => resolveServingOptions({ log, ...bad } as unknown as ServingOptions), ErrorCode.CONFIG_INVALID, message);
    assert.ok(error.message.startsWith('/serving/'), error.message);
  }
});
