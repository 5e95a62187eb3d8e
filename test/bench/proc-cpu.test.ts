/** bench/proc-cpu.ts: CPU time from /proc stat files. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { cpuSecondsOfStat, processCpuSeconds, threadCpuSeconds } from '../../bench/proc-cpu.ts';

test('user + system ticks of a stat line, whatever the name holds', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const stat = '4242 (odd) name (x)) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 125 0 0 20 0 3 0';
  assert.equal(cpuSecondsOfStat(stat), 3.75);
});

test('this process and its threads are read from /proc', { skip: !existsSync('/proc/self/task') && 'needs /proc' }, () => {
  const until = performance.now() + 30;
  while (performance.now() < until);
  assert.ok(processCpuSeconds(process.pid)! > 0);
  assert.equal(processCpuSeconds(undefined), null);
  assert.equal(processCpuSeconds(-1), null, 'no such process');
  const threads = threadCpuSeconds();
  assert.ok(threads.some((t) => t.tid === String(process.pid) && t.seconds > 0), JSON.stringify(threads));
});
