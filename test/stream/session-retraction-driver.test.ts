/**
 * Session windows retract the sessions a record replaces (test driver): a merge or an extension
 * sends a delete (value null, header `sluice.tombstone`) for each replaced session's windowed key
 * before the new session's update, the store and its changelog drop them, suppression never emits
 * them, and a retraction written to a topic is a tombstone that a source reads back as null.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonCodec, stringCodec, type Codec } from '../../src/log/index.ts';
import { SessionWindows, TOMBSTONE_HEADER, topology, TopologyTestDriver, untilWindowCloses, windowedCodec, type Windowed } from '../../src/stream/index.ts';

const key = stringCodec;
const num = jsonCodec<number>();
const wkey = windowedCodec(key);
const updatesCodecs = { key: wkey, value: num as Codec<number | null> } as const;
const CHANGELOG = 'test-app-sessions-changelog';

const show = (w: Windowed<string>, value: number | null): string => (value === null ? `-${w.key}[${w.start},${w.end}]` : `${w.key}[${w.start},${w.end}]=${value}`);

/** A session count (gap 10) whose updates go to `updates`, its finals to `finals`. */
function sessionCount(graceMs: number) {
  const b = topology();
  const counts = b.stream('in', { key, value: num }).groupByKey().windowedBy(SessionWindows.withInactivityGap(10).grace(graceMs)).count({ name: 'sessions' });
  counts.toStream().to('updates');
  counts.suppress(untilWindowCloses()).toStream().to('finals');
  return new TopologyTestDriver(b.build());
}

async function pipe(driver: TopologyTestDriver, records: readonly (readonly [string, number])[]): Promise<void> {
  const input = driver.input<string, number>('in');
  for (const [k, ts] of records) await input.pipe(k, ts, { timestamp: ts });
}

function storeOf(driver: TopologyTestDriver): string[] {
  return [...driver.store<Windowed<string>, number>('sessions').entries()].map(([w, n]) => show(w, n)).sort();
}

/** The windowed keys whose latest changelog record is a tombstone, and those with a live value. */
function changelogState(driver: TopologyTestDriver): { live: string[]; deleted: string[] } {
  const latest = new Map<string, boolean>();
  for (const r of driver.records(CHANGELOG)) {
    if (r.key === null || r.key.length === 1) continue; // the store's stream-time record
    const w = wkey.decode(r.key);
    latest.set(`${w.key}[${w.start},${w.end}]`, r.headers[TOMBSTONE_HEADER] === undefined);
  }
  const live = [...latest].filter(([, on]) => on).map(([k]) => k).sort();
  const deleted = [...latest].filter(([, on]) => !on).map(([k]) => k).sort();
  return { live, deleted };
}

test('a record bridging two sessions retracts both old keys (tombstones on the update topic) before the merged result', async () => {
  const driver = sessionCount(100);
  await pipe(driver, [['a', 0], ['a', 5], ['a', 20], ['a', 12]]);
  const updates = driver.output('updates', updatesCodecs).readRecords();
  assert.deepEqual(
    updates.map((r) => show(r.key!, r.value)),
    ['a[0,0]=1', '-a[0,0]', 'a[0,5]=2', 'a[20,20]=1', '-a[0,5]', '-a[20,20]', 'a[0,20]=4'],
    'a@5 extends [0,0]; a@12 is within the gap of [0,5] and [20,20]: both are retracted, then [0,20]',
  );
  const raw = driver.records('updates');
  for (const [i, r] of updates.entries()) {
    const retraction = r.value === null;
    assert.equal(raw[i]!.headers[TOMBSTONE_HEADER] !== undefined, retraction, `record ${i}: only retractions carry ${TOMBSTONE_HEADER}`);
    if (retraction) {
      assert.equal(raw[i]!.value.length, 0, 'a retraction is written as a tombstone: an empty value');
      assert.equal(r.timestamp, r.key!.end, 'a retraction has the retracted session\'s end as event time');
    }
  }
  assert.deepEqual(storeOf(driver), ['a[0,20]=4']);
  assert.deepEqual(changelogState(driver), { live: ['a[0,20]'], deleted: ['a[0,0]', 'a[0,5]', 'a[20,20]'] });
});

test('a record inside a session only updates it; one that moves an end retracts the old bounds', async () => {
  const driver = sessionCount(100);
  await pipe(driver, [['a', 10], ['a', 15], ['a', 12], ['a', 3], ['b', 11]]);
  assert.deepEqual(driver.output('updates', updatesCodecs).readKeyValues().map((r) => show(r.key!, r.value)), [
    'a[10,10]=1',
    '-a[10,10]', 'a[10,15]=2', // the end moves
    'a[10,15]=3', // inside: same bounds, no retraction
    '-a[10,15]', 'a[3,15]=4', // the start moves
    'b[11,11]=1', // another key is untouched
  ]);
  assert.deepEqual(storeOf(driver), ['a[3,15]=4', 'b[11,11]=1']);
});

test('suppression emits only sessions that were never retracted, each once', async () => {
  const driver = sessionCount(20);
  // [0,5] and [20,20] merge into [0,20] through a@12; b@40 is alone; a@100 and b@100 close everything before them.
  await pipe(driver, [['a', 0], ['a', 5], ['a', 20], ['a', 12], ['b', 40], ['a', 100], ['b', 100]]);
  const finals = driver.output('finals', { key: wkey, value: num }).readKeyValues().map((r) => show(r.key!, r.value));
  assert.deepEqual(finals, ['a[0,20]=4', 'b[40,40]=1']);
  assert.equal(driver.records('finals').filter((r) => r.headers[TOMBSTONE_HEADER] !== undefined).length, 0);
});

test('restart: tasks restored from the changelog keep merged-away sessions out (store, later merges, finals)', async () => {
  const driver = sessionCount(20);
  await pipe(driver, [['a', 0], ['a', 18], ['a', 9]]); // [0,0] and [18,18] merge into [0,18]
  await driver.restartTasks();
  // a@25 extends [0,18]; were [18,18] back it would be merged in too (a count of 5, and one more retraction)
  await pipe(driver, [['a', 25]]);
  assert.deepEqual(storeOf(driver), ['a[0,25]=4'], 'the restored store had only the merged session');
  await pipe(driver, [['a', 200]]);
  const updates = driver.output('updates', updatesCodecs).readKeyValues().map((r) => show(r.key!, r.value));
  assert.deepEqual(updates, ['a[0,0]=1', 'a[18,18]=1', '-a[0,0]', '-a[18,18]', 'a[0,18]=3', '-a[0,18]', 'a[0,25]=4', 'a[200,200]=1']);
  assert.deepEqual(driver.output('finals', { key: wkey, value: num }).readKeyValues().map((r) => show(r.key!, r.value)), ['a[0,25]=4']);
});

test('a retraction written to a topic reads back as a null value with the tombstone header (source and repartition)', async () => {
  const b = topology();
  const counts = b.stream('in', { key, value: num }).groupByKey().windowedBy(SessionWindows.withInactivityGap(10).grace(100)).count({ name: 'sessions' });
  counts.toStream().to('updates');
  const deletes = (r: { readonly value: number | null }): boolean => r.value === null;
  b.stream('updates', { key: wkey, value: num as Codec<number | null> })
    .filter(deletes)
    .mapValues((_, r) => `${r.key.key}[${r.key.start},${r.key.end}] ${r.headers[TOMBSTONE_HEADER] === undefined ? 'no header' : 'tombstone'}`)
    .to('read-back', { key: wkey, value: stringCodec });
  counts.toStream().repartition({ name: 'by-window' }).filter(deletes).mapValues(() => 'repartitioned').to('repartitioned', { key: wkey, value: stringCodec });
  const driver = new TopologyTestDriver(b.build());
  await pipe(driver, [['a', 0], ['a', 20], ['a', 10]]);
  assert.deepEqual(driver.output('read-back', { key: wkey, value: stringCodec }).readValues(), ['a[0,0] tombstone', 'a[20,20] tombstone']);
  assert.equal(driver.output('repartitioned', { key: wkey, value: stringCodec }).readValues().length, 2);
});
