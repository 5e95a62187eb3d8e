/**
 * bench/core-stalls.ts: the busy loop that finds the gaps a machine leaves in a core's time, and
 * its summary.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { runCoreStalls, spinForGaps, summarizeStalls, type CoreStalls } from '../../bench/core-stalls.ts';

test('the summary counts the gaps, those over 5 ms, the longest first, and their rate', () => {
  const s = summarizeStalls([1.5, 12.34, 6, 2, 30], 60);
  assert.equal(s.stalls, 5);
  assert.equal(s.stallsOver5Ms, 3);
  assert.deepEqual(s.longestMs, [30, 12.3, 6, 2, 1.5]);
  assert.equal(s.stalledMs, 52);
  assert.equal(s.over5MsPerMinute, 3);
  assert.deepEqual(summarizeStalls([], 10), { seconds: 10, stalls: 0, stallsOver5Ms: 0, longestMs: [], stalledMs: 0, over5MsPerMinute: 0 });
});

test('the busy loop reports only gaps over the threshold', () => {
  for (const g of spinForGaps(0.2, 0.5)) assert.ok(g > 0.5, `gap ${g} ms over the threshold`);
});

test('a process stopped for 150 ms (SIGSTOP, as when its core is taken away) reports a gap that long', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../bench/core-stalls.ts', import.meta.url)), '--seconds', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await delay(700);
  child.kill('SIGSTOP');
  await delay(150);
  child.kill('SIGCONT');
  assert.equal(await exited, 0);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as CoreStalls;
  assert.ok(result.longestMs[0]! >= 140, `the longest gap, ${result.longestMs[0]} ms, covers the stop`);
  assert.ok(result.stallsOver5Ms >= 1);
  assert.ok(result.stalledMs >= 140 && result.stalledMs < 2000);
});

test('bad flags are rejected with the usage', () => {
  assert.throws(() => runCoreStalls(['--seconds', '0']), /--seconds must be a number in \(0, 3600\]/);
  assert.throws(() => runCoreStalls(['--min-ms', 'x']), /--min-ms must be a number > 0/);
  assert.throws(() => runCoreStalls(['--bogus']), /Unknown option '--bogus'/);
});
