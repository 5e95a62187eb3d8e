/**
 * Several processes on one embedded log directory at once: a producer process and two consumer
 * processes in one group (the partitions are split between them; when one is SIGKILLed its
 * partitions move to the survivor after the session timeout, and nothing committed is lost), and a
 * tailing reader process that sees each record a writer process appends.
 *
 * Fixtures: test/fixtures/embedded/mp-producer.ts, mp-consumer.ts, mp-tail.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openLog } from '../../../src/log/index.ts';
import type { Log, ProducerRecord } from '../../../src/log/types.ts';
import { eventually, randomGroup, randomTopic, tempDir } from '../../helpers.ts';
import { type Child, spawnFixture } from './child.ts';

const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 1_500;
const HEARTBEAT_MS = 200;

/** What a consumer child has reported so far. */
interface ConsumerReport {
  /** Latest `assigned` line. */
  readonly assigned: { readonly generation: number; readonly partitions: readonly number[] } | null;
  /** Every `assigned` line, in order. */
  readonly assignments: ReadonlyArray<{ readonly generation: number; readonly partitions: readonly number[]; readonly line: number }>;
  /** Consumed records in order: [partition, offset, value, line index]. */
  readonly records: ReadonlyArray<readonly [number, number, string, number]>;
  /** Latest committed offset per partition. */
  readonly committed: ReadonlyMap<number, number>;
}

function report(child: Child): ConsumerReport {
  const assignments: Array<{ generation: number; partitions: number[]; line: number }> = [];
  const records: Array<readonly [number, number, string, number]> = [];
  const committed = new Map<number, number>();
  child.lines.forEach((line, i) => {
    const space = line.indexOf(' ');
    const kind = space < 0 ? line : line.slice(0, space);
    const rest = line.slice(space + 1);
    if (kind === 'assigned') {
      const [generation, json] = rest.split(' ') as [string, string];
      assignments.push({ generation: Number(generation), partitions: JSON.parse(json) as number[], line: i });
    } else if (kind === 'records') {
      for (const [p, o, v] of JSON.parse(rest) as Array<[number, number, string]>) records.push([p, o, v, i]);
    } else if (kind === 'committed') {
      for (const [p, o] of Object.entries(JSON.parse(rest) as Record<string, number>)) committed.set(Number(p), o);
    }
  });
  return { assigned: assignments.at(-1) ?? null, assignments, records, committed };
}

async function createTopic(path: string, topic: string, partitions: number): Promise<Log> {
  const log = await openLog({ backend: 'embedded', dir: path });
  await log.admin.createTopic(topic, { partitions });
  return log;
}

test('a group across processes splits the partitions, consumes every record, and moves a killed member’s partitions to the survivor', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-mp-group-');
  const topic = randomTopic('mp');
  const groupId = randomGroup();
  const log = await createTopic(dir.path, topic, PARTITIONS);
  t.after(() => log.close());
  t.after(() => dir.remove());

  const consumerArgs = [dir.path, topic, groupId, String(SESSION_TIMEOUT_MS), String(HEARTBEAT_MS)];
  const c1 = spawnFixture('mp-consumer.ts', consumerArgs);
  t.after(() => c1.kill());
  await c1.waitForLine((l) => l.startsWith('assigned '), { what: 'a first assignment' });
  const c2 = spawnFixture('mp-consumer.ts', consumerArgs);
  t.after(() => c2.kill());

  // Each process reports its share; the shares of one generation split the partitions.
  const split = await eventually(
    () => {
      const a1 = report(c1).assigned;
      const a2 = report(c2).assigned;
      assert.ok(a1 !== null && a2 !== null, 'both consumers assigned');
      assert.equal(a1.generation, a2.generation, 'same generation');
      assert.deepEqual([...a1.partitions, ...a2.partitions].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5], 'disjoint and complete');
      return { generation: a1.generation, c1: a1.partitions, c2: a2.partitions };
    },
    { timeoutMs: 15_000, message: 'the two consumer processes splitting the partitions' },
  );
  assert.ok(split.c1.length > 0 && split.c2.length > 0, `both members get partitions: ${JSON.stringify(split)}`);

  // The producer streams 3 000 records over a few seconds.
  const total = 3_000;
  const producer = spawnFixture('mp-producer.ts', [dir.path, topic, '0', String(total), '10', '8']);
  t.after(() => producer.kill());

  // Once the second consumer has consumed and committed something, kill it.
  await eventually(
    () => {
      const r = report(c2);
      assert.ok(r.records.length >= 100 && r.committed.size > 0, `c2 consumed ${r.records.length} records`);
      return true;
    },
    { timeoutMs: 20_000, message: 'the second consumer consuming' },
  );
  await c2.kill('SIGKILL');
  const killedAt = Date.now();
  const c2Report = report(c2);
  const linesBeforeTakeover = c1.lines.length;

  // After the session timeout the survivor owns every partition.
  const takeover = await eventually(
    () => {
      const a = report(c1).assignments.find((x) => x.line >= linesBeforeTakeover && x.partitions.length === PARTITIONS);
      assert.ok(a !== undefined, `c1 holds ${JSON.stringify(report(c1).assigned)}`);
      return a;
    },
    { timeoutMs: 15_000, message: 'the survivor taking over every partition' },
  );
  assert.ok(takeover.generation > split.generation, 'the takeover is a new generation');
  // The dead member is only noticed once its session expired (a little slack for clock rounding).
  assert.ok(Date.now() - killedAt >= SESSION_TIMEOUT_MS - 100, 'partitions moved before the session timeout');

  const done = await producer.waitForLine((l) => l.startsWith('done '), { timeoutMs: 30_000, what: 'done' });
  assert.equal(done, `done ${total}`);
  const { partitions } = await log.admin.describeTopic(topic);
  const end = new Map(partitions.map((p) => [p.partition, p.endOffset]));
  assert.equal([...end.values()].reduce((a, b) => a + b, 0), total);

  // The survivor reads every partition to its end.
  await eventually(
    () => {
      const last = new Map<number, number>();
      for (const [p, o] of report(c1).records) last.set(p, Math.max(last.get(p) ?? -1, o));
      for (const [p, e] of end) assert.equal((last.get(p) ?? -1) + 1, e, `c1 at partition ${p}`);
      return true;
    },
    { timeoutMs: 20_000, message: 'the survivor reaching the end of every partition' },
  );
  c1.send('stop');
  await c1.waitForLine((l) => l === 'closed', { what: 'closed' });
  assert.equal((await c1.exited).code, 0, c1.stderr());

  const c1Report = report(c1);
  // Every record was consumed by some member (at-least-once: some may have been consumed twice) …
  const seen = new Set<string>();
  for (const r of [...c1Report.records, ...c2Report.records]) seen.add(r[2]);
  assert.equal(seen.size, total, 'every produced record consumed');
  for (let seq = 0; seq < total; seq++) assert.ok(seen.has(String(seq)), `record ${seq} consumed`);
  // … and records read match what was written where (value seq lives at partition seq mod 6).
  for (const [p, o, v] of [...c1Report.records, ...c2Report.records]) {
    assert.equal(Number(v) % PARTITIONS, p, `record ${v} at ${p}@${o}`);
    assert.equal(Math.floor(Number(v) / PARTITIONS), o, `record ${v} at ${p}@${o}`);
  }

  // The survivor resumed each moved partition at the dead member's committed offset: not before
  // its last reported commit (committed work is not redone from scratch), not after what it had
  // consumed (nothing skipped).
  for (const p of split.c2) {
    const first = c1Report.records.find(([q, , , line]) => q === p && line > takeover.line);
    if (first === undefined) continue;
    const committedByC2 = c2Report.committed.get(p) ?? 0;
    const consumedByC2 = Math.max(-1, ...c2Report.records.filter(([q]) => q === p).map(([, o]) => o)) + 1;
    assert.ok(first[1] >= committedByC2, `partition ${p}: the survivor started at ${first[1]}, before the commit ${committedByC2}`);
    assert.ok(first[1] <= consumedByC2, `partition ${p}: the survivor started at ${first[1]}, after ${consumedByC2} consumed: records lost`);
  }
  // Each partition's records reach the survivor in offset order, without gaps, after the takeover.
  for (const p of end.keys()) {
    const offsets = c1Report.records.filter(([q, , , line]) => q === p && line > takeover.line).map(([, o]) => o);
    offsets.forEach((o, i) => i > 0 && assert.equal(o, offsets[i - 1]! + 1, `partition ${p}: offsets in order without gaps`));
  }

  // The survivor's final commit covers everything.
  const check = log.consumer({ groupId });
  const committed = await check.committed([...end.keys()].map((partition) => ({ topic, partition })));
  assert.deepEqual(
    committed.map((c) => c.offset),
    [...end.values()],
    'the group committed every partition to its end',
  );
  await check.close();
});

test('a tailing reader process sees each record a writer process appends, once and in order', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir('sluice-mp-tail-');
  const topic = randomTopic('tail');
  const partitions = 3;
  const log = await createTopic(dir.path, topic, partitions);
  t.after(() => log.close());
  t.after(() => dir.remove());
  // Records from before the reader started are not tailed.
  const old: ProducerRecord[] = Array.from({ length: 30 }, (_, i) => ({ topic, partition: i % partitions, value: Buffer.from(`old-${i}`) }));
  await log.producer().send(old);

  const reader = spawnFixture('mp-tail.ts', [dir.path, topic]);
  t.after(() => reader.kill());
  const ready = await reader.waitForLine((l) => l.startsWith('ready '), { what: 'ready' });
  assert.deepEqual(JSON.parse(ready.slice('ready '.length)), [10, 10, 10], 'the reader starts at the end');

  const total = 1_500;
  const writer = spawnFixture('mp-producer.ts', [dir.path, topic, '0', String(total), '5', '2']);
  t.after(() => writer.kill());
  await writer.waitForLine((l) => l.startsWith('done '), { timeoutMs: 40_000, what: 'done' });
  assert.equal((await writer.exited).code, 0, writer.stderr());

  const records = (): Array<[number, number, string]> =>
    reader.lines
      .filter((l) => l.startsWith('rec '))
      .map((l) => {
        const [, p, o, v] = l.split(' ') as [string, string, string, string];
        return [Number(p), Number(o), Buffer.from(v, 'hex').toString()];
      });
  await eventually(
    () => {
      assert.equal(records().length, total, 'records tailed');
      return true;
    },
    { timeoutMs: 20_000, message: 'the reader seeing every record' },
  );
  reader.send('stop');
  assert.equal((await reader.exited).code, 0, reader.stderr());
  const got = records();
  assert.equal(got.length, total, 'no record tailed twice');
  const next = new Map<number, number>([
    [0, 10],
    [1, 10],
    [2, 10],
  ]);
  for (const [p, o, v] of got) {
    assert.equal(o, next.get(p), `partition ${p}: offsets in order, each once`);
    next.set(p, o + 1);
    assert.equal(Number(v), (o - 10) * partitions + p, `value at ${p}@${o}`);
  }
});
