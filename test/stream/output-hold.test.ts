/**
 * At-least-once delivery on the real embedded log while the input is backlogged: the outputs of
 * several full batches go out in one append (commit-alo.ts, MAX_HELD_OUTPUTS), in order; the
 * held outputs are released soon after the backlog ends, even when it ends on a full batch and
 * the poll timeout and the commit interval are long; once caught up, a batch's outputs leave at
 * its end.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { LOG_CHANNELS, stringCodec } from '../../src/log/index.ts';
import { run, topology } from '../../src/stream/index.ts';
import { bytes, eventually } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';

const BATCH = 100;
const BACKLOG = 20 * BATCH; // ends on a full batch

test('a backlog is worked off in few appends, in order; held outputs and later ones leave promptly', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, Array.from({ length: BACKLOG }, (_, n) => ({ topic: 'in', key: bytes('k'), value: bytes(String(n)) })));

  const appends: number[] = [];
  const onSend = (message: unknown): void => void appends.push((message as { records: number }).records);
  subscribe(LOG_CHANNELS.send, onSend);
  t.after(() => unsubscribe(LOG_CHANNELS.send, onSend));

  const b = topology();
  b.stream('in', { key: stringCodec, value: stringCodec })
    .mapValues((v) => `out-${v}`)
    .to('out', { value: stringCodec });
  // Neither a poll timeout nor a commit point may be what releases the outputs: both are 60 s.
  const app = await run(b.build(), { log, applicationId: 'hold', maxBatchRecords: BATCH, pollTimeoutMs: 60_000, commitIntervalMs: 60_000 });
  t.after(() => app.close());

  const started = performance.now();
  const outputs = await readTopic(log, 'out', BACKLOG, 10_000);
  // The send channel publishes once the append is acknowledged, a moment after it is readable.
  await eventually(() => appends.reduce((a, n) => a + n, 0) >= BACKLOG, { message: 'every output append acknowledged' });
  t.diagnostic(`${BACKLOG} outputs in ${(performance.now() - started).toFixed(0)} ms, appends of ${appends.join(', ')} records`);
  assert.deepEqual(
    outputs.map((r) => new TextDecoder().decode(r.value)),
    Array.from({ length: BACKLOG }, (_, n) => `out-${n}`),
  );
  // One append is expected; a poll that happened to come back short would add one or two.
  assert.ok(appends.length < BACKLOG / BATCH / 4, `${appends.length} appends for ${BACKLOG / BATCH} backlogged batches: ${appends.join(', ')}`);

  // Caught up: a short batch's outputs leave at its end, not at the next commit point.
  await produce(log, [{ topic: 'in', key: bytes('k'), value: bytes('late') }]);
  const more = await readTopic(log, 'out', BACKLOG + 1, 10_000);
  assert.equal(new TextDecoder().decode(more.at(-1)!.value), 'out-late');
});
