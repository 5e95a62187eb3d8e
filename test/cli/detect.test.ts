/**
 * `sluice detect` through the real CLI: a semicolon CSV with two sensors, fitted on its first rows,
 * every row written back with anomaly_score and is_anomaly; bad rows are reported with file, line
 * and column.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './run-cli.ts';

function sensors(rows: number): string {
  const lines = ['time;temperature;vibration;site'];
  for (let i = 0; i < rows; i++) {
    const temp = i === 400 ? '80,0' : i === 250 ? '' : (20 + Math.sin(i / 10) + ((i * 7919) % 13) / 50).toFixed(3).replace('.', ',');
    lines.push(`2024-03-01T${String(Math.floor(i / 60) % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00Z;${temp};${(Math.cos(i / 6) * 0.2).toFixed(4).replace('.', ',')};plant-a`);
  }
  return `${lines.join('\n')}\n`;
}

test('sluice detect scores every row after the training rows and writes anomaly_score and is_anomaly', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-detect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.csv');
  const output = join(dir, 'out.csv');
  writeFileSync(input, sensors(600));
  const r = await runCli(t, ['detect', '--input', input, '--output', output, '--columns', 'temperature,vibration', '--train-rows', '100', '--detector', 'robust-zscore']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /robust-zscore: scored 500 rows .*columns temperature, vibration; fitted on 100/);
  const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
  const inputLines = readFileSync(input, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, inputLines.length);
  assert.equal(lines[0], 'time;temperature;vibration;site;anomaly_score;is_anomaly');
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(';');
    assert.ok(line.startsWith(`${inputLines[i + 1]};`));
    const score = Number(cells.at(-2));
    const flag = cells.at(-1);
    assert.ok(score >= 0 && score <= 1, `row ${i}: score ${cells.at(-2)}`);
    assert.ok(flag === '0' || flag === '1');
    if (i < 100) assert.deepEqual([score, flag], [0, '0']);
  });
  const anomalies = lines.slice(1).filter((l) => l.endsWith(';1')).length;
  assert.match(r.stdout, new RegExp(`: ${anomalies} anomal`));
});

test('sluice detect: a bad timestamp is reported with file, line and column; usage mistakes exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-detect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'bad.csv');
  writeFileSync(input, 'timestamp,v\n2024-01-01T00:00:00Z,1\nlater,2\n');
  const bad = await runCli(t, ['detect', '--input', input, '--output', join(dir, 'o.csv'), '--detector', 'robust-zscore']);
  assert.equal(bad.code, 1);
  assert.ok(bad.stderr.includes(`SLUICE_EVAL_INVALID_DATA]: ${input}:3: column "timestamp": "later" is not a timestamp`), bad.stderr);
  const noOutput = await runCli(t, ['detect', '--input', input]);
  assert.equal(noOutput.code, 2);
  assert.match(noOutput.stderr, /missing --output/);
  const tooMany = await runCli(t, ['detect', '--input', join(dir, 'bad.csv'), '--output', join(dir, 'o.csv'), '--train-rows', 'x']);
  assert.equal(tooMany.code, 2);
});

test('sluice detect with the default detector flags the spike row itself (its scores are already likelihoods)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-detect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.csv');
  const output = join(dir, 'out.csv');
  // A daily-looking cycle with small deterministic noise, long enough to learn, then one spike.
  const lines = ['time,temperature'];
  for (let i = 0; i < 3000; i++) {
    const temp = i === 2500 ? 80 : 20 + Math.sin((2 * Math.PI * i) / 288) + ((i * 7919) % 13) / 100;
    lines.push(`${new Date(Date.UTC(2024, 2, 1) + i * 300_000).toISOString()},${temp.toFixed(3)}`);
  }
  writeFileSync(input, `${lines.join('\n')}\n`);
  const r = await runCli(t, ['detect', '--input', input, '--output', output]);
  assert.equal(r.code, 0, r.stderr);
  const rows = readFileSync(output, 'utf8').trimEnd().split('\n').slice(1).map((line) => line.split(','));
  assert.equal(rows[2500]!.at(-1), '1', `the spike row (temperature 80) is an anomaly: ${rows[2500]!.join(',')}`);
  const flagged = rows.flatMap((cells, i) => (cells.at(-1) === '1' ? [i] : []));
  assert.ok(flagged.length <= 5, `a few alarms at most, got rows ${flagged.join(', ')}`);
});
