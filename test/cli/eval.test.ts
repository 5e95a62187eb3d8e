/**
 * `sluice eval nab` through the real CLI on a three-file subset of NAB copied into a temp folder:
 * results in NAB's format, the report, the table, the final JSON line, and that re-scoring the
 * written files reproduces the printed scores; the fit modes and --likelihood. Skips when the
 * dataset is absent.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readNabLabels, readNabResults } from '../../src/model/eval/nab-dataset.ts';
import { nabProbation } from '../../src/model/eval/nab-profiles.ts';
import { scoreCorpus } from '../../src/model/eval/nab-scorer.ts';
import { runCli } from './run-cli.ts';

const NAB = join(import.meta.dirname, '../../../shared/datasets/nab');
const skip = existsSync(join(NAB, 'data')) ? false : `NAB dataset not found at ${NAB}`;
const KEYS = ['artificialNoAnomaly/art_daily_no_noise.csv', 'artificialWithAnomaly/art_daily_flatmiddle.csv', 'realKnownCause/rogue_agent_key_hold.csv'];

function subsetCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'sluice-eval-'));
  for (const key of KEYS) {
    mkdirSync(join(root, 'data', key.split('/')[0]!), { recursive: true });
    copyFileSync(join(NAB, 'data', key), join(root, 'data', key));
  }
  mkdirSync(join(root, 'labels'));
  copyFileSync(join(NAB, 'labels/combined_windows.json'), join(root, 'labels/combined_windows.json'));
  return root;
}

test('sluice eval nab runs a detector over the subset, writes results and a report, and ends with the JSON scores', { skip }, async (t) => {
  const root = subsetCopy();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  const r = await runCli(t, ['eval', 'nab', '--data', root, '--detector', 'robust-zscore', '--out', out, '--threshold', '0.5', '--json'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const scores = JSON.parse(lines.at(-1)!) as Record<string, number>;
  assert.deepEqual(Object.keys(scores), ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']);
  assert.match(r.stdout, /NAB evaluation of robust-zscore on 3 series/);
  assert.match(r.stdout, /At the fixed threshold 0\.5 /);
  for (const profile of Object.keys(scores)) assert.match(r.stdout, new RegExp(`^${profile}\\s+-?\\d+\\.\\d\\d\\s`, 'm'));
  // Not a terminal: one progress line per series on stderr.
  assert.equal(r.stderr.split('\n').filter((l) => /^\[\d\/3\] /.test(l)).length, 3);
  for (const key of KEYS) {
    const written = readFileSync(join(out, key), 'utf8').split('\n');
    const data = readFileSync(join(root, 'data', key), 'utf8').trimEnd().split(/\r?\n/);
    assert.equal(written[0], 'timestamp,value,anomaly_score,label');
    assert.equal(written.length - 2, data.length - 1);
    assert.ok(written[1]!.startsWith(`${data[1]},`));
  }
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.equal(html.match(/<svg /g)?.length, 3);
  // The written per-row files, scored in-process, give the printed scores.
  const labels = readNabLabels(join(root, 'labels/combined_windows.json'));
  const series = readNabResults({ dir: out, labels });
  assert.equal(series.length, 3);
  const result = scoreCorpus(series.map((s) => ({ name: s.key, scores: s.scores, windows: s.windows })));
  for (const [profile, score] of Object.entries(scores)) assert.equal(result.profiles[profile]!.score, score);
});

test('sluice eval nab --likelihood: isolation-forest is fitted per series on its probationary rows (auto), which report 0; likelihoods in [0, 1]', { skip }, async (t) => {
  const root = subsetCopy();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'out');
  const r = await runCli(t, ['eval', 'nab', '--data', root, '--detector', 'isolation-forest', '--likelihood', '--out', out, '--json'], 60_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fit: probation .*; scores: calibrated likelihood/m);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { fit: string; likelihood: Record<string, unknown> };
  assert.equal(summary.fit, 'probation');
  assert.equal(summary.likelihood.window, 8640);
  for (const key of KEYS) {
    const rows = readFileSync(join(out, key), 'utf8').trim().split('\n').slice(1);
    const scores = rows.map((l) => Number(l.split(',')[2]));
    const p = nabProbation(rows.length);
    assert.ok(scores.slice(0, p).every((s) => s === 0), `${key}: probationary rows report 0`);
    assert.ok(scores.every((s) => s >= 0 && s <= 1));
    assert.ok(scores.slice(p).some((s) => s > 0), `${key}: scored rows`);
  }
  // --fit none cannot fit isolation-forest on an empty history: a typed error, exit 1.
  const none = await runCli(t, ['eval', 'nab', '--data', root, '--detector', 'isolation-forest', '--fit', 'none', '--out', join(root, 'o')]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /SLUICE_MODEL_INVALID.*history/);
});

test('sluice eval: usage mistakes exit 2, an unknown detector or a bad dataset exits 1 with a typed error', { skip }, async (t) => {
  const root = subsetCopy();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const noData = await runCli(t, ['eval', 'nab']);
  assert.equal(noData.code, 2);
  assert.match(noData.stderr, /missing --data/);
  const wrongSuite = await runCli(t, ['eval', 'yahoo', '--data', root]);
  assert.equal(wrongSuite.code, 2);
  const badThreshold = await runCli(t, ['eval', 'nab', '--data', root, '--threshold', '2']);
  assert.equal(badThreshold.code, 2);
  assert.match(badThreshold.stderr, /--threshold must be a number in \[0, 1\]/);
  const badFit = await runCli(t, ['eval', 'nab', '--data', root, '--fit', 'later']);
  assert.equal(badFit.code, 2);
  assert.match(badFit.stderr, /--fit must be one of auto, none, probation/);
  const unknown = await runCli(t, ['eval', 'nab', '--data', root, '--detector', 'nope', '--out', join(root, 'o')]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /SLUICE_MODEL_UNKNOWN_KIND.*nope/);
  const missing = await runCli(t, ['eval', 'nab', '--data', join(root, 'absent'), '--detector', 'robust-zscore', '--out', join(root, 'o')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /SLUICE_EVAL_INVALID_DATA/);
});
