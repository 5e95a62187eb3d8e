/**
 * The CSV reader behind `sluice detect` and the NAB reader: separators, quotes, decimal commas,
 * timestamp forms, NaN for missing cells, and errors naming file, line and column.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSluiceError } from '../../../src/errors.ts';
import { parseCsvTable, splitCsvLine } from '../../../src/model/eval/csv-table.ts';
import { parseTimestamp } from '../../../src/model/eval/timestamps.ts';

test('timestamps: ISO text (UTC unless zoned) and epoch seconds or milliseconds', () => {
  const t = Date.UTC(2014, 6, 1, 0, 30, 0);
  assert.equal(parseTimestamp('2014-07-01 00:30:00'), t);
  assert.equal(parseTimestamp('2014-07-01T00:30:00Z'), t);
  assert.equal(parseTimestamp('2014-07-01 00:30:00.000000'), t);
  assert.equal(parseTimestamp('2014-07-01T02:30:00+02:00'), t);
  assert.equal(parseTimestamp('2014-06-30T19:30:00-0500'), t);
  assert.equal(parseTimestamp(String(t / 1000)), t);
  assert.equal(parseTimestamp(String(t)), t);
  assert.ok(Number.isNaN(parseTimestamp('yesterday-ish')));
  assert.ok(Number.isNaN(parseTimestamp('2014-13-01 00:00:00')));
});

test('comma CSV with quotes; every other numeric column is read; text columns are skipped', () => {
  const table = parseCsvTable('ts,temp,"site, name",pressure\n1404174600,20.5,"a, ""b""",1013\n1404174660,,x,NaN\n\n1404174720,21,y,abc\n', 'm.csv');
  assert.equal(table.separator, ',');
  assert.equal(table.timestampColumn, 'ts');
  assert.deepEqual(table.columns, ['temp', 'pressure']);
  assert.deepEqual([...table.values.temp!], [20.5, Number.NaN, 21]);
  assert.deepEqual([...table.values.pressure!], [1013, Number.NaN, Number.NaN]);
  assert.deepEqual([...table.lineNumbers], [2, 3, 5]);
  assert.equal(table.timestamps[1], 1404174660_000);
  assert.deepEqual(splitCsvLine('"a, ""b""",1', ','), ['a, "b"', '1']);
});

test('semicolon CSV with decimal commas and a chosen column list', () => {
  const table = parseCsvTable('\uFEFFtime;a;b;c\r\n2024-01-01T00:00:00Z;1,5;2;x\r\n2024-01-01T00:01:00Z;-0,25;3;y\r\n', 's.csv', { columns: ['b', 'a'] });
  assert.equal(table.separator, ';');
  assert.deepEqual(table.columns, ['b', 'a']);
  assert.deepEqual([...table.values.a!], [1.5, -0.25]);
  assert.equal(table.headerLine, 'time;a;b;c');
  assert.equal(table.lines[1], '2024-01-01T00:01:00Z;-0,25;3;y');
});

test('bad files are EVAL_INVALID_DATA errors naming the file, line and column', () => {
  const bad = (text: string, pattern: RegExp, options = {}): void =>
    assert.throws(() => parseCsvTable(text, 'in.csv', options), (e) => isSluiceError(e, 'SLUICE_EVAL_INVALID_DATA') && pattern.test(e.message), pattern.source);
  bad('timestamp,v\n2024-01-01,1\nsoon,2\n', /^in\.csv:3: column "timestamp": "soon" is not a timestamp/);
  bad('timestamp,v\n2024-01-01,1,3\n', /^in\.csv:2: 3 cells, but the header has 2/);
  bad('timestamp,v\n2024-01-01,1\n', /^in\.csv: no numeric column "w" in the header \(columns: timestamp, v\)/, { columns: ['w'] });
  bad('timestamp,name\n2024-01-01,a\n', /^in\.csv: no numeric column found/);
  bad('\n\n', /^in\.csv: the file is empty/);
});
