/**
 * bench/paced-append.ts: the CPU a process's threads spend per small append made one at a time,
 * against the same pacing without appends.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { measurePacedAppends, runPacedAppend, threadCpuMs } from '../../bench/paced-append.ts';

const linux = existsSync('/proc/self/task');

test('per-thread CPU: this thread is listed, and busy work shows in it', { skip: !linux && 'needs /proc' }, () => {
  const before = threadCpuMs();
  const until = performance.now() + 60;
  while (performance.now() < until);
  const after = threadCpuMs();
  const main = [...after.keys()].find((name) => (after.get(name) ?? 0) - (before.get(name) ?? 0) > 0);
  assert.ok(main !== undefined, `60 ms of busy work counted on some thread: ${JSON.stringify([...after])}`);
});

test('appends cost the writer thread and more in all than the same pacing without them', { skip: !linux && 'needs /proc' }, async () => {
  const common = { appends: 200, intervalMs: 1, bytes: 200, acks: 'leader' as const, waitingConsumers: 0 };
  const idle = await measurePacedAppends({ ...common, append: false });
  const busy = await measurePacedAppends({ ...common, append: true });
  assert.equal(busy.appended, true);
  assert.equal(busy.appends, 200);
  assert.ok(busy.totalUsPerAppend > idle.totalUsPerAppend, `with appends ${busy.totalUsPerAppend} µs, without ${idle.totalUsPerAppend} µs`);
  assert.ok((busy.cpuUsPerAppend['WorkerThread'] ?? 0) > 0, `the writer thread worked: ${JSON.stringify(busy.cpuUsPerAppend)}`);
});

test('bad flags are rejected with the usage', async () => {
  await assert.rejects(runPacedAppend(['--acks', 'some']), /--acks must be 'leader' or 'all', got 'some'/);
  await assert.rejects(runPacedAppend(['--waiting-consumers=-1']), /--waiting-consumers must be an integer ≥ 0, got '-1'/);
  await assert.rejects(runPacedAppend(['--appends', '0']), /--appends must be a positive integer/);
});
