/**
 * The pipelined at-least-once runtime's in-order commit rule: while batch N's outputs are not
 * acknowledged, no offset of batch N+1 (or later) is committed, even when their outputs were
 * acknowledged first; if batch N's send fails, the application stops with everything before N
 * committed and nothing after it, and a restart re-processes from N (nothing lost).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import type { Log, Producer, ProducerRecord } from '../../src/log/types.ts';
import { run, topology } from '../../src/stream/index.ts';
import { SendPipeline } from '../../src/stream/runtime/pipeline.ts';
import { bytes, eventually, text } from '../helpers.ts';
import { createTopics, freshLog, produce, readTopic } from './runtime-helpers.ts';

const codecs = { key: stringCodec, value: jsonCodec<number>() } as const;

function app() {
  const b = topology();
  b.stream('in', codecs)
    .mapValues((v) => v * 10)
    .to('out', codecs);
  return b.build();
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A log whose producer holds its second send (batch 2, offsets 2-3) until the third send (batch 3)
 * has been acknowledged, then lets it through (`slow`) or fails it (`fail`).
 */
function gatedLog(log: Log, mode: 'slow' | 'fail', heldUntil: Promise<void>) {
  const third = deferred();
  let sends = 0;
  const wrap = (producer: Producer): Producer => ({
    send: async (records: readonly ProducerRecord[]) => {
      const n = ++sends;
      if (n === 2) {
        await third.promise;
        await heldUntil;
        if (mode === 'fail') throw new Error('send of batch 2 failed');
        return producer.send(records);
      }
      const meta = await producer.send(records);
      if (n === 3) third.resolve();
      return meta;
    },
    beginTransaction: () => producer.beginTransaction(),
    close: () => producer.close(),
  });
  const gated: Log = {
    backend: log.backend,
    admin: log.admin,
    producer: (options) => wrap(log.producer(options)),
    consumer: (options) => log.consumer(options),
    close: () => log.close(),
  };
  return { gated, thirdAcked: third.promise };
}

async function committedOffset(log: Log, groupId: string): Promise<number | null> {
  const consumer = log.consumer({ groupId });
  try {
    const [c] = await consumer.committed([{ topic: 'in', partition: 0 }]);
    return c?.offset ?? null;
  } finally {
    await consumer.close();
  }
}

const input = Array.from({ length: 10 }, (_, i) => ({ topic: 'in', key: bytes('k'), value: bytes(String(i)) }));

test('a slow send of batch N holds back the commit of batch N+1, already acknowledged', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, input);
  const release = deferred();
  const { gated, thirdAcked } = gatedLog(log, 'slow', release.promise);
  const a = await run(app(), { log: gated, applicationId: 'pl1', maxBatchRecords: 2, commitIntervalMs: 0 });
  await thirdAcked;
  // Batch 3's outputs are durable, batch 2's are not: nothing past batch 1 may be committed.
  const out = await readTopic(log, 'out', 4);
  assert.deepEqual(out.map((r) => JSON.parse(text(r.value)) as number).slice(0, 2), [0, 10]);
  const held = await committedOffset(log, 'pl1');
  assert.ok(held === null || held === 2, `committed ${held} while batch 2 is unacknowledged`);
  release.resolve();
  await eventually(async () => (await committedOffset(log, 'pl1')) === 10);
  await a.close();
  const all = await readTopic(log, 'out', 10);
  assert.deepEqual(new Set(all.map((r) => JSON.parse(text(r.value)) as number)), new Set(input.map((_, i) => i * 10)));
});

test('a failed send of batch N stops the application with batch N+1 uncommitted; a restart loses nothing', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, input);
  const { gated } = gatedLog(log, 'fail', Promise.resolve());
  const a = await run(app(), { log: gated, applicationId: 'pl2', maxBatchRecords: 2, commitIntervalMs: 0 });
  await assert.rejects(a.stopped(), /send of batch 2 failed/);
  assert.equal(a.state, 'failed');
  assert.equal(await committedOffset(log, 'pl2'), 2, 'batch 1 committed, batch 3 (acknowledged after the failure) not');

  const b = await run(app(), { log, applicationId: 'pl2' });
  await eventually(async () => (await committedOffset(log, 'pl2')) === 10);
  await b.close();
  const all = await readTopic(log, 'out', 10);
  const values = new Set(all.map((r) => JSON.parse(text(r.value)) as number));
  assert.deepEqual(values, new Set(input.map((_, i) => i * 10)), 'every input has its output');
});

test('SendPipeline hands out offsets in batch order only', async () => {
  const sends = [deferred(), deferred(), deferred()];
  let i = 0;
  const p = new SendPipeline(() => sends[i++]!.promise, 3);
  const info = { records: 1, outputs: 1, started: 0 };
  const rec = [{ topic: 'o', value: bytes('x') }];
  for (let n = 0; n < 3; n++) p.push(rec, [{ topic: 'in', partition: 0, offset: n + 1 }], [info]);
  sends[1]!.resolve();
  sends[2]!.resolve();
  await new Promise((r) => setImmediate(r));
  p.retireSettled();
  assert.equal(p.hasAcknowledged, false, 'batches 2 and 3 wait for batch 1');
  sends[0]!.reject(new Error('boom'));
  await assert.rejects(p.drain(), /boom/);
  assert.equal(p.hasAcknowledged, false, 'nothing after the failed batch is ever committable');
  assert.throws(() => p.retireSettled(), /boom/);
  assert.equal(p.inFlight, 3);
});

/** A log whose consumers' commits wait for `gate` (each one) and then commit or throw `failure`. */
function commitGatedLog(log: Log, gate: Promise<void>, failure: Error | null) {
  let commits = 0;
  const gated: Log = {
    backend: log.backend,
    admin: log.admin,
    producer: (options) => log.producer(options),
    consumer: (options) =>
      new Proxy(log.consumer(options), {
        get(target, name, receiver) {
          if (name !== 'commit') {
            const value = Reflect.get(target, name, receiver) as unknown;
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          }
          return async (...args: Parameters<typeof target.commit>) => {
            commits++;
            await gate;
            if (failure !== null) throw failure;
            return target.commit(...args);
          };
        },
      }),
    close: () => log.close(),
  };
  return { gated, commits: () => commits };
}

test('offsets are committed in the background: a slow commit does not hold up processing', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  const release = deferred();
  const { gated, commits } = commitGatedLog(log, release.promise, null);
  const a = await run(app(), { log: gated, applicationId: 'pl3', maxBatchRecords: 2, commitIntervalMs: 0 });
  await produce(log, input.slice(0, 2));
  await eventually(() => commits() === 1, { message: 'the first commit started' });
  // With that commit still in flight, the rest is processed and produced.
  await produce(log, input.slice(2));
  const out = await readTopic(log, 'out', 10);
  assert.deepEqual(out.map((r) => JSON.parse(text(r.value)) as number), input.map((_, i) => i * 10));
  assert.equal(commits(), 1, 'one commit at a time');
  assert.equal(await committedOffset(log, 'pl3'), null, 'nothing committed yet');
  release.resolve();
  await eventually(async () => (await committedOffset(log, 'pl3')) === 10);
  await a.close();
});

test('a commit that fails in the background stops the application with its error', async (t) => {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, input);
  const { gated } = commitGatedLog(log, Promise.resolve(), new Error('commit refused: disk full'));
  const a = await run(app(), { log: gated, applicationId: 'pl4', maxBatchRecords: 2, commitIntervalMs: 0 });
  await assert.rejects(a.stopped(), /disk full/);
  assert.equal(a.state, 'failed');
  assert.equal(await committedOffset(log, 'pl4'), null);
});

/** An app that spends about 0.2 ms on each record (a slow step, e.g. a model). */
function slowApp() {
  const b = topology();
  b.stream('in', codecs)
    .mapValues((v) => {
      const until = performance.now() + 0.2;
      while (performance.now() < until);
      return v * 10;
    })
    .to('out', codecs);
  return b.build();
}

/** How many outputs of one 100-record batch each append carried (in offset order), with and without maxOutputDelayMs. */
async function appendsOfOneBatch(t: TestContext, maxOutputDelayMs: number | undefined): Promise<number[]> {
  const log = await freshLog(t);
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, Array.from({ length: 100 }, (_, i) => ({ topic: 'in', key: bytes('k'), value: bytes(String(i)) })));
  const a = await run(slowApp(), { log, applicationId: 'pl5', maxBatchRecords: 100, ...(maxOutputDelayMs === undefined ? {} : { maxOutputDelayMs }) });
  const out = await readTopic(log, 'out', 100);
  await a.close();
  assert.deepEqual(out.map((r) => JSON.parse(text(r.value)) as number), Array.from({ length: 100 }, (_, i) => i * 10), 'every output, in order');
  const sizes: number[] = [];
  for (const [i, r] of out.entries()) {
    if (i > 0 && r.appendedAt === out[i - 1]!.appendedAt) sizes[sizes.length - 1]!++;
    else sizes.push(1);
  }
  return sizes;
}

test('maxOutputDelayMs sends outputs ahead of the end of a slow batch', async (t) => {
  assert.deepEqual(await appendsOfOneBatch(t, undefined), [100], 'without it, the batch goes out in one append');
  // 100 records × 0.2 ms = 20 ms of processing, looked at every 16 records: several appends.
  assert.ok((await appendsOfOneBatch(t, 1)).length >= 4, 'with 1 ms, outputs leave while the batch is processed');
});

test('maxOutputDelayMs: the first outputs leave at the first check, later ones wait while that send is unacknowledged', async (t) => {
  // The batch runs without yielding, so the early send's acknowledgement arrives only after it:
  // under a long delay, the first 16 outputs leave at once and the other 84 with the batch.
  assert.deepEqual(await appendsOfOneBatch(t, 60_000), [16, 84]);
});

test("at-least-once outputs wait for a flush only where a durable offset commit would not cover them (Log.orderedDurability)", async (t) => {
  const log = await freshLog(t);
  assert.equal(log.orderedDurability, true, 'the embedded log flushes its writes in order');
  await createTopics(log, { in: 1, out: 1 });
  await produce(log, input);
  for (const ordered of [true, false]) {
    const acks: (string | undefined)[] = [];
    const spied: Log = {
      backend: log.backend,
      admin: log.admin,
      orderedDurability: ordered,
      producer: (options) => {
        acks.push(options?.acks);
        return log.producer(options);
      },
      consumer: (options) => log.consumer(options),
      close: () => log.close(),
    };
    const a = await run(app(), { log: spied, applicationId: `pl-acks-${ordered}` });
    await a.close();
    assert.deepEqual(acks, [ordered ? 'leader' : 'all']);
  }
});
