/**
 * `detect`'s runner: fit on the first N rows, score the rest causally (NaN cells reach the detector
 * and yield valid scores), decisions from the decider, and the output CSV keeps every input line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsvTable } from '../../../src/model/eval/csv-table.ts';
import { formatDetectCsv, runDetect } from '../../../src/model/eval/detect-run.ts';
import { eventMetrics } from '../../../src/model/eval/event-metrics.ts';
import { toyFactory } from './toy-detector.ts';

function csv(rows: number): string {
  const lines = ['timestamp;temp;vib'];
  for (let i = 0; i < rows; i++) {
    const temp = i === 150 ? '95,0' : i === 80 ? '' : (20 + Math.sin(i / 5)).toFixed(3).replace('.', ',');
    lines.push(`${1_700_000_000 + 60 * i};${temp};${(Math.cos(i / 7) * 0.1).toFixed(4)}`);
  }
  return lines.join('\n');
}

test('runDetect fits on the first N rows, then scores one row at a time; decisions come from the decider', () => {
  const table = parseCsvTable(csv(200), 'sensors.csv');
  const decided: number[] = [];
  const result = runDetect({ table, factory: toyFactory, trainRows: 50, decider: { decide: (score, ts) => (decided.push(ts), { likelihood: score, anomaly: score > 0.9 }) } });
  assert.equal(toyFactory.lastHistory, 50);
  assert.deepEqual(toyFactory.lastFeatures, ['temp', 'vib']);
  assert.equal(decided.length, 150);
  assert.equal(decided[0], table.timestamps[50]);
  assert.ok(result.scores.subarray(0, 50).every((s) => s === 0));
  assert.ok(result.scores.every((s) => s >= 0 && s <= 1 && !Number.isNaN(s)));
  assert.equal(result.anomalies[150], 1, 'the spike is flagged');
  assert.ok(result.anomalies.reduce((a, b) => a + b, 0) <= 3);
  const out = formatDetectCsv(table, result).trimEnd().split('\n');
  assert.equal(out.length, 201);
  assert.equal(out[0], 'timestamp;temp;vib;anomaly_score;is_anomaly');
  assert.ok(out[151]!.startsWith(`${table.lines[150]};`));
  assert.ok(out[151]!.endsWith(';1'));
});

test('runDetect with 0 training rows is purely online; out-of-range train rows are rejected', () => {
  const table = parseCsvTable(csv(20), 'sensors.csv');
  runDetect({ table, factory: toyFactory, trainRows: 0 });
  assert.equal(toyFactory.lastHistory, 0);
  assert.throws(() => runDetect({ table, factory: toyFactory, trainRows: 21 }), /train rows must be an integer in 0\.\.20/);
});

test('event metrics: alarms are runs of detections; a window is detected by any of its rows', () => {
  const scores = new Float64Array(40);
  for (const i of [10, 11, 12, 20, 30, 31]) scores[i] = 1;
  const m = eventMetrics([{ scores, windows: [{ start: 11, end: 15 }, { start: 25, end: 28 }], probation: 0 }], 0.5);
  assert.deepEqual(m, { alarms: 3, trueAlarms: 1, falseAlarms: 2, windows: 2, detectedWindows: 1, precision: 1 / 3, recall: 0.5, f1: 0.4 });
});
