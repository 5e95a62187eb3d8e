/** WorkerPool: CPU-heavy steps on worker threads, alone and inside a topology through mapAsync. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, type SluiceError } from '../../src/errors.ts';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import { topology, TopologyTestDriver, WorkerPool } from '../../src/stream/index.ts';
import { expectCode } from '../helpers.ts';

const functions = new URL('../fixtures/stream/worker-functions.ts', import.meta.url);

async function pool<I, O>(exportName: string, threads = 2): Promise<WorkerPool<I, O>> {
  return WorkerPool.start<I, O>({ module: functions, export: exportName, threads });
}

test('answers every call with its own result, on every thread', async (t) => {
  const p = await pool<number, { n: number; square: number; thread: number }>('square');
  t.after(() => p.close());
  const inputs = Array.from({ length: 1000 }, (_, i) => i);
  const results = await Promise.all(inputs.map((n) => p.call(n)));
  assert.deepEqual(results.map((r) => [r.n, r.square]), inputs.map((n) => [n, n * n]));
  assert.equal(new Set(results.map((r) => r.thread)).size, 2, 'both threads took calls');
  assert.deepEqual(p.stats(), { threads: 2, outstanding: 0, completed: 1000, failed: 0, restarts: 0 });
});

test('awaits async functions', async (t) => {
  const p = await pool<number, number>('slowDouble', 1);
  t.after(() => p.close());
  assert.deepEqual(await Promise.all([1, 2, 3].map((n) => p.call(n))), [2, 4, 6]);
});

test('an error thrown by the function fails its own call only, with its name and message', async (t) => {
  const p = await pool<number, number>('evenOnly');
  t.after(() => p.close());
  const outcomes = await Promise.allSettled([2, 3, 4].map((n) => p.call(n)));
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  const error = (outcomes[1] as PromiseRejectedResult).reason as Error;
  assert.equal(error.name, 'RangeError');
  assert.equal(error.message, 'odd input 3');
  assert.equal(p.stats().failed, 1);
});

test('a SluiceError thrown by the function comes back typed: code, message and retriable', async (t) => {
  const p = await pool<number, number>('nonZero', 1);
  t.after(() => p.close());
  const error = await expectCode(p.call(0), ErrorCode.INVALID_ARGUMENT, 'zero is not allowed');
  assert.equal((error as SluiceError).retriable, true);
  assert.equal(await p.call(5), 5);
});

test('a result that cannot be cloned fails its call and the pool carries on', async (t) => {
  const p = await pool<number, unknown>('unclonable', 1);
  t.after(() => p.close());
  await assert.rejects(p.call(1), /could not be cloned/);
  assert.equal(p.stats().threads, 1);
});

test('a thread that dies fails its outstanding calls (retriable) and is replaced', async (t) => {
  const p = await pool<number, number>('crashOnNegative', 1);
  t.after(() => p.close());
  const error = await expectCode(p.call(-1), ErrorCode.STREAM_WORKER_FAILED, 'exited with code 3');
  assert.equal((error as unknown as { retriable: boolean }).retriable, true);
  assert.equal(await p.call(5), 5);
  assert.deepEqual({ ...p.stats(), outstanding: 0 }, { threads: 1, outstanding: 0, completed: 1, failed: 1, restarts: 1 });
});

test('start fails with a clear error for a missing export, a missing module and bad options', async () => {
  await expectCode(pool('notAFunction'), ErrorCode.STREAM_WORKER_FAILED, "export 'notAFunction'", 'a number, not a function');
  await expectCode(pool('nope'), ErrorCode.STREAM_WORKER_FAILED, "export 'nope'", 'missing');
  await expectCode(WorkerPool.start({ module: new URL('./no-such-module.ts', import.meta.url) }), ErrorCode.STREAM_WORKER_FAILED, 'no-such-module.ts');
  await expectCode(WorkerPool.start({ module: 'relative/path.ts' }), ErrorCode.INVALID_ARGUMENT, 'module', 'absolute path');
  await expectCode(WorkerPool.start({ module: functions, threads: 0 }), ErrorCode.INVALID_ARGUMENT, 'threads');
  await expectCode(WorkerPool.start({ module: functions, maxBatch: 1.5 }), ErrorCode.INVALID_ARGUMENT, 'maxBatch');
});

test('close fails outstanding and later calls with SLUICE_STREAM_CLOSED', async () => {
  const p = await pool<number, number>('slowDouble', 1);
  const outstanding = expectCode(p.call(1), ErrorCode.STREAM_CLOSED);
  await p.close();
  await outstanding;
  await expectCode(p.call(2), ErrorCode.STREAM_CLOSED);
});

test('inside a topology: mapAsync keeps order and the error policy handles failed calls', async (t) => {
  const p = await pool<number, number>('evenOnly');
  t.after(() => p.close());
  const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;
  const b = topology({ errors: { onError: 'skip' } });
  b.stream('in', codecs)
    .mapAsync((r) => p.call(r.value), { concurrency: 16 })
    .to('out', codecs);
  const driver = new TopologyTestDriver(b.build());
  await driver.input<string, number>('in').pipeAll(Array.from({ length: 40 }, (_, value) => ({ key: 'k', value })));
  assert.deepEqual(driver.output('out', codecs).readValues(), Array.from({ length: 20 }, (_, i) => i * 2));
  assert.equal(driver.metrics()[0]!.skipped, 20);
});
