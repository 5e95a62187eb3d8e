/**
 * Training on a schedule, in virtual time (an injected clock and sleep; no real waits): by record
 * count a run starts at exactly the check where the count is reached, by time at exactly each
 * period; a failed run is reported and the schedule goes on; a stop ends it, also mid-run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isSluiceError } from '../../src/errors.ts';
import { ManualClock } from '../../src/stream/clock.ts';
import { runTrainingSchedule, TrainingTrigger, type ScheduledRun, type TrainingOptionsInput } from '../../src/training/index.ts';
import { expectCode } from '../helpers.ts';
import { fleetTelemetry, produceTelemetry } from './fleet.ts';
import { START, STEP, world } from './setup.ts';

const QUICK: TrainingOptionsInput = { detector: 'robust-zscore', worker: false, per: 'fleet', dryRun: true };

test('by record count: a run at start, then exactly at the check where N new records have arrived', async (t) => {
  const w = await world(t, { records: 300 });
  const controller = new AbortController();
  const appended = [60, 39, 1, 0, 100];
  let checks = 0;
  let nextTs = START + 10_000 * STEP;
  const runsAtCheck: number[] = [];
  const waits: number[] = [];
  await runTrainingSchedule({ log: w.log, store: w.store, signal: controller.signal }, QUICK, {
    schedule: { everyRecords: 100 },
    async sleep() {
      const n = appended[checks++];
      if (n === undefined) return controller.abort();
      const more = fleetTelemetry({ classes: { pump: ['p1'] }, records: n, start: nextTs, stepMs: STEP });
      nextTs += n * STEP;
      await produceTelemetry(w.log, 'telemetry', more);
    },
    onRun(run) {
      assert.ok('report' in run, 'error' in run ? run.error.message : '');
      runsAtCheck.push(checks);
    },
    onWait: (newRecords) => waits.push(newRecords),
  });
  assert.deepEqual(runsAtCheck, [0, 3, 5]);
  assert.deepEqual(waits, [60, 99, 0], 'new records counted from the start of the last run');
});

test('by time: runs start exactly every period of the injected clock', async (t) => {
  const w = await world(t, { records: 300 });
  const clock = new ManualClock(START + 2_000 * STEP);
  const t0 = clock.now();
  const controller = new AbortController();
  const started: number[] = [];
  await runTrainingSchedule({ log: w.log, store: w.store, clock, signal: controller.signal }, QUICK, {
    schedule: { everyMs: 5_000 },
    checkIntervalMs: 1_000,
    async sleep(ms) {
      clock.advance(ms);
      if (clock.now() - t0 > 12_000) controller.abort();
    },
    onRun(run) {
      assert.ok('report' in run);
      started.push(run.report.startedAt - t0);
    },
  });
  assert.deepEqual(started, [0, 5_000, 10_000]);
});

test('a failed run is reported and the schedule goes on; a stop during a run ends the schedule', async (t) => {
  const w = await world(t, { records: 300 });
  const clock = new ManualClock(START + 100_000 * STEP);
  const controller = new AbortController();
  const runs: ScheduledRun[] = [];
  await runTrainingSchedule({ log: w.log, store: w.store, clock, signal: controller.signal }, { ...QUICK, range: { by: 'last', ms: 60_000 } }, {
    schedule: { everyMs: 1_000 },
    async sleep(ms) {
      clock.advance(ms);
      if (runs.length === 2) controller.abort();
    },
    onRun: (run) => runs.push(run),
  });
  assert.equal(runs.length, 2);
  for (const run of runs) assert.ok('error' in run && isSluiceError(run.error, ErrorCode.TRAINING_EMPTY_RANGE), 'the last minute holds no telemetry');

  const stopping = new AbortController();
  const finished: ScheduledRun[] = [];
  await runTrainingSchedule(
    {
      log: w.log,
      store: w.store,
      signal: stopping.signal,
      onProgress: (p) => {
        if (p.phase === 'fit') stopping.abort();
      },
    },
    { ...QUICK, dryRun: false },
    { schedule: { everyRecords: 1 }, onRun: (run) => finished.push(run) },
  );
  assert.deepEqual(finished, [], 'the stopped run reports nothing');
  assert.deepEqual(await w.store.list(), [], 'and publishes nothing');
});

test('a schedule needs one positive period', async (t) => {
  const w = await world(t, { records: 10 });
  const signal = new AbortController().signal;
  await expectCode(runTrainingSchedule({ log: w.log, store: w.store, signal }, QUICK, { schedule: { everyMs: 0 } }), ErrorCode.CONFIG_INVALID, '/training/schedule/everyMs must be an integer ≥ 1');
  await expectCode(runTrainingSchedule({ log: w.log, store: w.store, signal }, QUICK, { schedule: {} as never }), ErrorCode.CONFIG_INVALID, '/training/schedule must be');
  const trigger = new TrainingTrigger({ everyRecords: 10 });
  trigger.started(0, 5);
  assert.deepEqual([trigger.due(99, 14), trigger.due(0, 15)], [false, true]);
});
