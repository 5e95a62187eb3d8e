/**
 * The embedded log's batch format round-trips every record field: null and empty keys, empty
 * values, headers shared by several records, headers that change from record to record, explicit
 * and default timestamps, and the offset deltas compaction keeps; a cursor hands the records out
 * a few at a time, skipping those before the offset asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchCursor, decodeBatch, encodeBatch, type BatchEntry } from '../../../src/log/embedded/batch.ts';
import type { LogRecord } from '../../../src/log/types.ts';
import { bytes, text } from '../../helpers.ts';

const shared = { trace: bytes('t-1') };
const entries: BatchEntry[] = [
  { key: bytes('a'), value: bytes('one'), timestamp: 10, headers: shared },
  { key: null, value: bytes('two'), headers: shared },
  { key: new Uint8Array(0), value: new Uint8Array(0), timestamp: 12 },
  { key: bytes('d'), value: bytes('four'), timestamp: 13, headers: { 'é': bytes('x'), empty: new Uint8Array(0) } },
  { key: bytes('e'), value: bytes('five'), timestamp: 14, headers: shared },
];
const meta = { topic: 't', partition: 3, baseOffset: 100 };

function view(r: LogRecord): unknown {
  return {
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : text(r.key),
    value: text(r.value),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, text(v)])),
  };
}

test('a batch round-trips keys, values, timestamps and headers (shared, changing, none)', () => {
  const out: LogRecord[] = [];
  assert.equal(decodeBatch(encodeBatch(entries, { defaultTimestamp: 99 }), meta, 0, 100, out), 5);
  assert.deepEqual(out.map(view), [
    { offset: 100, timestamp: 10, key: 'a', value: 'one', headers: { trace: 't-1' } },
    { offset: 101, timestamp: 99, key: null, value: 'two', headers: { trace: 't-1' } },
    { offset: 102, timestamp: 12, key: '', value: '', headers: {} },
    { offset: 103, timestamp: 13, key: 'd', value: 'four', headers: { 'é': 'x', empty: '' } },
    { offset: 104, timestamp: 14, key: 'e', value: 'five', headers: { trace: 't-1' } },
  ]);
});

test('a range of entries with compaction offset deltas keeps those offsets', () => {
  const out: LogRecord[] = [];
  decodeBatch(encodeBatch(entries, { from: 1, to: 4, offsetDeltas: [1, 5, 9] }), meta, 0, 100, out);
  assert.deepEqual(
    out.map((r) => [r.offset, text(r.value)]),
    [
      [101, 'two'],
      [105, ''],
      [109, 'four'],
    ],
  );
});

test('a cursor hands out the records a few at a time from the offset asked for', () => {
  const cursor = new BatchCursor(encodeBatch(entries), meta);
  const first: LogRecord[] = [];
  assert.equal(cursor.take(101, 2, first), 2);
  assert.deepEqual(
    first.map((r) => r.offset),
    [101, 102],
  );
  assert.equal(cursor.done, false);
  const rest: LogRecord[] = [];
  assert.equal(cursor.take(103, 10, rest), 2);
  assert.deepEqual(
    rest.map((r) => r.offset),
    [103, 104],
  );
  assert.equal(cursor.done, true);
});
