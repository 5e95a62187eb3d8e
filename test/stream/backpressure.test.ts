/**
 * Backpressure on the real embedded log: a sink that does not finish holds the task, and the
 * runtime stops reading its input (bounded buffers) instead of piling records up in memory; once
 * the sink moves again every record arrives, in order, none lost.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { jsonCodec, LOG_CHANNELS, stringCodec } from '../../src/log/index.ts';
import { run, topology } from '../../src/stream/index.ts';
import { bytes, eventually } from '../helpers.ts';
import { createTopics, freshLog, produce } from './runtime-helpers.ts';

const TOTAL = 5_000;
const BATCH = 100;
const IN_FLIGHT = 2;

test('a stalled sink stops the source; when it moves again every record arrives in order', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1 });
  await produce(log, Array.from({ length: TOTAL }, (_, n) => ({ topic: 'in', key: bytes('k'), value: bytes(String(n)) })));

  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const delivered: number[] = [];
  const b = topology();
  b.stream('in', { key: stringCodec, value: jsonCodec<number>() }).forEach(async (r) => {
    await gate;
    delivered.push(r.value);
  });

  let polled = 0;
  const onPoll = (message: unknown): void => {
    polled += (message as { records: number }).records;
  };
  subscribe(LOG_CHANNELS.poll, onPoll);
  t.after(() => unsubscribe(LOG_CHANNELS.poll, onPoll));

  const app = await run(b.build(), { log, applicationId: 'backpressure', maxBatchRecords: BATCH, maxInFlightBatches: IN_FLIGHT, pollTimeoutMs: 10 });
  t.after(() => app.close());
  await eventually(() => polled > 0, { message: 'the app read its first batch' });
  // A negative property needs a window: for half a second of stall the app must not read on.
  await delay(500);
  const bound = BATCH * (IN_FLIGHT + 1);
  t.diagnostic(`read ${polled} records while the sink was stalled`);
  assert.ok(polled <= bound, `read ${polled} records while the sink was stalled (bound ${bound} = batch × (in-flight batches + 1))`);
  assert.equal(delivered.length, 0);

  open();
  await eventually(() => delivered.length === TOTAL, { timeoutMs: 20_000, message: 'every record delivered' });
  assert.deepEqual(delivered, Array.from({ length: TOTAL }, (_, n) => n));
});
