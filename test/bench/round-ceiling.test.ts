/**
 * bench/round-ceiling.ts: the ideal one-core server on rounds of work — its accounting, and that a
 * core taken away shows in its latencies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { calibrate, measureRoundCeiling, runRoundCeiling, type RoundCeiling } from '../../bench/round-ceiling.ts';

test('a round holds the items that keep the core busy as asked, and every item is counted', () => {
  const r = measureRoundCeiling({ busy: 0.2, roundMs: 5, itemUs: 10, seconds: 0.5 });
  assert.equal(r.itemsPerRound, 100, '0.2 × 5 ms / 10 µs');
  assert.equal(r.items % 100, 0);
  assert.ok(r.items >= 90 * 100 && r.items <= 100 * 100, `${r.items} items: one round every 5 ms for 0.5 s`);
  assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.p999Ms && r.p999Ms <= r.maxMs + 0.01, JSON.stringify(r));
  assert.ok(r.measuredBusy > 0.05 && r.measuredBusy < 1, `busy ${r.measuredBusy}`);
  assert.ok(r.over5MsShare >= 0 && r.over5MsShare <= 1);
});

test('calibration: ten times the work per item takes more iterations', () => {
  assert.ok(calibrate(20) > calibrate(2));
});

test('a server stopped for 150 ms (SIGSTOP, as when its core is taken away) reports items that late', async () => {
  const script = fileURLToPath(new URL('../../bench/round-ceiling.ts', import.meta.url));
  const child = spawn(process.execPath, [script, '--seconds', '2', '--busy', '0.3', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // Under --json the progress goes to stderr: its first line says the rounds have begun.
  await once(child.stderr, 'data');
  await delay(300);
  child.kill('SIGSTOP');
  await delay(150);
  child.kill('SIGCONT');
  assert.equal(await exited, 0);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as RoundCeiling;
  assert.ok(result.maxMs >= 140, `the latest item, ${result.maxMs} ms, waited out the stop`);
  // The stop delays the rounds due during it (~30 of ~400) and those the backlog then holds up.
  assert.ok(result.over5MsShare >= 0.05, `share over 5 ms: ${result.over5MsShare}`);
});

test('bad flags are rejected with the usage', () => {
  assert.throws(() => runRoundCeiling(['--busy', '1.5']), /--busy must be a number above 0 and at most 1, got '1.5'/);
  assert.throws(() => runRoundCeiling(['--round-ms', '0']), /--round-ms must be a number above 0/);
  assert.throws(() => runRoundCeiling(['--bogus']), /Unknown option '--bogus'/);
});
