/** Event-time windows in the test driver: tumbling, hopping, sliding, session; grace, lateness, suppression, restore. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec } from '../../src/log/index.ts';
import {
  LATE_HEADER,
  SessionWindows,
  SlidingWindows,
  TimeWindows,
  topology,
  TopologyTestDriver,
  untilWindowCloses,
  windowedCodec,
  type Windowed,
  type Windows,
} from '../../src/stream/index.ts';
import type { Codec } from '../../src/log/index.ts';
import { encodeWindowedKey, rememberWindowedKey } from '../../src/stream/window/codec.ts';
import { expectCode, text } from '../helpers.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const codecs = { key, value: num } as const;
const wkey = windowedCodec(key);
/** Update streams of sessions carry retractions (tombstones), read as null. */
const outCodecs = { key: wkey, value: num as Codec<number | null> } as const;

/** A counting topology over `windows`: updates to `updates`, finals to `finals`, late records to `late`. */
function counting(windows: Windows) {
  const b = topology();
  const counts = b.stream('in', codecs).groupByKey().windowedBy(windows).count({ name: 'counts', lateTopic: 'late' });
  counts.toStream().to('updates');
  counts.suppress(untilWindowCloses()).toStream().to('finals');
  return b.build();
}

/** `a[0,5]=2` for an update, `-a[0,5]` for a retraction (a null value). */
const fmt = (r: { key: Windowed<string> | null; value: number | null }): string =>
  r.value === null ? `-${r.key!.key}[${r.key!.start},${r.key!.end}]` : `${r.key!.key}[${r.key!.start},${r.key!.end}]=${r.value}`;

async function drive(windows: Windows, records: readonly (readonly [string, number])[], restartAt: number | null = null) {
  const driver = new TopologyTestDriver(counting(windows));
  const input = driver.input<string, number>('in');
  for (const [i, [k, ts]] of records.entries()) {
    if (i === restartAt) await driver.restartTasks();
    await input.pipe(k, ts, { timestamp: ts });
  }
  return {
    driver,
    updates: driver.output('updates', outCodecs).readKeyValues().map(fmt),
    finals: driver.output('finals', outCodecs).readKeyValues().map(fmt),
    late: driver.output('late', codecs).readKeyValues().map((r) => `${r.key}@${r.value}`),
    store: [...driver.store<Windowed<string>, number>('counts').entries()].map(([w, v]) => fmt({ key: w, value: v })).sort(),
    lateCount: driver.metrics().reduce((n, m) => n + m.lateRecords, 0),
  };
}

test('tumbling: [start, end) — a record at exactly the end belongs to the next window; every update emitted', async () => {
  const r = await drive(TimeWindows.of(10).grace(100), [['a', 0], ['a', 9], ['a', 10], ['b', 19], ['a', 5]]);
  assert.deepEqual(r.updates, ['a[0,10]=1', 'a[0,10]=2', 'a[10,20]=1', 'b[10,20]=1', 'a[0,10]=3']);
  assert.deepEqual(r.finals, [], 'nothing closed yet: stream time 19 < 10 + grace 100');
  assert.deepEqual(r.store, ['a[0,10]=3', 'a[10,20]=1', 'b[10,20]=1']);
});

test('tumbling grace: a record is accepted while stream time < end + grace, late from end + grace on (side output, counted)', async () => {
  const r = await drive(TimeWindows.of(10).grace(5), [['a', 14], ['a', 9], ['b', 15], ['a', 8], ['a', 16]]);
  // a@9 at stream time 14: window [0,10) closes at 15 → accepted; a@8 at stream time 15 → late.
  assert.deepEqual(r.updates, ['a[10,20]=1', 'a[0,10]=1', 'b[10,20]=1', 'a[10,20]=2']);
  assert.deepEqual(r.late, ['a@8']);
  assert.equal(r.lateCount, 1);
  assert.deepEqual(r.finals, ['a[0,10]=1'], 'the window closed once stream time reached 15');
  const lateRecord = r.driver.records('late')[0]!;
  assert.equal(text(lateRecord.headers[LATE_HEADER]!), 'all');
  assert.equal(lateRecord.timestamp, 8, 'late records keep their event time');
});

test('hopping: each record in size/advance windows, none before 0; a record missing a closed window is late "partial"', async () => {
  const r = await drive(TimeWindows.of(10).advanceBy(5), [['a', 3], ['a', 7], ['a', 12], ['a', 9]]);
  // 3: [0,10) only ([-5,5) would start before 0); 7: [0,10) and [5,15); 12: [5,15) and [10,20) after
  // [0,10) closed at stream time 10; 9: [0,10) is closed, [5,15) still open.
  assert.deepEqual(r.updates, ['a[0,10]=1', 'a[0,10]=2', 'a[5,15]=1', 'a[5,15]=2', 'a[10,20]=1', 'a[5,15]=3']);
  assert.deepEqual(r.finals, ['a[0,10]=2']);
  assert.deepEqual(r.late, ['a@9']);
  assert.equal(text(r.driver.records('late')[0]!.headers[LATE_HEADER]!), 'partial');
  assert.equal(r.lateCount, 1);
});

test('suppress(untilWindowCloses()): each final exactly once when stream time passes end + grace; the store then drops it', async () => {
  const r = await drive(TimeWindows.of(10).grace(5), [['a', 1], ['a', 2], ['b', 3], ['a', 11], ['a', 14], ['b', 15], ['a', 16], ['b', 29], ['a', 30], ['a', 31]]);
  assert.deepEqual(r.finals, ['a[0,10]=2', 'b[0,10]=1', 'a[10,20]=3', 'b[10,20]=1']);
  assert.equal(r.updates.length, 10, 'without suppression every update is emitted');
  assert.deepEqual(r.store, ['a[30,40]=2', 'b[20,30]=1'], 'closed windows are dropped (bounded memory)');
  const tombstones = r.driver.records('test-app-counts-changelog').filter((c) => c.headers['sluice.tombstone'] !== undefined);
  assert.equal(tombstones.length, 4, 'closed windows leave the changelog as tombstones');
});

/** Kafka Streams' sliding windows by definition: each record's left window, and its right window when a later record is within d. */
function slidingOracle(timestamps: readonly number[], d: number): string[] {
  const out = new Set<string>();
  const count = (s: number, e: number): number => timestamps.filter((t) => t >= s && t <= e).length;
  for (const t of timestamps) {
    out.add(`a[${t - d},${t}]=${count(t - d, t)}`);
    if (timestamps.some((u) => u > t && u <= t + 1 + d)) out.add(`a[${t + 1},${t + 1 + d}]=${count(t + 1, t + 1 + d)}`);
  }
  return [...out].sort();
}

test('sliding: windows are created by the records (left and right windows), inclusive ends, in and out of order', async () => {
  const d = 10;
  const inOrder = await drive(SlidingWindows.ofTimeDifference(d).grace(1000), [['a', 100], ['a', 105], ['a', 110], ['a', 111]]);
  assert.deepEqual(inOrder.updates, [
    'a[90,100]=1', // 100: its left window
    'a[95,105]=2', 'a[101,111]=1', // 105: left window from the previous one; 100's right window
    'a[101,111]=2', 'a[100,110]=3', 'a[106,116]=1', // 110: updates [101,111]; left window; 105's right window
    'a[101,111]=3', 'a[106,116]=2', 'a[111,121]=1', // 111: [101,111] is its left window; 110's right window
  ]);
  assert.deepEqual(inOrder.store, slidingOracle([100, 105, 110, 111], d));
  assert.ok(inOrder.store.includes('a[100,110]=3') && inOrder.store.includes('a[101,111]=3'), 'a record at exactly start or end is inside the window');
  // out of order, and random sequences, against the definition
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  for (let round = 0; round < 30; round++) {
    const ts = Array.from({ length: 12 }, () => 1000 + rand(60));
    const r = await drive(SlidingWindows.ofTimeDifference(d).grace(1000), ts.map((t) => ['a', t] as const));
    assert.deepEqual(r.store, slidingOracle(ts, d), `timestamps ${ts.join(',')}`);
    assert.equal(r.lateCount, 0);
  }
});

test('sliding lateness and suppression: a record is late when ts + grace < stream time; finals once per window', async () => {
  const r = await drive(SlidingWindows.ofTimeDifference(10).grace(5), [['a', 100], ['a', 104], ['a', 120], ['a', 115], ['a', 114], ['a', 200]]);
  assert.deepEqual(r.late, ['a@114'], 'a@115 at stream time 120 is within grace 5, a@114 is not');
  assert.equal(r.lateCount, 1);
  const finals = r.finals;
  assert.equal(new Set(finals.map((f) => f.split('=')[0])).size, finals.length, 'no window is emitted twice');
  assert.ok(finals.includes('a[94,104]=2') && finals.includes('a[110,120]=2') && finals.includes('a[105,115]=1'));
});

test('sessions: records within the gap (inclusive) join, a bridging record merges two sessions, a larger gap splits', async () => {
  const r = await drive(SessionWindows.withInactivityGap(10).grace(100), [['a', 0], ['a', 5], ['a', 30], ['b', 12], ['a', 20], ['a', 15], ['a', 46]]);
  // Each session a record replaces is retracted (a null value) before the replacing session's update.
  assert.deepEqual(r.updates, ['a[0,0]=1', '-a[0,0]', 'a[0,5]=2', 'a[30,30]=1', 'b[12,12]=1', '-a[30,30]', 'a[20,30]=2', '-a[0,5]', '-a[20,30]', 'a[0,30]=5', 'a[46,46]=1']);
  assert.deepEqual(r.store, ['a[0,30]=5', 'a[46,46]=1', 'b[12,12]=1'], 'merged-away sessions leave the store; 46 - 30 > 10 splits');
  const merged = r.driver.records('test-app-counts-changelog').filter((c) => c.headers['sluice.tombstone'] !== undefined);
  assert.equal(merged.length, 4, 'replaced sessions a[0,0], a[30,30], a[0,5] and a[20,30] are tombstoned');
});

test('sessions: lateness by merged end + grace, final once a session can no longer grow (end + gap + grace)', async () => {
  const r = await drive(SessionWindows.withInactivityGap(10).grace(0), [['a', 100], ['a', 95], ['a', 84], ['a', 111], ['a', 121], ['a', 131], ['a', 142]]);
  // 95 merges with [100,100] (merged end 100 ≥ stream time) → ok; 84 is 11 from 95, alone it ends at 84 < 100 → late.
  assert.deepEqual(r.late, ['a@84']);
  assert.deepEqual(r.finals, ['a[95,100]=2', 'a[111,131]=3']);
  assert.deepEqual(r.store, ['a[142,142]=1']);
});

test('reduce() and aggregate() on windows; aggregate over sessions needs a merger', async () => {
  const b = topology();
  const g = b.stream('in', codecs).groupByKey();
  g.windowedBy(TimeWindows.of(10)).reduce((x, y) => Math.max(x, y), { name: 'max' }).toStream().to('max', { key: wkey, value: num });
  const sum = jsonCodec<{ n: number; sum: number }>();
  g.windowedBy(SessionWindows.withInactivityGap(6))
    .aggregate(() => ({ n: 0, sum: 0 }), (a, v) => ({ n: a.n + 1, sum: a.sum + v }), { value: sum, name: 'sess', merger: (x, y) => ({ n: x.n + y.n, sum: x.sum + y.sum }) })
    .toStream()
    .to('sess');
  const driver = new TopologyTestDriver(b.build());
  for (const [v, ts] of [[3, 1], [7, 2], [5, 8], [1, 12]] as const) await driver.input<string, number>('in').pipe('a', v, { timestamp: ts });
  assert.deepEqual(driver.output('max', outCodecs).readValues(), [3, 7, 7, 1]);
  const sessions = driver.output('sess', { key: wkey, value: sum as Codec<{ n: number; sum: number } | null> }).readKeyValues();
  assert.deepEqual(
    sessions.map((r) => `${r.key!.start}-${r.key!.end}:${r.value === null ? 'retracted' : `${r.value.sum}/${r.value.n}`}`),
    ['1-1:3/1', '1-1:retracted', '1-2:10/2', '1-2:retracted', '1-8:15/3', '1-8:retracted', '1-12:16/4'],
  );
  const bad = topology();
  await expectCode(() => bad.stream('in', codecs).groupByKey().windowedBy(SessionWindows.withInactivityGap(5)).aggregate(() => 0, (a) => a, { value: num }), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'merger');
});

test('a record whose aggregation fails part-way emits nothing, and the next record emits only its own updates', async () => {
  const b = topology({ errors: { onError: 'skip' } });
  let adds = 0;
  b.stream('in', codecs)
    .groupByKey()
    .windowedBy(TimeWindows.of(10).advanceBy(5))
    .aggregate(
      () => 0,
      (sum, v) => {
        // The record of value 99 fails in its second window, after its first was updated.
        if (v === 99 && ++adds === 2) throw new Error('adder failed');
        return sum + v;
      },
      { value: num, name: 'sums' },
    )
    .toStream()
    .to('updates', { key: wkey, value: num });
  const driver = new TopologyTestDriver(b.build());
  const input = driver.input<string, number>('in');
  await input.pipe('a', 1, { timestamp: 7 });
  await input.pipe('a', 99, { timestamp: 8 });
  await input.pipe('a', 2, { timestamp: 9 });
  // The failed record's first window kept its update (the store is not rolled back: 1 + 99), but
  // that update is not emitted, not even with the next record's.
  assert.deepEqual(driver.output('updates', outCodecs).readKeyValues().map(fmt), ['a[0,10]=1', 'a[5,15]=1', 'a[0,10]=102', 'a[5,15]=3']);
  assert.equal(driver.metrics()[0]!.skipped, 1);
});

test('invalid windows and options are refused at the boundary', async () => {
  await expectCode(() => TimeWindows.of(0), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'sizeMs');
  await expectCode(() => TimeWindows.of(10).advanceBy(11), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'advanceBy');
  await expectCode(() => TimeWindows.of(10).grace(-1), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'grace');
  await expectCode(() => SlidingWindows.ofTimeDifference(1.5), 'SLUICE_STREAM_INVALID_TOPOLOGY');
  await expectCode(() => SessionWindows.withInactivityGap(0), 'SLUICE_STREAM_INVALID_TOPOLOGY');
  const b = topology();
  const g = b.stream('in', codecs).groupByKey();
  await expectCode(() => g.windowedBy({ sizeMs: 10 } as never), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'windowedBy');
  await expectCode(() => g.windowedBy(TimeWindows.of(10)).count().suppress({} as never), 'SLUICE_STREAM_INVALID_TOPOLOGY', 'untilWindowCloses');
});

test('restore: a restart mid-stream (tasks rebuilt from the changelog) gives identical updates, finals and late records', async () => {
  let seed = 11;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const records = Array.from({ length: 80 }, (_, i) => [`k${rand(3)}`, 1000 + i * 3 - rand(25)] as const);
  const kinds: Windows[] = [
    TimeWindows.of(20).grace(10),
    TimeWindows.of(20).advanceBy(5).grace(5),
    SlidingWindows.ofTimeDifference(15).grace(10),
    SessionWindows.withInactivityGap(6).grace(8),
  ];
  for (const windows of kinds) {
    const straight = await drive(windows, records);
    assert.ok(straight.finals.length > 0 && straight.lateCount > 0, `${windows.kind}: the sequence closes windows and has late records`);
    for (const at of [17, 40, 63]) {
      const restarted = await drive(windows, records, at);
      assert.deepEqual(restarted.updates, straight.updates, `${windows.kind}, restart before record ${at}: updates`);
      assert.deepEqual(restarted.finals, straight.finals, `${windows.kind}, restart before record ${at}: finals`);
      assert.deepEqual(restarted.late, straight.late, `${windows.kind}, restart before record ${at}: late records`);
      assert.deepEqual(restarted.store, straight.store);
    }
  }
});

test("windowedCodec reuses the bytes a window store just logged only for that key and window under the same inner codec", () => {
  const logged = new Uint8Array([0xaa]); // not a real encoding: shows when the remembered bytes are returned
  rememberWindowedKey(key, 'a', 0, 10, logged);
  assert.equal(wkey.encode({ key: 'a', start: 0, end: 10 }), logged, 'the window just logged');
  const fresh = (k: string, start: number, end: number): Uint8Array => encodeWindowedKey(key.encode(k), start, end);
  assert.deepEqual(wkey.encode({ key: 'a', start: 10, end: 20 }), fresh('a', 10, 20), 'another window');
  assert.deepEqual(wkey.encode({ key: 'b', start: 0, end: 10 }), fresh('b', 0, 10), 'another key');
  const otherInner: Codec<string> = { name: 'upper', encode: (s) => key.encode(s.toUpperCase()), decode: (b) => key.decode(b) };
  assert.deepEqual(windowedCodec(otherInner).encode({ key: 'a', start: 0, end: 10 }), fresh('A', 0, 10), 'another inner codec');

  // A codec that tells -0 from 0: -0 is never taken for a remembered 0, nor remembered itself.
  const f64: Codec<number> = { name: 'f64', encode: (n) => new Uint8Array(new Float64Array([n]).buffer), decode: (b) => new Float64Array(b.slice().buffer)[0]! };
  const wf64 = windowedCodec(f64);
  rememberWindowedKey(f64, 0, 0, 10, logged);
  assert.deepEqual(wf64.encode({ key: -0, start: 0, end: 10 }), encodeWindowedKey(f64.encode(-0), 0, 10));
  rememberWindowedKey(f64, -0, 0, 10, logged);
  assert.deepEqual(wf64.encode({ key: -0, start: 0, end: 10 }), encodeWindowedKey(f64.encode(-0), 0, 10));
});
