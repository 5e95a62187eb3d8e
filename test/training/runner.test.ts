/**
 * Fits on a worker thread: the worker returns the same model and figures as the calling thread for
 * the same seed (and another model for another seed), reports a job's failure as a typed error
 * and keeps working, and stops a job at once when the run is stopped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/errors.ts';
import type { TrainingJob } from '../../src/training/job.ts';
import { TRAINING_DEFAULTS } from '../../src/training/options.ts';
import { inProcessRunner, workerRunner } from '../../src/training/runner.ts';
import { SeriesSampler } from '../../src/training/sampler.ts';
import { expectCode } from '../helpers.ts';
import { fleetTelemetry } from './fleet.ts';

function job(records: number, overrides: Partial<TrainingJob> = {}): TrainingJob {
  const sampler = new SeriesSampler({ maxRecords: 1_000_000, maxRecordsPerSeries: 1_000_000, maxSeries: 100 });
  for (const r of fleetTelemetry({ classes: { pump: ['a', 'b', 'c'] }, records, start: 0, stepMs: 1_000 })) sampler.add(r, 'class');
  return {
    name: 'class.pump',
    detector: 'isolation-forest',
    hyperparameters: { trees: 20 },
    features: null,
    seed: 4,
    series: sampler.series(),
    evaluation: TRAINING_DEFAULTS.evaluation,
    live: null,
    ...overrides,
  };
}

test('the worker thread returns the same model as the calling thread for the same seed', async (t) => {
  const worker = workerRunner();
  t.after(() => worker.close());
  const local = inProcessRunner();
  const j = job(600);
  const [onWorker, here] = await Promise.all([worker.run(j), local.run(j)]);
  assert.deepEqual(onWorker, here);
  assert.ok(onWorker.candidate.injected > 0);
  const reseeded = await worker.run({ ...j, seed: 5 });
  assert.notDeepEqual(reseeded.params, here.params, 'the seed matters (isolation-forest subsamples and splits at random)');
});

test('a failing job is a typed error and the worker goes on; a stop ends a running job at once', async (t) => {
  const worker = workerRunner();
  t.after(() => worker.close());
  await expectCode(worker.run(job(300, { detector: 'no-such-detector' })), ErrorCode.MODEL_UNKNOWN_KIND, 'no-such-detector');
  assert.equal((await worker.run(job(300, { detector: 'robust-zscore', hyperparameters: {} }))).kind, 'robust-zscore');

  const controller = new AbortController();
  const big = worker.run(job(5_000, { detector: 'sluice-nab', hyperparameters: {} }), controller.signal);
  setImmediate(() => controller.abort());
  await expectCode(big, ErrorCode.TRAINING_ABORTED, 'stopped before it finished');
  assert.equal((await worker.run(job(300, { detector: 'robust-zscore', hyperparameters: {} }))).name, 'class.pump', 'a new worker takes the next job');
});
